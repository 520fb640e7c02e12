package gameday

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/harness/halt"
	"github.com/kmschaos/kmschaos/harness/manual"
)

// What the facilitator's commands do, from any of the facilitator's
// processes: start a game day, keep its background process alive, tell
// where it stands, end it. The command line only parses and prints.

// Current is the game day the cluster keeps, opened with the key (a
// *KeyError if this user cannot read it); an *InputError if it keeps none.
func Current(ctx context.Context, c *cluster.Cluster) (*State, error) {
	s, err := Load(ctx, c)
	if err == nil && s == nil {
		err = noGameDay(c)
	}
	return s, err
}

// CurrentHeader is the public header of the game day the cluster keeps,
// all a player's command needs; an *InputError if it keeps none.
func CurrentHeader(ctx context.Context, c *cluster.Cluster) (*Header, error) {
	h, err := LoadHeader(ctx, c)
	if err == nil && h == nil {
		err = noGameDay(c)
	}
	return h, err
}

func noGameDay(c *cluster.Cluster) error {
	return inputf("no game day on cluster %s: start one with 'kmschaos gameday start'", c.RunID)
}

// Start starts a game day on c: refused while faults injected by hand are
// active (a game day needs the whole budget), the faults drawn and the
// game day recorded (Begin), the truth written to its sealed file, and
// its background process started. What fails after Begin aborts the game
// day: none is left half-started.
func Start(ctx context.Context, c *cluster.Cluster, o Options, now time.Time) (*State, error) {
	if err := halt.Refuse(ctx, c); err != nil {
		return nil, err
	}
	if active, err := manual.Active(ctx, c); err != nil {
		return nil, err
	} else if len(active) > 0 {
		return nil, inputf("%d fault(s) injected by hand are active: heal them first ('kmschaos heal --all'), a game day needs the whole budget", len(active))
	}
	s, err := Begin(ctx, c, o, now)
	if err != nil {
		return nil, err
	}
	if _, err := Seal(s); err != nil {
		_ = Finish(context.WithoutCancel(ctx), c, true, io.Discard)
		return nil, fmt.Errorf("writing the sealed file: %w", err)
	}
	if err := startRunner(c, &s.Header); err != nil {
		_ = Finish(context.WithoutCancel(ctx), c, true, io.Discard)
		return nil, fmt.Errorf("starting the game day's background process: %w", err)
	}
	return s, nil
}

// runnerCommand is the background process of a game day on cluster run:
// this executable's hidden 'gameday run', with the flags that reach the
// cluster's backend. A test puts another in.
var runnerCommand = func(run string, backend []string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return exec.Command(exe, append([]string{"gameday", "run", "--run", run}, backend...)...), nil
}

// startRunner starts the game day's background process, detached, its
// output appended to its log (Files.Log). It runs as this user: the
// facilitator, who can read the key.
func startRunner(c *cluster.Cluster, h *Header) error {
	cmd, err := runnerCommand(c.RunID, h.Backend)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(h.Dir, 0o755); err != nil {
		return err
	}
	// The facilitator's: it tells when faults came.
	log, err := os.OpenFile(h.Files().Log(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	return cmd.Process.Release()
}

// Revive starts a new background process for a running game day whose
// process died (no heartbeat): what the facilitator's new shell does
// after a crash. It says whether it started one.
func Revive(c *cluster.Cluster, h *Header, now time.Time) (bool, error) {
	if !h.Running() || h.Alive(now) {
		return false, nil
	}
	return true, startRunner(c, h)
}

// Status is where a game day stands, without its faults: what 'gameday
// status' tells the facilitator.
type Status struct {
	ID        string     `json:"id"`
	Run       string     `json:"run"`
	State     string     `json:"state"` // Header.Stage
	ElapsedS  float64    `json:"elapsed_s"`
	Faults    int        `json:"faults"`
	Injected  int        `json:"injected"`
	NextInS   *float64   `json:"next_in_s,omitempty"` // none once every fault is in, or the game day ended
	Diagnoses int        `json:"diagnoses"`
	Runner    bool       `json:"runner_alive"`
	PID       int        `json:"runner_pid"`     // the background process, on the host that started the game day
	Halt      *halt.Halt `json:"halt,omitempty"` // the halt that ended it
}

// StatusOf tells where game day s stands at now, with the diagnoses
// recorded so far.
func StatusOf(ctx context.Context, c *cluster.Cluster, s *State, now time.Time) (Status, error) {
	diags, err := Diagnoses(ctx, c)
	if err != nil {
		return Status{}, err
	}
	st := Status{ID: s.ID, Run: s.Run, State: s.Stage(), ElapsedS: now.Sub(s.Started).Seconds(), Faults: len(s.Faults),
		Diagnoses: len(diags), Runner: s.Running() && s.Alive(now), PID: s.PID, Halt: s.Halt}
	for _, f := range s.Faults {
		if !f.InjectedAt.IsZero() {
			st.Injected++
		} else if st.NextInS == nil && s.Running() {
			next := max(0, s.Started.Add(f.At).Sub(now)).Seconds()
			st.NextInS = &next
		}
	}
	if !s.Running() {
		st.ElapsedS = s.Ended.Sub(s.Started).Seconds()
	}
	return st, nil
}

// Report is what a game day's reports are made of: the game day, what
// the players said and the runbooks they ran.
type Report struct {
	State     *State
	Diagnoses []Diagnosis
	Notes     []Note
}

// End ends game day s from the facilitator's process — abort heals
// everything at once — and reads its report. A running game day's
// background process is asked to end it and awaited while it lives; if it
// is gone the game day is ended from here. say is told each of these.
func End(ctx context.Context, c *cluster.Cluster, s *State, abort bool, say func(string)) (*Report, error) {
	if s.Running() {
		if err := RequestStop(ctx, c, abort, time.Now()); err != nil {
			return nil, err
		}
		verb := "end"
		if abort {
			verb = "abort"
		}
		say(fmt.Sprintf("asked the background process to %s the game day", verb))
		h, err := AwaitEnd(ctx, c, &s.Header)
		if err != nil {
			return nil, err
		}
		if h.Running() {
			say("the background process is gone: ending the game day from here")
			if err := Finish(ctx, c, abort, io.Discard); err != nil {
				return nil, err
			}
		}
		if s, err = Load(ctx, c); err != nil {
			return nil, err
		}
		if s == nil {
			return nil, errGone
		}
	}
	diags, err := Diagnoses(ctx, c)
	if err != nil {
		return nil, err
	}
	notes, err := Notes(ctx, c)
	if err != nil {
		return nil, err
	}
	return &Report{State: s, Diagnoses: diags, Notes: notes}, nil
}

var errGone = errors.New("the game day's record is gone")

// AwaitEnd waits for the background process to end the game day, as long
// as it is alive, reading the record every Tick (the runner's own pace),
// and returns the header then (still running if the runner died first).
func AwaitEnd(ctx context.Context, c *cluster.Cluster, h *Header) (*Header, error) {
	for h.Running() && h.Alive(time.Now()) {
		select {
		case <-ctx.Done():
			return h, ctx.Err()
		case <-time.After(Tick):
		}
		n, err := LoadHeader(ctx, c)
		if err != nil {
			return h, err
		}
		if n == nil {
			return h, errGone
		}
		h = n
	}
	return h, nil
}
