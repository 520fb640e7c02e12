package report

import (
	"encoding/xml"
	"os"
	"strconv"

	"github.com/onsi/ginkgo/v2/reporters"
)

// WriteJUnit writes the run as JUnit XML for CI systems: one test case per
// scenario, in its guide section's suite, failed with the scenario's
// error or skipped with the reason it was not judged. The types are
// Ginkgo's, so `kmschaos run` and the suite's junit.xml read the same to
// a CI.
func (r *Run) WriteJUnit(path string) error {
	b, err := xml.MarshalIndent(r.junit(), "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append([]byte(xml.Header), append(b, '\n')...), 0o644)
}

func (r *Run) junit() reporters.JUnitTestSuites {
	var out reporters.JUnitTestSuites
	index := map[string]int{}
	for _, s := range r.Scenarios {
		k, ok := index[s.Section]
		if !ok {
			k = len(out.TestSuites)
			index[s.Section] = k
			out.TestSuites = append(out.TestSuites, reporters.JUnitTestSuite{
				Name: s.Section, Package: "kmschaos", Timestamp: s.Started.UTC().Format("2006-01-02T15:04:05"),
				Properties: reporters.JUnitProperties{Properties: []reporters.JUnitProperty{
					{Name: "seed", Value: strconv.FormatUint(r.Seed, 10)}, {Name: "machine", Value: r.Machine}, {Name: "backend", Value: r.Backend},
				}},
			})
		}
		suite := &out.TestSuites[k]
		tc := reporters.JUnitTestCase{Name: s.Name, Classname: s.Section, Status: "passed", Time: s.Duration.Seconds()}
		switch s.Result() {
		case ResultSkip:
			// As Ginkgo writes a Skip(reason); the whole run's element has
			// no skipped count, its Disabled holds them, as Ginkgo's does.
			tc.Status = "skipped"
			tc.Skipped = &reporters.JUnitSkipped{Message: "skipped - " + s.Skipped}
			suite.Skipped++
			out.Disabled++
		case ResultFail:
			tc.Status = "failed"
			tc.Failure = &reporters.JUnitFailure{Message: firstLine(s.Error), Type: "failed", Description: s.Error}
			suite.Failures++
			out.Failures++
		}
		suite.Tests++
		suite.Time += tc.Time
		suite.TestCases = append(suite.TestCases, tc)
		out.Tests++
		out.Time += tc.Time
	}
	return out
}
