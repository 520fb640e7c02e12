package cluster

import (
	"strconv"
	"strings"
	"testing"

	"github.com/kmschaos/kmschaos/kms/keygen"
)

// The generated configs and the mesh must agree on every link's port.
func TestConfigPortsMatchTheMesh(t *testing.T) {
	for me := 1; me <= 31; me++ {
		for i := 1; i <= 31; i++ {
			got := keygen.Expand("2{me:02}{i:02}", i, me)
			if want := peerProxyPort(me, i); got != strconv.Itoa(want) {
				t.Fatalf("link %d->%d: config port %s, proxy port %d", me, i, got, want)
			}
		}
	}
	if clientProxyPort(31) >= metricsProxyPort(1) || peerProxyPort(31, 31) >= clientProxyPort(1) {
		t.Fatal("port ranges overlap")
	}
}

// Two commands built from one profile must not share storage: DNSLoss
// builds its heal's command long after its inject's.
func TestAdminCmdOwnsItsSlice(t *testing.T) {
	p := Profile{Admin: make([]string, 1, 8)}
	p.Admin[0] = "kms-admin"
	a := p.AdminCmd("hosts", "remove", "x")
	b := p.AdminCmd("hosts", "add", "x", "10.0.0.1")
	if got := strings.Join(a, " "); got != "kms-admin hosts remove x" {
		t.Errorf("first command became %q", got)
	}
	if got := strings.Join(b, " "); got != "kms-admin hosts add x 10.0.0.1" {
		t.Errorf("second command is %q", got)
	}
	if len(p.Admin) != 1 {
		t.Errorf("profile changed: %q", p.Admin)
	}
}
