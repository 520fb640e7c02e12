package localcluster

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/kmschaos/kmschaos/kms/material"
)

// kms-init is the real one (core/service/src/bin/kms-init.rs): the
// default epoch only, and a panic at the first party that refuses it. The
// party refuses as the real one does: InvalidArgument, the client told
// only the request id and the metric (MetricedError), the reason in its
// log. A fresh epoch is the core-client's new-epoch, and its
// destroy-mpc-epoch removes one.
func TestEpochRefusalsAreTheRealOnes(t *testing.T) {
	g := NewWithT(t)
	c := start(t, 4, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	id := material.DefaultEpochID

	out, err := c.Init(ctx)
	g.Expect(err).To(MatchError("exit status 1"), string(out))
	g.Expect(string(out)).To(ContainSubstring("panicked at core/service/src/bin/kms-init.rs:57:61:\ncalled `Result::unwrap()` on an `Err` value: Status { code: InvalidArgument, message: \"Failed on requestID " + id + " with metric new_mpc_epoch\", source: None }"))
	g.Expect(string(out)).To(ContainSubstring("Error: JoinError::Panic(Id(1), "))
	g.Expect(string(out)).NotTo(ContainSubstring("already exists"))
	g.Expect(logOf(c, 1)).To(MatchRegexp(regexp.QuoteMeta("ERROR kms_server: Grpc failure on requestID " + id + " with metric new_mpc_epoch and error code Client specified an invalid argument. Error message: Epoch ID " + id + " already exists")))

	fresh := strings.Repeat("0", 62) + "b7"
	out, err = c.NewEpoch(ctx, fresh)
	g.Expect(err).NotTo(HaveOccurred(), string(out))
	g.Expect(string(out)).To(Equal("New epoch created: " + fresh + "\n"))

	out, err = c.NewEpoch(ctx, fresh)
	g.Expect(err).To(HaveOccurred())
	g.Expect(string(out)).To(Equal("Error: status: InvalidArgument, message: \"Failed on requestID " + fresh + " with metric new_mpc_epoch\"\n"))

	// destroy-mpc-epoch is the real core-client's, and the party refuses
	// as the real epoch manager does (destroy_epoch): an epoch it does not
	// hold is NotFound, and its only one FailedPrecondition. A destroyed
	// epoch is gone from the party's storage and memory, and the party
	// decrypts with the one left.
	ct, err := c.Key.Encrypt(rand.Reader, 4242)
	g.Expect(err).NotTo(HaveOccurred())
	stored := func(i int) []string {
		entries, _ := os.ReadDir(filepath.Join(c.Dir, fmt.Sprintf("PRIV-p%d", i), material.EpochData))
		var ids []string
		for _, e := range entries {
			ids = append(ids, e.Name())
		}
		return ids
	}
	unknown := strings.Repeat("0", 62) + "c3"
	out, err = c.DestroyEpoch(ctx, unknown, 1)
	g.Expect(err).To(HaveOccurred())
	g.Expect(string(out)).To(Equal("Error: status: NotFound, message: \"Failed on requestID " + unknown + " with metric destroy_mpc_epoch\"\n"))
	g.Expect(logOf(c, 1)).To(ContainSubstring("with metric destroy_mpc_epoch and error code Some requested entity was not found. Error message: Epoch ID " + unknown + " does not exist"))

	out, err = c.DestroyEpoch(ctx, fresh, 1, 2, 3, 4)
	g.Expect(err).NotTo(HaveOccurred(), string(out))
	g.Expect(string(out)).To(Equal("Epoch destruction done: " + fresh + "\n"))
	for i := 1; i <= 4; i++ {
		g.Expect(stored(i)).To(ConsistOf(id), "party %d", i)
		g.Expect(logOf(c, i)).To(ContainSubstring("Epoch " + fresh + " destroyed successfully"))
	}
	out, _ = c.DestroyEpoch(ctx, fresh, 4)
	g.Expect(string(out)).To(ContainSubstring("status: NotFound"))
	out, err = c.DestroyEpoch(ctx, id, 2)
	g.Expect(err).To(HaveOccurred())
	g.Expect(string(out)).To(ContainSubstring("status: FailedPrecondition"))
	g.Expect(logOf(c, 2)).To(ContainSubstring("Cannot destroy epoch ID " + id + " because it is the only epoch remaining"))
	g.Expect(stored(2)).To(ConsistOf(id))
	for i := 1; i <= 4; i++ {
		v, err := c.Decrypt(ctx, i, ct)
		g.Expect(err).NotTo(HaveOccurred(), "party %d", i)
		g.Expect(v).To(Equal(uint64(4242)))
	}
}
