package report

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/reporters"
)

func TestJUnitNamesEveryScenarioAndItsFailure(t *testing.T) {
	r := &Run{Seed: 42, Machine: "m", Scenarios: []Scenario{
		{Name: "a full disk", Section: "Storage Backend Issues", Passed: true, Duration: 2 * time.Second},
		{Name: "a hanging link", Section: "Connectivity Issues", Passed: false, Duration: time.Second, Error: "detection did not happen\nsecond line"},
		{Name: "a crash", Section: "Storage Backend Issues", Passed: true, Duration: time.Second},
	}}
	got := readJUnit(t, r)
	if got.Tests != 3 || got.Failures != 1 || len(got.TestSuites) != 2 {
		t.Fatalf("tests %d failures %d suites %d, want 3, 1, 2", got.Tests, got.Failures, len(got.TestSuites))
	}
	storage := got.TestSuites[0]
	if storage.Name != "Storage Backend Issues" || storage.Tests != 2 || storage.Failures != 0 {
		t.Errorf("first suite %q: %d tests, %d failures", storage.Name, storage.Tests, storage.Failures)
	}
	if storage.Properties.WithName("seed") != "42" {
		t.Errorf("seed property %q", storage.Properties.WithName("seed"))
	}
	tc := got.TestSuites[1].TestCases[0]
	if tc.Failure == nil || tc.Failure.Message != "detection did not happen" || tc.Status != "failed" {
		t.Errorf("the failed scenario reads %+v", tc)
	}
	if ok := got.TestSuites[0].TestCases[0]; ok.Failure != nil || ok.Status != "passed" {
		t.Errorf("a passed scenario reads %+v", ok)
	}
}

// readJUnit writes r's junit.xml and reads it back as a CI would.
func readJUnit(t *testing.T, r *Run) reporters.JUnitTestSuites {
	t.Helper()
	path := filepath.Join(t.TempDir(), "junit.xml")
	if err := r.WriteJUnit(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got reporters.JUnitTestSuites
	if err := xml.Unmarshal(b, &got); err != nil {
		t.Fatalf("not JUnit XML: %v", err)
	}
	return got
}
