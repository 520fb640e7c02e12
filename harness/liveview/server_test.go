package liveview

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/harness/gameday"
	"github.com/kmschaos/kmschaos/harness/partystate"
)

const token = "0123456789abcdef-the-facilitators"

// standIn is a game day with two hidden faults, one on since an odd
// offset, one due: times chosen so that their strings occur nowhere else.
func standIn(now time.Time) *gameday.State {
	started := now.Add(-97 * time.Second)
	return &gameday.State{
		Header: gameday.Header{ID: "abc123", Run: "r", Started: started, Heartbeat: now},
		Seed:   42, Every: 11111 * time.Millisecond, Limit: 10 * time.Minute,
		Faults: []gameday.Fault{
			{Kind: "kill", Party: 3, Name: "kill party 3 (SIGKILL, no restart)", Parties: []int{3}, Tag: "gd-abc123-1", At: 11111 * time.Millisecond,
				InjectedAt: started.Add(13377 * time.Millisecond)},
			{Kind: "latency", Link: [2]int{2, 4}, Name: "latency on link 2-4 (+700ms)", Parties: []int{2, 4}, Tag: "gd-abc123-2", At: 22222*time.Millisecond + 4*time.Hour},
		},
	}
}

// truthIn lists what of the hidden faults a body holds: each fault's
// kind (a word), target, name, tag, and its times (as a timestamp, and
// as seconds since the start the way a board writes them).
func truthIn(s *gameday.State, body string) []string {
	var found []string
	has := func(what, needle string) {
		if strings.Contains(body, needle) {
			found = append(found, fmt.Sprintf("%s %q", what, needle))
		}
	}
	for i, f := range s.Faults {
		if regexp.MustCompile(`\b` + f.Kind + `\b`).MatchString(body) {
			found = append(found, fmt.Sprintf("fault %d's kind %q", i+1, f.Kind))
		}
		has("target", f.Target())
		has("name", f.Name)
		has("tag", f.Tag)
		has("due at", fmt.Sprint(f.At.Seconds()))
		if !f.InjectedAt.IsZero() {
			has("injected at", f.InjectedAt.Format(time.RFC3339Nano))
			has("injected at", f.InjectedAt.Format(time.RFC3339))
			has("injected at", fmt.Sprint(f.InjectedAt.Sub(s.Started).Seconds()))
		}
	}
	return found
}

func standInServer(t *testing.T, halted *atomic.Int32) (*Server, *httptest.Server, *gameday.State) {
	t.Helper()
	s := standIn(time.Now())
	two := 2
	srv, err := New(Options{
		Token: token,
		Read: func(context.Context) (*Facts, error) {
			return &Facts{At: time.Now(), Run: "r", N: 4, T: 1, State: s, Parties: []partystate.Party{
				{Party: 1, State: "running", Health: "Healthy", PeersUp: &two, Peers: 3},
				{Party: 2, State: "running", Health: "Healthy", PeersUp: &two, Peers: 3},
				{Party: 3, State: "exited"},
				{Party: 4, State: "running", Health: "Healthy", PeersUp: &two, Peers: 3},
			}, Diagnoses: []gameday.Diagnosis{{At: s.Started.Add(time.Minute), Party: 1, Kind: "pause", Text: "slow answers"}}}, nil
		},
		Halt: func(context.Context, string) error { halted.Add(1); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Refresh(context.Background())
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return srv, hs, s
}

// get reads a whole response; a stream (that never ends) is cut after
// a while, and what came by then is its body.
func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// events reads a stream's first n boards.
func events(t *testing.T, u string, n int, between func()) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%s: %s, %s", u, resp.Status, resp.Header.Get("Content-Type"))
	}
	var all strings.Builder
	r := bufio.NewReader(resp.Body)
	for boards := 0; boards < n; {
		line, err := r.ReadString('\n')
		all.WriteString(line)
		if err != nil {
			t.Fatalf("%s: after %d boards: %v\n%s", u, boards, err, all.String())
		}
		if strings.HasPrefix(line, "data: ") {
			boards++
			if boards < n {
				between()
			}
		}
	}
	return all.String()
}

// Every byte the players' endpoints serve — the page, its assets, the
// event stream over several boards — holds nothing of the hidden faults,
// and yet shows the cluster: the parties, the diagnosis, the time.
func TestPlayersEndpointsCarryNoTruth(t *testing.T) {
	srv, hs, s := standInServer(t, new(atomic.Int32))
	var all strings.Builder
	for _, path := range []string{"/", "/assets/app.js", "/assets/style.css"} {
		code, body := get(t, hs.URL+path)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d", path, code)
		}
		all.WriteString(body)
	}
	stream := events(t, hs.URL+"/events", 3, func() {
		s.Heartbeat = s.Heartbeat.Add(time.Second)
		s.Ops.OK += 13
		srv.Refresh(context.Background())
	})
	all.WriteString(stream)
	if found := truthIn(s, all.String()); len(found) > 0 {
		t.Errorf("the players' endpoints carry the truth: %s", strings.Join(found, ", "))
	}
	for _, want := range []string{`"party":3,"state":"exited"`, `"grade":"Healthy"`, `"text":"slow answers"`, `"gameday":"abc123"`, `"per_second":13`} {
		if !strings.Contains(stream, want) {
			t.Errorf("the players' stream lacks %s:\n%s", want, stream)
		}
	}
	// The check can see the truth where it is: the facilitator's stream.
	if found := truthIn(s, events(t, hs.URL+"/facilitator/events?token="+token, 1, nil)); len(found) < 8 {
		t.Errorf("the facilitator's stream shows only %v of the truth", found)
	}
}

// The facilitator's endpoints need the token: without it or with another
// they answer 403 and nothing of the truth, and a halt is not pulled.
func TestFacilitatorNeedsTheToken(t *testing.T) {
	var halted atomic.Int32
	_, hs, s := standInServer(t, &halted)
	for _, tok := range []string{"", "?token=", "?token=wrong", "?token=" + token[:len(token)-1], "?token=" + token + "x"} {
		for _, path := range []string{"/facilitator", "/facilitator/events"} {
			code, body := get(t, hs.URL+path+tok)
			if code != http.StatusForbidden || len(truthIn(s, body)) > 0 {
				t.Errorf("GET %s%s: %d %q; want 403 and nothing of the truth", path, tok, code, body)
			}
		}
		resp, err := http.PostForm(hs.URL+"/facilitator/halt"+tok, url.Values{"cause": {"x"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST /facilitator/halt%s: %s; want 403", tok, resp.Status)
		}
	}
	if n := halted.Load(); n != 0 {
		t.Fatalf("the halt was pulled %d times without the token", n)
	}
	code, body := get(t, hs.URL+"/facilitator?token="+token)
	if code != http.StatusOK || !strings.Contains(body, `data-view="facilitator"`) {
		t.Errorf("GET /facilitator with the token: %d %.80q", code, body)
	}
	resp, err := http.PostForm(hs.URL+"/facilitator/halt?token="+token, url.Values{"cause": {"smoke in the room"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || halted.Load() != 1 || !strings.Contains(string(b), "halted: smoke in the room") {
		t.Errorf("POST /facilitator/halt with the token: %s %q, halts %d; want it pulled once", resp.Status, b, halted.Load())
	}
}

// Options.Metrics is served at /metrics beside the pages, so the room's
// screen and Prometheus share one server; without it /metrics is none.
func TestMetricsBesideThePages(t *testing.T) {
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, `kmschaos_runs_recorded{backend="docker"} 3`)
	})
	for _, c := range []struct {
		metrics  http.Handler
		code     int
		contains string
	}{{metrics, http.StatusOK, `kmschaos_runs_recorded{backend="docker"} 3`}, {nil, http.StatusNotFound, "404"}} {
		srv, err := New(Options{Token: token, Metrics: c.metrics,
			Read: func(context.Context) (*Facts, error) { return &Facts{At: time.Now()}, nil },
			Halt: func(context.Context, string) error { return nil }})
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(srv.Handler())
		code, body := get(t, hs.URL+"/metrics")
		hs.Close()
		if code != c.code || !strings.Contains(body, c.contains) {
			t.Errorf("/metrics with Options.Metrics %v: %d %q; want %d with %q", c.metrics != nil, code, body, c.code, c.contains)
		}
	}
}
