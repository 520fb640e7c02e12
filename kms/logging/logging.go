// Package logging writes one line per event with the level word first, the
// way operators grep KMS logs:
//
//	2026-11-25T19:21:03.512Z  INFO kms_server: Starting threshold KMS server... party=3
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
)

type handler struct {
	mu     *sync.Mutex
	w      io.Writer
	level  slog.Leveler
	target string
	attrs  string
}

// New returns a logger writing to w at level and above.
func New(w io.Writer, level slog.Leveler, target string) *slog.Logger {
	return slog.New(&handler{mu: &sync.Mutex{}, w: w, level: level, target: target})
}

// ParseLevel reads DEBUG, INFO, WARN or ERROR (any case); INFO otherwise.
func ParseLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelInfo
	}
	return l
}

func (h *handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

func (h *handler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Time.UTC().Format("2006-01-02T15:04:05.000Z"))
	fmt.Fprintf(&b, " %5s %s: %s", levelWord(r.Level), h.target, r.Message)
	b.WriteString(h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		writeAttr(&b, a)
		return true
	})
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	var b strings.Builder
	b.WriteString(h.attrs)
	for _, a := range as {
		writeAttr(&b, a)
	}
	c := *h
	c.attrs = b.String()
	return &c
}

func (h *handler) WithGroup(string) slog.Handler { return h }

func writeAttr(b *strings.Builder, a slog.Attr) {
	v := a.Value.Resolve()
	s := v.String()
	if v.Kind() == slog.KindTime {
		s = v.Time().Format(time.RFC3339)
	}
	if strings.ContainsAny(s, " \"=") || s == "" {
		s = fmt.Sprintf("%q", s)
	}
	fmt.Fprintf(b, " %s=%s", a.Key, s)
}

func levelWord(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "ERROR"
	case l >= slog.LevelWarn:
		return "WARN"
	case l >= slog.LevelInfo:
		return "INFO"
	default:
		return "DEBUG"
	}
}
