package probe

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/kmschaos/kmschaos/cluster"
)

const counter = "test_errors_total" // any counter: the probes read families by name

var labels = map[string]string{"op": "decrypt_share"}

// fakeParties serves a counter per party; a party with an error set
// cannot be scraped.
type fakeParties struct {
	mu     sync.Mutex
	values map[int]float64
	errs   map[int]error
	calls  int
}

func (f *fakeParties) set(i int, v float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.values[i] = v
}

func (f *fakeParties) fail(i int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs[i] = err
}

func (f *fakeParties) scrape(_ context.Context, i int) (map[string]*dto.MetricFamily, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if err := f.errs[i]; err != nil {
		return nil, err
	}
	text := fmt.Sprintf("# TYPE %[1]s counter\n%[1]s{op=\"decrypt_share\",peer=\"9\"} %[2]g\n%[1]s{op=\"other\",peer=\"9\"} 1000\n", counter, f.values[i])
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(strings.NewReader(text))
}

func parties(values map[int]float64) *fakeParties {
	return &fakeParties{values: values, errs: map[int]error{}}
}

var errRefused = errors.New("dial tcp 127.0.0.1:9464: connect: connection refused")

func expectNames(t *testing.T, err error, party int) {
	t.Helper()
	if err == nil {
		t.Fatalf("probe held although party %d could not be scraped", party)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("party %d could not be scraped", party)) || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("error does not name party %d and its scrape error: %v", party, err)
	}
}

func TestSteadyHoldsOnlyWhenNothingMoves(t *testing.T) {
	ctx := context.Background()
	f := parties(map[int]float64{1: 3, 2: 0, 3: 5})
	if err := steady(ctx, f.scrape, []int{1, 2, 3}, counter, labels, time.Millisecond); err != nil {
		t.Fatalf("unchanged counters: %v", err)
	}

	// A rise during the window: scrape calls 1-3 are the start, so the
	// counter moves once the start is read.
	moving := &risingAfter{fakeParties: parties(map[int]float64{1: 3, 2: 0, 3: 5}), after: 3, party: 2}
	err := steady(ctx, moving.scrape, []int{1, 2, 3}, counter, labels, time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "moved from 8 to 9") {
		t.Fatalf("a counter that moved: %v", err)
	}
}

// risingAfter raises party's counter by one after the first after scrapes.
type risingAfter struct {
	*fakeParties
	after, party int
}

func (r *risingAfter) scrape(ctx context.Context, i int) (map[string]*dto.MetricFamily, error) {
	r.mu.Lock()
	if r.calls == r.after {
		r.values[r.party]++
	}
	r.mu.Unlock()
	return r.fakeParties.scrape(ctx, i)
}

func TestSteadyFailsNamingAPartyThatCannotBeScraped(t *testing.T) {
	ctx := context.Background()
	f := parties(map[int]float64{1: 0, 2: 0, 3: 0})
	f.fail(2, errRefused)
	expectNames(t, steady(ctx, f.scrape, []int{1, 2, 3}, counter, labels, time.Millisecond), 2)

	// Readable at the start, gone at the end of the window.
	g := &failingAfter{fakeParties: parties(map[int]float64{1: 0, 2: 0, 3: 0}), after: 3, party: 3}
	err := steady(ctx, g.scrape, []int{1, 2, 3}, counter, labels, time.Millisecond)
	expectNames(t, err, 3)
	if !strings.Contains(err.Error(), "end of the window") {
		t.Fatalf("error does not say when the scrape failed: %v", err)
	}
}

// failingAfter makes party unscrapable after the first after scrapes.
type failingAfter struct {
	*fakeParties
	after, party int
}

func (f *failingAfter) scrape(ctx context.Context, i int) (map[string]*dto.MetricFamily, error) {
	f.mu.Lock()
	if f.calls == f.after {
		f.errs[f.party] = errRefused
	}
	f.mu.Unlock()
	return f.fakeParties.scrape(ctx, i)
}

// risingOn is a rising probe reading f's counters.
func risingOn(f *fakeParties, ps []int) Armed {
	return rising(func(*cluster.Cluster) scrapeFunc { return f.scrape }, ps, counter, labels)
}

// armed is a rising probe on f armed, as the runner arms it just before
// the injection.
func armed(t *testing.T, f *fakeParties, ps []int) Armed {
	t.Helper()
	r := risingOn(f, ps)
	_ = r.Arm(context.Background(), nil)
	return r
}

func TestRisingHoldsOnlyOnARise(t *testing.T) {
	ctx := context.Background()
	f := parties(map[int]float64{1: 2, 2: 0})
	r := armed(t, f, []int{1, 2})
	if err := r.Check(ctx, nil); err == nil || err.Error() != "still 2" {
		t.Fatalf("no rise: %v", err)
	}
	f.set(2, 1)
	if err := r.Check(ctx, nil); err != nil {
		t.Fatalf("risen from 2 to 3: %v", err)
	}
}

// A counter an earlier run raised (a reused or attached cluster) is not
// this fault's detection: only a rise since the injection is.
func TestRisingIgnoresWhatCameBeforeTheInjection(t *testing.T) {
	ctx := context.Background()
	f := parties(map[int]float64{1: 0, 2: 0})
	before := risingOn(f, []int{1, 2})
	f.set(1, 5) // an earlier scenario's invalid shares
	_ = before.Arm(ctx, nil)
	if err := before.Check(ctx, nil); err == nil || err.Error() != "still 5" {
		t.Fatalf("a lifetime counter of 5 with no rise since the injection: %v", err)
	}
	unarmed := risingOn(f, []int{1, 2})
	if err := unarmed.Check(ctx, nil); err == nil || !strings.Contains(err.Error(), "no reading from before the injection") {
		t.Fatalf("checked without a reading from before the injection: %v", err)
	}
}

func TestRisingFailsWithoutABaseline(t *testing.T) {
	ctx := context.Background()
	f := parties(map[int]float64{1: 4, 2: 7, 3: 1})
	f.fail(2, errRefused)
	r := armed(t, f, []int{1, 2, 3})
	// Party 2 back: counted as zero, its 7 would look like a rise.
	f.fail(2, nil)
	err := r.Check(ctx, nil)
	expectNames(t, err, 2)
	if !strings.Contains(err.Error(), "no baseline") {
		t.Fatalf("error does not say the baseline is missing: %v", err)
	}
}

func TestRisingFailsNamingAPartyThatCannotBeScrapedLater(t *testing.T) {
	ctx := context.Background()
	f := parties(map[int]float64{1: 4, 2: 7, 3: 1})
	r := armed(t, f, []int{1, 2, 3})
	f.set(1, 100) // a rise elsewhere must not hide the unreadable party
	f.fail(3, errRefused)
	expectNames(t, r.Check(ctx, nil), 3)
}

// sumOver reads the sum of the parties that could be scraped of the parties that could be scraped: one
// party down must not hide another's counter.
func TestSumOverKeepsTheOthersWhenOneCannotBeScraped(t *testing.T) {
	f := parties(map[int]float64{1: 2, 2: 5, 3: 3})
	f.fail(2, errRefused)
	total, err := sumOver(context.Background(), f.scrape, []int{1, 2, 3}, counter, labels)
	if total != 5 {
		t.Errorf("sum = %g, want 5 (parties 1 and 3)", total)
	}
	expectNames(t, err, 2)
}
