package gameday

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/harness/results"
)

// An ended game day is a run of the results store: a row per hidden fault,
// TTD the players' first right diagnosis, TTR injection to recovery,
// passed only where the players recovered it, with the labels start was
// given; 'history' reads it back by its section.
func TestAnEndedGameDayIsRecorded(t *testing.T) {
	s, diags, notes := played()
	notes = notes[:1] // no wrong value: the players' recovery passes
	s.Faults = append(s.Faults, Fault{Kind: "pause", Party: 4, Name: "pause party 4", Parties: []int{4}, Tag: "gd-abc123-3", At: 12 * time.Minute})
	s.Results, s.Labels = filepath.Join(t.TempDir(), "results.db"), map[string]string{"drill": "q4"}

	record(context.Background(), s, diags, notes, "kmschaos/party:abc")
	if s.RecordError != "" || s.Recorded == "" {
		t.Fatalf("recorded %q, error %q; want a run id", s.Recorded, s.RecordError)
	}
	st, err := results.Open(context.Background(), s.Results)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.Runs(context.Background(), results.Filter{Labels: map[string]string{"drill": "q4"}}, 10)
	if err != nil || len(runs) != 1 || runs[0].ID != s.Recorded || runs[0].N != 4 || runs[0].Passed != 1 || runs[0].Failed != 1 || runs[0].Skipped != 1 {
		t.Fatalf("runs labelled drill=q4: %+v, %v; want the game day: n=4, 1 passed, 1 failed, 1 skipped", runs, err)
	}
	hist, err := st.Scenarios(context.Background(), results.Filter{Section: Section}, 5)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]results.Verdict{}
	for _, h := range hist {
		got[h.Name] = h.Last[0]
	}
	if v := got["game day: kill"]; v.Verdict != "PASS" || v.TTD != 20*time.Second || v.TTR != time.Minute || v.RecoveredBy != ByPlayers {
		t.Errorf("the fault the players found in 20s and recovered in 1m: %+v", v)
	}
	if v := got["game day: memory"]; v.Verdict != "FAIL" || v.TTD != 0 || v.RecoveredBy != ByHarness {
		t.Errorf("the fault the harness healed: %+v", v)
	}
	if v := got["game day: pause"]; v.Verdict != "SKIP" {
		t.Errorf("the fault never injected: %+v", v)
	}
}

// A wrong value anywhere fails every row; a store that cannot be used is
// said in the state, and the game day's end goes on.
func TestAGameDayRecordFailsOnAWrongValueAndSaysAStoreItCannotUse(t *testing.T) {
	s, diags, notes := played()
	for _, row := range RunOf(s, diags, notes).Scenarios {
		if row.Passed || !strings.Contains(row.Error, "wrong value") && !strings.Contains(row.Error, "NOT RECOVERED") {
			t.Errorf("with a wrong value seen: %s passed %v, error %q", row.Name, row.Passed, row.Error)
		}
	}
	s.Results = t.TempDir() // a directory is no store
	record(context.Background(), s, diags, notes, "")
	if s.Recorded != "" || !strings.Contains(s.RecordError, "results store") {
		t.Errorf("recorded %q, error %q; want the store named", s.Recorded, s.RecordError)
	}
}
