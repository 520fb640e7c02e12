package liveview

import (
	"context"
	"crypto/subtle"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/kmschaos/kmschaos/fixtures"
)

// TokenPurpose is what the facilitator's token is derived for from the
// game day's key (gameday.State.Derive).
const TokenPurpose = "kmschaos live view: facilitator"

//go:embed assets
var assets embed.FS

// Options of a live view.
type Options struct {
	// Read reads the facts of a board (ReadCluster, or a test's).
	Read func(context.Context) (*Facts, error)
	// Token opens the facilitator's pages; it must not be empty.
	Token string
	// Halt pulls the cluster's safety lever: heal every fault now.
	Halt func(ctx context.Context, cause string) error
	// Every is how often the facts are read (fixtures' gameday.live_view).
	Every time.Duration
	// Log is told what failed (a read, a halt); nil says nothing.
	Log func(format string, a ...any)
	// Metrics, when set, is served at /metrics beside the pages (the
	// results store for Prometheus, resultmetrics.Handler): one server
	// for the room's screen and the scraper.
	Metrics http.Handler
}

// Server serves the live view: the players' page (/), the facilitator's
// (/facilitator?token=…), their event streams and the halt.
type Server struct {
	o     Options
	board Board
	poke  chan struct{}

	mu          sync.Mutex
	players     []byte // the last boards, as sent
	facilitator []byte
	changed     chan struct{} // closed when they change
}

// New makes a server; Run reads the cluster, Handler serves.
func New(o Options) (*Server, error) {
	if o.Token == "" || o.Read == nil || o.Halt == nil {
		return nil, errors.New("a live view needs a token, a reader and a halt")
	}
	if o.Every <= 0 {
		o.Every = fixtures.Intervals.GameDay.LiveView
	}
	if o.Log == nil {
		o.Log = func(string, ...any) {}
	}
	return &Server{o: o, poke: make(chan struct{}, 1), changed: make(chan struct{})}, nil
}

// Serve reads the cluster and serves on ln until ctx ends.
func Serve(ctx context.Context, ln net.Listener, o Options) error {
	s, err := New(o)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: fixtures.Intervals.GameDay.ReadHeader, BaseContext: func(net.Listener) context.Context { return ctx }}
	go s.Run(ctx)
	go func() {
		<-ctx.Done()
		_ = srv.Close() // the event streams never end by themselves
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Run reads the facts every Options.Every (at once after a halt) and
// publishes the boards, until ctx ends.
func (s *Server) Run(ctx context.Context) {
	t := time.NewTicker(s.o.Every)
	defer t.Stop()
	for {
		s.Refresh(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.poke:
		}
	}
}

// Refresh reads the facts once and publishes the boards; a failed read
// keeps the last boards, saying why.
func (s *Server) Refresh(ctx context.Context) {
	f, err := s.o.Read(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		s.o.Log("reading the cluster: %v", err)
		s.mu.Lock()
		p, fc := s.players, s.facilitator
		s.mu.Unlock()
		s.publish(withError(p, err), withError(fc, err))
		return
	}
	p, fc := s.board.Build(f)
	pb, err1 := json.Marshal(p)
	fb, err2 := json.Marshal(fc)
	if err := errors.Join(err1, err2); err != nil {
		s.o.Log("encoding the board: %v", err)
		return
	}
	s.publish(pb, fb)
}

// withError is a board as sent with its error set to err.
func withError(board []byte, err error) []byte {
	m := map[string]any{}
	if board != nil {
		_ = json.Unmarshal(board, &m) // our own encoding
	}
	m["error"] = "cannot read the cluster: " + err.Error()
	b, _ := json.Marshal(m)
	return b
}

func (s *Server) publish(players, facilitator []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.players, s.facilitator = players, facilitator
	close(s.changed)
	s.changed = make(chan struct{})
}

// Handler serves the pages, the assets, the streams and the halt.
func (s *Server) Handler() http.Handler {
	static, _ := fs.Sub(assets, "assets")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", page(static, "players.html"))
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", http.FileServerFS(static)))
	mux.HandleFunc("GET /events", s.stream(func() []byte { return s.players }))
	mux.HandleFunc("GET /facilitator", s.facilitatorOnly(page(static, "facilitator.html")))
	mux.HandleFunc("GET /facilitator/events", s.facilitatorOnly(s.stream(func() []byte { return s.facilitator })))
	mux.HandleFunc("POST /facilitator/halt", s.facilitatorOnly(s.halt))
	if s.o.Metrics != nil {
		mux.Handle("GET /metrics", s.o.Metrics)
	}
	return noCache(mux)
}

// noCache: a board is live, and a page from the last game day is not
// this one's.
func noCache(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		// Every asset is the binary's own: nothing from elsewhere runs.
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:")
		w.Header().Set("Referrer-Policy", "no-referrer") // the facilitator's URL carries the token
		h.ServeHTTP(w, r)
	})
}

func page(static fs.FS, name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := fs.ReadFile(static, name)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(b)
	}
}

// facilitatorOnly lets through a request with the game day's token
// (compared in constant time), and answers anything else 403 with
// nothing of the truth.
func (s *Server) facilitatorOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.URL.Query().Get("token")), []byte(s.o.Token)) != 1 {
			http.Error(w, "403 forbidden: the facilitator's view needs the URL 'kmschaos gameday serve' printed", http.StatusForbidden)
			return
		}
		h(w, r)
	}
}

// keepAlive: a comment line on a quiet stream, so a proxy or a sleeping
// laptop's network does not drop it unseen.
var keepAlive = fixtures.Intervals.GameDay.KeepAlive

// stream sends board() as a server-sent event each time it changes.
func (s *Server) stream(board func() []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		flush, ok := w.(http.Flusher)
		if !ok {
			http.Error(w, "streaming unsupported", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		// The browser reconnects after this long if the stream breaks.
		fmt.Fprint(w, "retry: 2000\n\n")
		flush.Flush()
		var sent []byte
		t := time.NewTicker(keepAlive)
		defer t.Stop()
		for {
			s.mu.Lock()
			b, changed := board(), s.changed
			s.mu.Unlock()
			if b != nil && string(b) != string(sent) {
				if _, err := fmt.Fprintf(w, "event: board\ndata: %s\n\n", b); err != nil {
					return
				}
				flush.Flush()
				sent = b
			}
			select {
			case <-r.Context().Done():
				return
			case <-changed:
			case <-t.C:
				if _, err := fmt.Fprint(w, ": alive\n\n"); err != nil {
					return
				}
				flush.Flush()
			}
		}
	}
}

// halt pulls the lever with the cause the facilitator gave, then reads
// the cluster at once so both views show it.
func (s *Server) halt(w http.ResponseWriter, r *http.Request) {
	cause := strings.TrimSpace(r.FormValue("cause"))
	if cause == "" {
		cause = "the facilitator pulled the halt in the live view"
	}
	if err := s.o.Halt(r.Context(), cause); err != nil {
		s.o.Log("halt: %v", err)
		http.Error(w, "halt failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	select {
	case s.poke <- struct{}{}:
	default:
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "halted: %s\n", cause)
}
