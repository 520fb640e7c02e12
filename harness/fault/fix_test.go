package fault

import (
	"slices"
	"testing"
)

// The coordinator's kinds are the network's — between parties, and
// between clients and a party — and no other: every other kind a party's
// operator fixes with the guide's commands, and a game day's players
// could never recover a network fault without escalating it.
func TestWhoseFix(t *testing.T) {
	var coordinator, network []string
	for _, k := range Kinds() {
		if k.Fix == FixCoordinator {
			coordinator = append(coordinator, k.Name)
		} else if k.Fix != "" {
			t.Errorf("%s: fix %q, want %q or empty (the operator's)", k.Name, k.Fix, FixCoordinator)
		}
		if k.Family == Network {
			network = append(network, k.Name)
		}
	}
	if !slices.Equal(coordinator, network) || len(network) != 8 {
		t.Errorf("the coordinator's kinds %q, want the 8 network kinds %q", coordinator, network)
	}
}
