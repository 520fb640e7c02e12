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

// Rising holds when a metric summed over the parties rose since the
// reading taken just before the faults were injected (Armed): the error
// counters of an ongoing fault. Counters live as long as the party, so
// their value alone says nothing of this fault (a reused or attached
// cluster carries an earlier run's); only the rise does. A party that
// cannot be read, then or now, keeps it from holding, named.
func Rising(parties []int, name string, labels map[string]string) Armed {
	return rising(clusterScrape, parties, name, labels)
}

func rising(scrapeOf func(*cluster.Cluster) scrapeFunc, parties []int, name string, labels map[string]string) Armed {
	return Since(fmt.Sprintf("%s%v rising on parties %v", name, labels, parties),
		func(ctx context.Context, c *cluster.Cluster) (float64, error) {
			return sumOver(ctx, scrapeOf(c), parties, name, labels)
		},
		func(before, now float64) error {
			if now <= before {
				return fmt.Errorf("still %g", now)
			}
			return nil
		})
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
