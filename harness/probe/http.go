package probe

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/fixtures"
)

// Endpoint holds when party i's HTTP endpoint path (/live, /ready,
// /health on :9646) answers with status code and a body matching pattern:
// what a kubelet's liveness or readiness probe, or an operator's curl,
// sees. It goes through the party's metrics link in the mesh, the same
// way Scrape reads /metrics. Both the status and the body are judged: a
// 503 for another reason, or a 200 with the wrong body, is not the
// condition.
func Endpoint(i int, path string, code int, pattern string) Probe {
	re := regexp.MustCompile(pattern)
	return New(fmt.Sprintf("GET %s of party %d answers %d /%s/", path, i, code, pattern), func(ctx context.Context, c *cluster.Cluster) error {
		return checkEndpoint(ctx, c.Party(i).HTTPURL(path), code, re)
	})
}

// checkEndpoint GETs url within 5 s and judges its status and body.
func checkEndpoint(ctx context.Context, url string, code int, re *regexp.Regexp) error {
	ctx, cancel := context.WithTimeout(ctx, fixtures.Intervals.Probe.HTTPGet)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	text := strings.TrimSpace(string(body))
	switch {
	case resp.StatusCode != code:
		return fmt.Errorf("answered %s: %q", resp.Status, text)
	case !re.MatchString(text):
		return fmt.Errorf("answered %s but the body %q does not match", resp.Status, text)
	}
	return nil
}
