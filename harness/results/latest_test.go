package results

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/harness/report"
)

// Latest answers the same from SQLite and PostgreSQL: per backend, the
// runs recorded, the newest, each scenario's last verdicts.
func TestLatest(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testLatest(t, sqliteFile(t)) })
	t.Run("postgres", func(t *testing.T) { testLatest(t, postgresURL(t)) })
}

func testLatest(t *testing.T, where string) {
	t.Helper() // each failure's message says which check failed
	ctx := context.Background()
	s := mustOpen(t, where)
	k8s := sampleRun(t0.Add(30*time.Minute), 5*time.Second, true)
	k8s.Backend = "kubernetes"
	var newest string
	for _, r := range []struct {
		run     *report.Run
		release string
	}{{sampleRun(t0, 10*time.Second, true), "1.4.1"}, {k8s, "1.4.2"}, {sampleRun(t0.Add(time.Hour), 20*time.Second, false), "1.4.2"}} {
		id, err := s.Record(ctx, r.run, Meta{Labels: map[string]string{"release": r.release}})
		if err != nil {
			t.Fatal(err)
		}
		newest = id
	}
	latest, err := s.Latest(ctx, Filter{}, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(latest) != 2 || latest[0].Backend != "docker" || latest[0].Runs != 2 || latest[1].Backend != "kubernetes" || latest[1].Runs != 1 {
		t.Fatalf("per backend, sorted, with its count of runs: %+v", latest)
	}
	d := latest[0]
	if d.Newest.ID != newest || !d.Newest.Started.Equal(t0.Add(time.Hour)) || d.Newest.Duration != time.Minute || d.Newest.Failed != 1 {
		t.Errorf("docker's newest run: %+v", d.Newest)
	}
	if len(d.Scenarios) != 3 || d.Scenarios[1].Name != "evict a node" || d.Scenarios[2].Name != "kill one party" {
		t.Fatalf("docker's scenarios, by section and name: %+v", d.Scenarios)
	}
	if last := d.Scenarios[2].Last; len(last) != 2 || last[0].Verdict != "FAIL" || last[1].Verdict != "PASS" || last[1].TTR != 10*time.Second {
		t.Errorf("kill one party on docker, newest first, not kubernetes's: %+v", last)
	}
	if last := latest[1].Scenarios[2].Last; len(last) != 1 || last[0].TTR != 5*time.Second {
		t.Errorf("kill one party on kubernetes: %+v", last)
	}
	// A window of one, and a label: only release=1.4.2's runs.
	latest, err = s.Latest(ctx, Filter{Labels: map[string]string{"release": "1.4.2"}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(latest) != 2 || latest[0].Runs != 1 || len(latest[0].Scenarios[2].Last) != 1 {
		t.Errorf("release=1.4.2, window 1: %+v", latest)
	}
	if _, err := s.Latest(ctx, Filter{Labels: map[string]string{"relase": "1.4.2"}}, 1); !errors.Is(err, ErrUnknown) {
		t.Errorf("an unknown label: %v; want ErrUnknown", err)
	}
	// A store that cannot answer is an *Unreadable naming it.
	_ = s.Close()
	var u *Unreadable
	if _, err := s.Latest(ctx, Filter{}, 1); !errors.As(err, &u) || u.Where != s.String() {
		t.Errorf("a closed store: %v; want an *Unreadable naming %s", err, s)
	}
}
