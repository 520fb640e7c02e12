package probe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/fixtures"
)

// Scrape reads party i's /metrics (through its metrics proxy).
func Scrape(ctx context.Context, c *cluster.Cluster, i int) (map[string]*dto.MetricFamily, error) {
	ctx, cancel := context.WithTimeout(ctx, fixtures.Intervals.Probe.MetricsScrape)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Party(i).MetricsURL(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/metrics answered %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(resp.Body)
}

// Sum adds the values of the samples of a family whose labels include want.
func Sum(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	var total float64
	for _, m := range fams[name].GetMetric() {
		if !hasLabels(m, want) {
			continue
		}
		switch {
		case m.GetCounter() != nil:
			total += m.GetCounter().GetValue()
		case m.GetGauge() != nil:
			total += m.GetGauge().GetValue()
		case m.GetHistogram() != nil:
			total += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return total
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	have := map[string]string{}
	for _, l := range m.GetLabel() {
		have[l.GetName()] = l.GetValue()
	}
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// MetricAbove holds when the sum of a metric over the parties exceeds
// min: e.g. kms_invalid_shares_received_total{party="3",reason="prss"} > 0.
func MetricAbove(parties []int, name string, labels map[string]string, min float64) Probe {
	return New(fmt.Sprintf("%s%v > %g on parties %v", name, labels, min, parties), func(ctx context.Context, c *cluster.Cluster) error {
		// A party that cannot be scraped counts zero: here that can only
		// keep the probe from holding, never make it hold.
		total, _ := sumOver(ctx, clusterScrape(c), parties, name, labels)
		if total <= min {
			return fmt.Errorf("sum is %g", total)
		}
		return nil
	})
}

// scrapeFunc reads one party's metrics: Scrape on a cluster, a fake in
// tests.
type scrapeFunc func(ctx context.Context, i int) (map[string]*dto.MetricFamily, error)

func clusterScrape(c *cluster.Cluster) scrapeFunc {
	return func(ctx context.Context, i int) (map[string]*dto.MetricFamily, error) { return Scrape(ctx, c, i) }
}

// sumOver sums a metric over the parties. A party that cannot be scraped
// is an error naming it, never a zero: a counter read as zero before a
// fault makes any later reading look like a rise, and a party down during
// a steadiness window would hide its movement.
func sumOver(ctx context.Context, scrape scrapeFunc, parties []int, name string, labels map[string]string) (float64, error) {
	var total float64
	var errs []error
	for _, i := range parties {
		fams, err := scrape(ctx, i)
		if err != nil {
			errs = append(errs, fmt.Errorf("party %d could not be scraped: %w", i, err))
			continue
		}
		total += Sum(fams, name, labels)
	}
	return total, errors.Join(errs...)
}

// Rising holds when a metric summed over the parties grew since the probe
// was made: the error counters of an ongoing fault. The baseline is read
// now; if a party cannot be scraped then, the probe never holds and says
// why.
func Rising(ctx context.Context, c *cluster.Cluster, parties []int, name string, labels map[string]string) Probe {
	check := rising(ctx, clusterScrape(c), parties, name, labels)
	return New(fmt.Sprintf("%s%v rising on parties %v", name, labels, parties), func(ctx context.Context, c *cluster.Cluster) error {
		return check(ctx, clusterScrape(c))
	})
}

func rising(ctx context.Context, scrape scrapeFunc, parties []int, name string, labels map[string]string) func(context.Context, scrapeFunc) error {
	base, baseErr := sumOver(ctx, scrape, parties, name, labels)
	return func(ctx context.Context, scrape scrapeFunc) error {
		if baseErr != nil {
			return fmt.Errorf("no baseline: %w", baseErr)
		}
		now, err := sumOver(ctx, scrape, parties, name, labels)
		if err != nil {
			return err
		}
		if now <= base {
			return fmt.Errorf("still %g", now)
		}
		return nil
	}
}

// Steady holds when a metric summed over the parties did not move during
// window: an error counter back to zero rate after a heal. Every party must
// be scraped at both ends of the window.
func Steady(parties []int, name string, labels map[string]string, window time.Duration) Probe {
	return New(fmt.Sprintf("%s%v steady for %s on parties %v", name, labels, window, parties), func(ctx context.Context, c *cluster.Cluster) error {
		return steady(ctx, clusterScrape(c), parties, name, labels, window)
	})
}

func steady(ctx context.Context, scrape scrapeFunc, parties []int, name string, labels map[string]string, window time.Duration) error {
	before, err := sumOver(ctx, scrape, parties, name, labels)
	if err != nil {
		return fmt.Errorf("at the start of the window: %w", err)
	}
	// The window is what the probe measures, not a wait for a condition.
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(window):
	}
	after, err := sumOver(ctx, scrape, parties, name, labels)
	if err != nil {
		return fmt.Errorf("at the end of the window: %w", err)
	}
	if after != before {
		return fmt.Errorf("moved from %g to %g in %s", before, after, window)
	}
	return nil
}
