package localcluster

import (
	"context"
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
// log. A fresh epoch is the core-client's new-epoch.
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
}
