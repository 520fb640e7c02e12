package scenarios

import (
	"fmt"
	"regexp"

	"github.com/kmschaos/kmschaos/harness/check"
	"github.com/kmschaos/kmschaos/harness/fault"
	"github.com/kmschaos/kmschaos/harness/probe"
	"github.com/kmschaos/kmschaos/harness/scenario"
)

// Peer-link TLS: parties authenticate each other with pinned certificates
// whose CN must be the peer's mpc_identity (kms-gen-keys names party i
// kms-party-<i>). The guide has nothing on it.

// PeerLinkTLS is the catalog's own group of these scenarios: their section
// is the guide's threshold network one, which has nothing on TLS.
const PeerLinkTLS = "Peer-link TLS"

// refusedCert is a party cut off by a certificate its peers refuse: an
// observer's health check names it with the error, the observer's log has
// one WARN line per refused connection (the real KMS counts none), and
// re-issuing the certificate recovers.
func refusedCert(name string, f func(k int) fault.Fault, msg func(k int) string, defect string) scenario.Scenario {
	return scenario.Scenario{
		Name: name, Section: Threshold, Labels: []string{fault.TLS},
		Build: func(e *scenario.Env) scenario.Plan {
			k := e.One()
			others := e.Others(k)
			j := others[e.Rng.IntN(len(others))]
			refused := "WARN kms_server: Refused party-to-party connection: " + regexp.QuoteMeta(msg(k))
			return scenario.Plan{
				Faults: []fault.Fault{f(k)},
				Detect: []probe.Probe{
					probe.PeerUnreachable(j, k, msg(k)),
					probe.LogSays(j, refused),
				},
				// Every peer refuses party k's certificate and k cannot
				// verify theirs: k coordinates nothing, the others need
				// only t+1 of themselves.
				During: check.Expect{Live: others, Down: []int{k}},
				Target: k, Runbooks: []string{"cert-reissue"},
				Recovered: []probe.Probe{
					probe.PeerReachable(j, k),
					probe.LogQuiet(others, refused, timings.TLS.UnauthenticatedSteady),
				},
				Defects: []string{defect},
			}
		},
	}
}

var peerLinkTLS = []scenario.Scenario{
	refusedCert("a party whose certificate CN is not its mpc_identity is refused by every peer and named; re-issuing the certificate recovers",
		fault.WrongCertIdentity,
		func(k int) string {
			return fmt.Sprintf("Certificate subject %s does not match mpc_identity kms-party-%d", fault.WrongIdentity(k), k)
		},
		"13-Party Threshold Network Issues: the guide says nothing about peer-link TLS; a party whose certificate subject is not its mpc_identity (\"Certificate subject <x> does not match mpc_identity <y>\" in its peers' logs and health checks) is cut off from every peer, and the guide has no diagnostic or runbook for it: re-issue the certificate with the right CN and restart the party"),

	refusedCert("a party with an expired certificate is refused by every peer and named; re-issuing the certificate recovers",
		fault.ExpiredCert,
		func(k int) string {
			return fmt.Sprintf("certificate has expired: subject kms-party-%d was valid until", k)
		},
		"13-Party Threshold Network Issues: the guide says nothing about peer-link TLS; a party whose certificate has expired (\"certificate has expired\" in its peers' logs and health checks) is cut off from every peer, and the guide neither says to watch certificate expiry nor how to renew: re-issue the certificate and restart the party"),
}
