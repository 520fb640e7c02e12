package report

import (
	"encoding/xml"
	"os"
	"strconv"
)

// WriteJUnit writes the run as JUnit XML for CI systems: one test case per
// scenario, in its guide section's suite, failed with the scenario's
// error or skipped with the reason it was not judged. The elements and
// attributes are those Ginkgo writes, so `kmschaos run` and the suite's
// junit.xml read the same to a CI. The types are written here, not
// imported, so the CLI links no test framework; the package's tests read
// the file back with Ginkgo's.
func (r *Run) WriteJUnit(path string) error {
	b, err := xml.MarshalIndent(r.junit(), "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append([]byte(xml.Header), append(b, '\n')...), 0o644)
}

func (r *Run) junit() junitTestSuites {
	var out junitTestSuites
	index := map[string]int{}
	for _, s := range r.Scenarios {
		k, ok := index[s.Section]
		if !ok {
			k = len(out.TestSuites)
			index[s.Section] = k
			out.TestSuites = append(out.TestSuites, junitTestSuite{
				Name: s.Section, Package: "kmschaos", Timestamp: s.Started.UTC().Format("2006-01-02T15:04:05"),
				Properties: junitProperties{Properties: []junitProperty{
					{Name: "seed", Value: strconv.FormatUint(r.Seed, 10)}, {Name: "machine", Value: r.Machine}, {Name: "backend", Value: r.Backend},
				}},
			})
		}
		suite := &out.TestSuites[k]
		tc := junitTestCase{Name: s.Name, Classname: s.Section, Status: "passed", Time: s.Duration.Seconds()}
		switch s.Result() {
		case ResultSkip:
			// As Ginkgo writes a Skip(reason); the whole run's element has
			// no skipped count, its Disabled holds them, as Ginkgo's does.
			tc.Status = "skipped"
			tc.Skipped = &junitSkipped{Message: "skipped - " + s.Skipped}
			suite.Skipped++
			out.Disabled++
		case ResultFail:
			tc.Status = "failed"
			tc.Failure = &junitFailure{Message: firstLine(s.Error), Type: "failed", Description: s.Error}
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

// The JUnit schema as Ginkgo writes it (ginkgo/v2/reporters), the
// elements and attributes kmschaos fills.
type junitTestSuites struct {
	XMLName    xml.Name         `xml:"testsuites"`
	Tests      int              `xml:"tests,attr"`
	Disabled   int              `xml:"disabled,attr"`
	Errors     int              `xml:"errors,attr"`
	Failures   int              `xml:"failures,attr"`
	Time       float64          `xml:"time,attr"`
	TestSuites []junitTestSuite `xml:"testsuite"`
}

type junitTestSuite struct {
	Name       string          `xml:"name,attr"`
	Package    string          `xml:"package,attr"`
	Tests      int             `xml:"tests,attr"`
	Disabled   int             `xml:"disabled,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Errors     int             `xml:"errors,attr"`
	Failures   int             `xml:"failures,attr"`
	Time       float64         `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Properties junitProperties `xml:"properties"`
	TestCases  []junitTestCase `xml:"testcase"`
}

type junitProperties struct {
	Properties []junitProperty `xml:"property"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitTestCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Status    string        `xml:"status,attr"`
	Time      float64       `xml:"time,attr"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	Failure   *junitFailure `xml:"failure,omitempty"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

type junitFailure struct {
	Message     string `xml:"message,attr"`
	Type        string `xml:"type,attr"`
	Description string `xml:",chardata"`
}
