package scenarios

import (
	"fmt"
	"regexp"

	"github.com/kmschaos/kmschaos/harness/check"
	"github.com/kmschaos/kmschaos/harness/fault"
	"github.com/kmschaos/kmschaos/harness/probe"
	"github.com/kmschaos/kmschaos/harness/scenario"
	"github.com/kmschaos/kmschaos/kms/material"
)

// Key Management Issues: key validation errors, cryptographic failures.

var keyManagementIssues = []scenario.Scenario{
	{
		Name: "a corrupt but loadable key share: peers reject its shares and name it, the party refuses to coordinate, nothing is wrong", Section: KeysSec, Labels: []string{fault.Keys},
		Build: func(e *scenario.Env) scenario.Plan {
			k := e.One()
			invalid := fmt.Sprintf(`ERROR kms_server: Invalid decryption share received: proof verification failed party=%d\b`, k)
			return scenario.Plan{
				Faults: []fault.Fault{fault.CorruptShare(k)},
				Detect: []probe.Probe{
					probe.AnyLogSays(invalid),
					probe.DecryptFails(k, "FailedPrecondition", "does not match the public material"),
				},
				During: check.Expect{Live: e.Others(k), Down: []int{k}},
				Target: k, Runbooks: []string{"key-recovery"},
				Recovered: []probe.Probe{probe.LogQuiet(e.Others(k), invalid, timings.Keys.InvalidSharesSteady)},
			}
		},
	},

	// t Byzantine parties at once, the most the threshold is built to
	// bear: each sends wrong decryption shares (not a crash), every
	// decryption must still be right, through the n-t honest ones, and
	// each liar be named by its peers. The guide's Key Material Recovery
	// restores one party from its backup; for t parties the harness puts
	// back what it corrupted (restore-key-shares, origin harness).
	{
		Name: "t parties with corrupt key shares at once: every decryption stays right, each liar is named in its peers' logs; restoring their shares recovers", Section: KeysSec, Labels: []string{fault.Keys},
		Build: func(e *scenario.Env) scenario.Plan {
			bad := e.Pick(e.T)
			honest := e.Others(bad...)
			var faults []fault.Fault
			var detect []probe.Probe
			for _, k := range bad {
				faults = append(faults, fault.CorruptShare(k))
				// Named in the honest parties' logs, as the real party marks a
				// corrupt player (threshold-execution base_session.rs); the
				// real KMS has no metric of rejected shares.
				detect = append(detect,
					probe.AnyLogSays(fmt.Sprintf(`ERROR kms_server: Invalid decryption share received: proof verification failed party=%d\b`, k)))
			}
			return scenario.Plan{
				Faults: []fault.Fault{fault.AtOnce(faults...)}, Detect: detect,
				During: check.Expect{Live: honest, Down: bad},
				Target: bad[0], Runbooks: []string{"restore-key-shares"}, Vars: map[string]string{"targets": list(bad)},
			}
		},
	},

	{
		Name: "a key share with a broken digest stops the party, naming the object; restoring from backup recovers", Section: KeysSec, Labels: []string{fault.Keys},
		Build: func(e *scenario.Env) scenario.Plan {
			k := e.One()
			return scenario.Plan{
				Faults: []fault.Fault{fault.Flip(k, fault.KeyShare)},
				Detect: []probe.Probe{
					probe.CrashLooping(k),
					probe.LogSays(k, "reading failed for FheKeyInfo with id "+e.C.Key.KeyID),
				},
				During: check.Expect{Live: e.Others(k)},
				Target: k, Runbooks: []string{"key-recovery"},
			}
		},
	},

	// The forged public material no longer hashes to the digest the
	// party's share records: the real node's boot-time storage verification
	// refuses it and exits before serving (core/service/src/engine/
	// material_integrity.rs, "Public key digest mismatch"), so every
	// decryption through it is refused by its absence.
	{
		Name: "public material that does not match the shares: decryptions refused, never wrong", Section: KeysSec, Labels: []string{fault.Keys},
		Build: func(e *scenario.Env) scenario.Plan {
			k := e.One()
			return scenario.Plan{
				Faults: []fault.Fault{fault.ForgePublic(k)},
				Detect: []probe.Probe{
					probe.CrashLooping(k),
					probe.LogSays(k, `ERROR kms_server: KMS server failed to start: `+regexp.QuoteMeta(material.ErrPublicKeyDigest)),
				},
				During: check.Expect{Live: e.Others(k), Down: []int{k}},
				Target: k, Runbooks: []string{"public-material-recovery"},
				Defects: []string{
					"Key Management Issues, Resolution Steps 1 \"Regenerate corrupted or missing keys\": in a threshold cluster this deals a new key, and every value encrypted under the old one is lost; restore the material from backup or, for public material, from a healthy peer",
					"Key Management Issues, Diagnostic Steps 1 \"Key Inventory\": kms-health-check live needs the party's API, and a party whose public material fails its boot-time verification never serves it; the check reports only [FAIL] Cannot connect, and the guide does not send the operator to the party's log, where the reason is",
				},
			}
		},
	},
}
