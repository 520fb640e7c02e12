package fault_test

import (
	"slices"
	"testing"

	"github.com/kmschaos/kmschaos/cluster/backends"
	"github.com/kmschaos/kmschaos/harness/fault"
)

// The table names backends as the chooser does (harness code imports no
// backend package, so the names are written twice): a row naming a
// backend that does not exist would be offered nowhere.
func TestKindsNameRealBackends(t *testing.T) {
	if !slices.Equal(fault.Backends, backends.Names) {
		t.Fatalf("the fault table knows backends %q, the chooser %q", fault.Backends, backends.Names)
	}
	for _, k := range fault.Kinds() {
		if len(k.Backends) == 0 {
			t.Errorf("%s is offered on no backend", k.Name)
		}
		for _, b := range k.Backends {
			if !slices.Contains(backends.Names, b) {
				t.Errorf("%s names backend %q, not one of %q", k.Name, b, backends.Names)
			}
			if k.OfferedOn(fault.Platform{Backend: b, VolumesSized: true}) != nil {
				t.Errorf("%s lists %s but is not offered there", k.Name, b)
			}
		}
	}
	evict, ok := fault.LookupKind("evict")
	if !ok || !slices.Equal(evict.Backends, []string{fault.Kubernetes}) {
		t.Errorf("evict: %v %q, want a kind of Kubernetes alone", ok, evict.Backends)
	}
}
