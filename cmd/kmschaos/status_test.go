package main

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/cluster/fakebackend"
	"github.com/kmschaos/kmschaos/harness/partystate"
)

// status shows a down party's exit status only where the backend saw it:
// one it did not see reads "unknown" in the table and is absent from the
// JSON, never 0.
func TestStatusShowsAnUnknownExitAsUnknown(t *testing.T) {
	ctx := context.Background()
	c, parties, _, err := fakebackend.Cluster(4, cluster.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	parties[1].ExitUnseen = true
	for i, stop := range map[int]func(context.Context) error{1: c.Party(1).Kill, 2: c.Party(2).Kill, 3: func(ctx context.Context) error { return c.Party(3).Stop(ctx, 0) }} {
		if err := stop(ctx); err != nil {
			t.Fatalf("party %d: %v", i, err)
		}
	}
	s := &statusReport{N: 4, T: 1}
	for i := 1; i <= 3; i++ {
		s.Parties = append(s.Parties, partystate.Read(ctx, c, i))
	}
	var text strings.Builder
	if err := s.write(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`1\s+exited \(exit 137\)`, `2\s+exited \(exit unknown\)`, `3\s+exited \(exit 0\)`} {
		if !regexp.MustCompile(`(?m)^` + want).MatchString(text.String()) {
			t.Errorf("no /%s/ in\n%s", want, text.String())
		}
	}
	b, err := json.Marshal(s.Parties)
	if err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for i, want := range []any{137.0, nil, 0.0} {
		if got[i]["exit_code"] != want {
			t.Errorf("party %d: exit_code %v, want %v (%s)", i+1, got[i]["exit_code"], want, b)
		}
	}
}
