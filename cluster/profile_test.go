package cluster

import (
	"strconv"
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
