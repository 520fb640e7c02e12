package scenarios

import "github.com/kmschaos/kmschaos/fixtures"

// timings are the catalog's own bounds: fixtures/intervals.yaml, scenarios.
var timings = fixtures.Intervals.Scenarios
