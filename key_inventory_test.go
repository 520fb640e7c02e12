package kmschaos_test

import (
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/harness/env"
	"github.com/kmschaos/kmschaos/harness/probe"
	"github.com/kmschaos/kmschaos/harness/report"
	"github.com/kmschaos/kmschaos/harness/scenario"
	"github.com/kmschaos/kmschaos/harness/secrets"
	"github.com/kmschaos/kmschaos/scenarios"
)

// Not a scenario of the catalog: the guide's diagnostics, judged step by
// step, with no fault.
var _ = Describe(scenarios.KeysSec, func() {
	// The guide's own key diagnostics, run as written.
	It("runs the guide's key inventory diagnostics as written", Label("scenario", "keys", "diagnostics"), priority(true), func(ctx SpecContext) {
		c := env.Cluster()
		_, err := c.Reset(ctx)
		Expect(err).NotTo(HaveOccurred())
		res := report.Scenario{Name: "the guide's key inventory diagnostics, as written", Section: scenarios.KeysSec, Kind: "diagnostics", Started: time.Now(), Detected: true, Recovered: true}
		step := func(name, guide string, run func() (string, error)) bool {
			start := time.Now()
			out, err := run()
			s := report.Step{Name: name, Guide: guide, Took: time.Since(start), OK: err == nil, Output: secrets.Redact(out)}
			if err != nil {
				s.Error, s.Defect, s.Expected = err.Error(), true, true
			}
			res.Steps = append(res.Steps, s)
			return err == nil
		}
		// The pinned grpcurl, on party 1's host: the operator's toolbox
		// shares the party's network, so localhost:<GRPC_PORT> is the party.
		tb, err := c.OpenToolbox(ctx, 1, true)
		if cluster.IsUnsupported(err) {
			// A row that says why it was not judged, like any skipped scenario.
			res.Skipped, res.Detected, res.Recovered = err.Error(), false, false
			res.Duration = time.Since(res.Started)
			record(res)
			Skip(err.Error())
		}
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) error { return tb.Close(ctx) })
		grpcurl := func(method string) (string, error) {
			r, err := tb.Exec(ctx, "grpcurl", "-plaintext", "-max-time", "10", fmt.Sprintf("localhost:%d", c.Profile.APIPort), method)
			if err != nil {
				return "", err
			}
			if r.ExitCode != 0 {
				return r.Output(), fmt.Errorf("exit %d: %s", r.ExitCode, strings.TrimSpace(r.Output()))
			}
			return r.Output(), nil
		}
		inventory := step("List available keys", `kms-health-check live --endpoint localhost:<GRPC_PORT> | grep -A 10 "KEY MATERIAL"`, func() (string, error) {
			r, err := probe.Live(ctx, c, 1)
			if err == nil && !strings.Contains(r.Text, "[KEY MATERIAL]:\n  [OK] FHE Keys: 1") {
				err = fmt.Errorf("no key listed")
			}
			return r.Text, err
		})
		asWritten := step("Test basic operations", "grpcurl -plaintext localhost:<GRPC_PORT> kms.v1.CoreService/GetOperatorPublicKey", func() (string, error) {
			return grpcurl("kms.v1.CoreService/GetOperatorPublicKey")
		})
		corrected := step("Test basic operations with the service's real name", "grpcurl -plaintext localhost:<GRPC_PORT> kms_service.v1.CoreServiceEndpoint/GetOperatorPublicKey", func() (string, error) {
			return grpcurl("kms_service.v1.CoreServiceEndpoint/GetOperatorPublicKey")
		})
		if !asWritten {
			res.Defects = append(res.Defects, "Key Management Issues, Diagnostic Steps 3: the service is kms_service.v1.CoreServiceEndpoint, not kms.v1.CoreService; the grpcurl command as written fails")
		}
		// The diagnostics only read: the audit says whether that held.
		keys := scenario.JudgeKeys(ctx, c, &res)
		res.Duration, res.Passed = time.Since(res.Started), inventory && !asWritten && corrected && keys == nil
		switch {
		case keys != nil:
			res.Error = keys.Error()
		case !res.Passed:
			res.Error = "the diagnostics did not behave as recorded: see the steps"
		}
		record(res)
		Expect(keys).NotTo(HaveOccurred(), "the key material after the diagnostics")
		Expect(inventory).To(BeTrue(), "the health check's key inventory")
		Expect(corrected).To(BeTrue(), "grpcurl with the real service name")
		Expect(asWritten).To(BeFalse(), "grpcurl with the guide's service name was expected to fail")
	})
})
