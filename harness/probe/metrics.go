package probe

import (
	"context"
	"fmt"
	"net/http"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/kmschaos/kmschaos/cluster"
)

// Scrape reads party i's /metrics (through its metrics proxy).
func Scrape(ctx context.Context, c *cluster.Cluster, i int) (map[string]*dto.MetricFamily, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
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
		var total float64
		for _, i := range parties {
			fams, err := Scrape(ctx, c, i)
			if err != nil {
				continue // a party that cannot be scraped counts zero
			}
			total += Sum(fams, name, labels)
		}
		if total <= min {
			return fmt.Errorf("sum is %g", total)
		}
		return nil
	})
}

// Rising holds when a metric summed over the parties grew since the probe
// was made: the error counters of an ongoing fault.
func Rising(ctx context.Context, c *cluster.Cluster, parties []int, name string, labels map[string]string) Probe {
	sum := func(ctx context.Context) float64 {
		var total float64
		for _, i := range parties {
			if fams, err := Scrape(ctx, c, i); err == nil {
				total += Sum(fams, name, labels)
			}
		}
		return total
	}
	base := sum(ctx)
	return New(fmt.Sprintf("%s%v rising on parties %v", name, labels, parties), func(ctx context.Context, c *cluster.Cluster) error {
		if now := sum(ctx); now <= base {
			return fmt.Errorf("still %g", now)
		}
		return nil
	})
}

// Steady holds when a metric summed over the parties did not move during
// window: an error counter back to zero rate after a heal.
func Steady(parties []int, name string, labels map[string]string, window time.Duration) Probe {
	return New(fmt.Sprintf("%s%v steady for %s on parties %v", name, labels, window, parties), func(ctx context.Context, c *cluster.Cluster) error {
		sum := func() float64 {
			var total float64
			for _, i := range parties {
				if fams, err := Scrape(ctx, c, i); err == nil {
					total += Sum(fams, name, labels)
				}
			}
			return total
		}
		before := sum()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(window):
		}
		if after := sum(); after != before {
			return fmt.Errorf("moved from %g to %g in %s", before, after, window)
		}
		return nil
	})
}
