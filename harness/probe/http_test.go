package probe

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// party answers like kms-server's :9646 endpoints, ready or not.
func party(ready error) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/live", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/ready", func(w http.ResponseWriter, _ *http.Request) {
		if ready != nil {
			http.Error(w, "not ready: "+ready.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	return httptest.NewServer(mux)
}

var notReady = regexp.MustCompile(`^not ready: no PRSS epoch data`)

func TestEndpointHoldsOnTheRightStatusAndBody(t *testing.T) {
	srv := party(fmt.Errorf("no PRSS epoch data: run kms-init"))
	defer srv.Close()
	if err := checkEndpoint(context.Background(), srv.URL+"/ready", 503, notReady); err != nil {
		t.Fatalf("a party without PRSS: %v", err)
	}
	if err := checkEndpoint(context.Background(), srv.URL+"/live", 200, regexp.MustCompile(`^ok$`)); err != nil {
		t.Fatalf("/live of a party without PRSS: %v", err)
	}
}

// The red cases: a ready party, a party not ready for another reason, a
// party that does not answer. Each is named for what was seen.
func TestEndpointTurnsRedForTheRightReason(t *testing.T) {
	ready := party(nil)
	defer ready.Close()
	other := party(fmt.Errorf("no threshold key loaded"))
	defer other.Close()
	gone := party(nil)
	goneURL := gone.URL
	gone.Close()

	for _, tc := range []struct {
		name, url, want string
	}{
		{"a ready party", ready.URL + "/ready", `answered 200 OK: "ready"`},
		{"not ready for another reason", other.URL + "/ready", `answered 503 Service Unavailable but the body "not ready: no threshold key loaded" does not match`},
		{"nothing answers", goneURL + "/ready", "connection refused"},
	} {
		err := checkEndpoint(context.Background(), tc.url, 503, notReady)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}
