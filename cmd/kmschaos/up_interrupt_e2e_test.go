package main

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"

	"github.com/kmschaos/kmschaos/internal/dockertest"
)

// TestUpExitsZeroOnInterrupt is Ctrl-C on 'kmschaos up' (what make demo
// runs): once the cluster is up, SIGINT tears it down and up exits 0 —
// Ctrl-C is how the user is told to stop it, not a failure — and nothing
// of the run is left on the engine. n=4 to keep it short.
func TestUpExitsZeroOnInterrupt(t *testing.T) {
	dockertest.Require(t)
	g := NewWithT(t)
	kc := buildBinary(t, g)
	s := kc.start("up", "--parties", "4", "--threshold", "1")
	var run string
	t.Cleanup(func() {
		// Ctrl-C first, as in the test: up removes what it made, ready or
		// not; killed only if it does not end.
		s.Signal(os.Interrupt)
		select {
		case <-s.Exited:
		case <-time.After(3 * time.Minute):
			s.Kill()
		}
		if run != "" {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			kc.remove(ctx, run)
		}
	})

	g.Eventually(s).WithTimeout(6*time.Minute).Should(gbytes.Say(`The cluster runs until Ctrl-C\.`),
		"up never said the cluster is ready:\n%s\n%s", s.Out.Contents(), s.Err.Contents())
	m := regexp.MustCompile(`Cluster ([0-9a-f]{8}):`).FindSubmatch(s.Out.Contents())
	g.Expect(m).NotTo(BeNil(), "up names its run:\n%s", s.Out.Contents())
	run = string(m[1])

	s.Signal(os.Interrupt)
	// A func: the output when it fails, not when the signal was sent.
	g.Eventually(s).WithTimeout(3*time.Minute).Should(gexec.Exit(0), func() string {
		return fmt.Sprintf("up after Ctrl-C:\nstdout:\n%s\nstderr:\n%s", s.Out.Contents(), s.Err.Contents())
	})
	g.Expect(s.Out).To(gbytes.Say(`Removing the cluster\.\.\.`))
	g.Expect(s.Err.Contents()).To(BeEmpty(), "up reports no error on Ctrl-C")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	g.Expect(leftovers(ctx, t, run)).To(BeEmpty(), "after Ctrl-C, run %s left something on the engine", run)
}
