package localcluster

import (
	"context"
	"crypto/rand"
	"regexp"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// freeze stops (SIGSTOP) or continues (SIGCONT) party i, as docker pause
// and unpause freeze its cgroup: the kernel keeps taking its peers'
// requests into its sockets, the process reads none of them.
func freeze(t *testing.T, c *Cluster, i int, sig syscall.Signal) {
	t.Helper()
	c.mu.Lock()
	cmd := c.procs[i-1]
	c.mu.Unlock()
	if cmd == nil {
		t.Fatalf("party %d is not running", i)
	}
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// A party frozen while its peers decrypt is late once it runs again: the
// share requests it finds waiting belong to sessions that moved on
// without it, and it logs the real late sender's line for each
// coordinator that no longer waits; it takes part in new sessions at once.
func TestAFrozenPartyIsLateForTheSessionsThatMovedOn(t *testing.T) {
	g := NewWithT(t)
	c := start(t, 4, 1)
	ctx := context.Background()
	ct, _ := c.Key.Encrypt(rand.Reader, 77)

	freeze(t, c, 3, syscall.SIGSTOP)
	// Party 1's session asks party 3, gets t+1 shares from 1, 2 and 4,
	// and completes without it.
	g.Expect(c.Decrypt(ctx, 1, ct)).To(Equal(uint64(77)))
	freeze(t, c, 3, syscall.SIGCONT)

	late := regexp.MustCompile(`WARN kms_server: Failed to send message to SingleSet\(1\) party since it claims the session is already completed`)
	g.Eventually(func() string { return logOf(c, 3) }, 10*time.Second, 100*time.Millisecond).Should(MatchRegexp(late.String()))
	g.Expect(c.Decrypt(ctx, 3, ct)).To(Equal(uint64(77)))
	for _, i := range []int{1, 2, 4} {
		g.Expect(logOf(c, i)).NotTo(MatchRegexp(late.String()), "party %d was never late", i)
	}
}
