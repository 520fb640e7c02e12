package literal

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/fixtures"
	"github.com/kmschaos/kmschaos/harness/guide"
)

// Shell is where a block runs: the operator's toolbox on a party's host
// (*cluster.Toolbox), or, in unit tests, a bash on this machine.
type Shell interface {
	Exec(ctx context.Context, cmd ...string) (cluster.ExecResult, error)
	CopyIn(ctx context.Context, content []byte, path string, mode int64) error
}

// Status is what happened to one command of the guide, or to a block.
type Status string

// Statuses, from good to bad.
const (
	Ran         Status = "ran"         // exit 0, no error output
	Failed      Status = "failed"      // non-zero exit status or an error printed
	Option      Status = "bad option"  // the tool lacks an option the guide uses
	Absent      Status = "tool absent" // command not found in the toolbox
	Privileges  Status = "privileges"  // the kernel refused: a capability the container lacks
	Terminal    Status = "needs a tty" // an interactive command without a terminal
	Interrupted Status = "interrupted" // still running at the block's limit (a follow/stream command)
	NotReached  Status = "not reached" // the block ended before this line (an exit, a kill)
	UnsafeHere  Status = "unsafe"      // never run on a shared host
)

// Line is the outcome of one command of the guide.
type Line struct {
	Line, End int    // guide lines
	Text      string // the command as the guide writes it
	Status    Status
	Exit      int    // last exit status seen on its lines
	Tool      string // the absent tool
	Why       string // the mapping's reason for an absent tool, or the error line
	Stderr    string
	Mapped    []Use
}

// Outcome is the outcome of one block.
type Outcome struct {
	Address string
	Line    int // the block's fence
	Party   int
	Status  Status
	Exit    int
	Lines   []Line
	Stdout  string // bounded, redacted: what a report shows
	// Raw is the whole stdout, redacted but not bounded, for judging in
	// memory (does it show the fault?); never written anywhere.
	Raw  string
	Took time.Duration
	Why  string // unsafe or refused: the reason
}

// Signature is the outcome in one stable line, for expectations: the
// block's status and each command's by its rank in the block, without
// output, timing or guide line (an edit elsewhere in the guide moves lines).
func (o *Outcome) Signature() string {
	parts := []string{string(o.Status)}
	for i, l := range o.Lines {
		s := fmt.Sprintf("%d %s", i+1, l.Status)
		if l.Tool != "" {
			s += "(" + l.Tool + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// Options of a run.
type Options struct {
	// Limit bounds the block (default 20 s); a command still running then
	// is killed and reported interrupted.
	Limit time.Duration
	// Redact masks secrets in captured output (secrets.Mask: it must not
	// bound it, Run bounds what a report keeps); nil keeps it as is.
	Redact func(string) string
	// MaxOutput bounds the stdout kept (default 4 KiB).
	MaxOutput int
	// Dir is where the prelude and the block are written in the shell's
	// file system (default /tmp).
	Dir string
}

const marker = "@@kmschaos"

// tracer reports, before each command of the block, the exit status of
// the one before and the line of the next; and the status at the end.
const tracer = `trap 'printf "\n` + marker + `-exit %s\n" "$?" >&2' EXIT
trap 'printf "\n` + marker + ` %s %s\n" "$?" "$LINENO" >&2' DEBUG`

// Run runs a prepared block in sh and reports each of its commands.
func Run(ctx context.Context, sh Shell, g *guide.Guide, s *Script, m *Mapping, o Options) (*Outcome, error) {
	if o.Limit <= 0 {
		o.Limit = DefaultLimit
	}
	if o.MaxOutput <= 0 {
		o.MaxOutput = 4096
	}
	if o.Dir == "" {
		o.Dir = "/tmp"
	}
	preludePath, blockPath := o.Dir+"/kmschaos-prelude.sh", o.Dir+"/kmschaos-block.sh"
	if o.Redact == nil {
		o.Redact = func(s string) string { return s }
	}
	out := &Outcome{Address: s.Block.Address, Line: s.Block.Line}
	cmds := commandsOf(g, s)
	if s.Unsafe != nil {
		out.Status, out.Why = UnsafeHere, s.Unsafe.Why
		for _, c := range cmds {
			c.Status = UnsafeHere
			out.Lines = append(out.Lines, c)
		}
		return out, nil
	}
	if err := sh.CopyIn(ctx, []byte(s.Prelude+"\n"+tracer+"\n"), preludePath, 0o644); err != nil {
		return nil, err
	}
	if err := sh.CopyIn(ctx, []byte(s.Body+"\n"), blockPath, 0o755); err != nil {
		return nil, err
	}
	secs := strconv.Itoa(int((o.Limit + time.Second - 1) / time.Second))
	start := time.Now()
	// The shell's own limit ends the block; this one ends an exec the
	// engine never finishes (a process namespace torn down under it).
	ectx, cancel := context.WithTimeout(ctx, o.Limit+fixtures.Intervals.Literal.ExecGrace)
	defer cancel()
	res, err := sh.Exec(ectx, "env", "BASH_ENV="+preludePath, "timeout", "-s", "KILL", secs, "bash", blockPath)
	if err != nil {
		return nil, err
	}
	out.Took = time.Since(start)
	out.Exit = res.ExitCode
	out.Raw = o.Redact(res.Stdout)
	out.Stdout = bound(out.Raw, o.MaxOutput)
	tr := parseTrace(o.Redact(res.Stderr))
	for _, c := range cmds {
		judge(&c, tr, s.Block.Line, m)
		out.Lines = append(out.Lines, c)
	}
	out.Status = worst(out.Lines)
	if !tr.exited && out.Status == Ran {
		out.Status = Interrupted
	}
	return out, nil
}

// commandsOf lists the block's commands as the guide addresses them; a
// script is one command, the block.
func commandsOf(g *guide.Guide, s *Script) []Line {
	var out []Line
	for _, c := range s.Block.Children {
		if c.Kind == guide.KindCommand {
			l := Line{Line: c.Line, End: c.EndLine, Text: c.Text}
			for gl := c.Line; gl <= c.EndLine; gl++ {
				l.Mapped = append(l.Mapped, s.MappedAt(gl)...)
			}
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		l := Line{Line: s.Block.Line + 1, End: s.Block.EndLine - 1, Text: "(the whole script)"}
		l.Mapped = s.Mapped
		out = append(out, l)
	}
	return out
}

// trace is what the tracer printed: per block line, the last exit status
// and the error output printed while it ran.
type trace struct {
	status  map[int]int
	stderr  map[int][]string
	started map[int]bool
	last    int // the line running when the trace ended
	exited  bool
	exit    int
}

var markerLine = regexp.MustCompile(`^` + marker + ` (\d+) (\d+)$`)
var exitLine = regexp.MustCompile(`^` + marker + `-exit (\d+)$`)

func parseTrace(stderr string) *trace {
	t := &trace{status: map[int]int{}, stderr: map[int][]string{}, started: map[int]bool{}}
	cur := 0
	for _, l := range strings.Split(stderr, "\n") {
		if m := markerLine.FindStringSubmatch(l); m != nil {
			st, _ := strconv.Atoi(m[1])
			ln, _ := strconv.Atoi(m[2])
			// The status is the previous command's; on the same line it is a
			// pipeline's or a loop's stale $?, settled by a later line.
			if ln != cur && cur != 0 {
				t.status[cur] = st
			}
			cur = ln
			t.started[cur] = true
			continue
		}
		if m := exitLine.FindStringSubmatch(l); m != nil {
			t.exited = true
			t.exit, _ = strconv.Atoi(m[1])
			if cur != 0 {
				if _, ok := t.status[cur]; !ok {
					t.status[cur] = t.exit
				}
			}
			cur = 0
			continue
		}
		if strings.TrimSpace(l) != "" && cur != 0 {
			t.stderr[cur] = append(t.stderr[cur], l)
		}
	}
	t.last = cur
	return t
}

var (
	notFound   = regexp.MustCompile(`(?:line \d+: )?([^\s:]+): (?:command|applet) not found`)
	badOption  = regexp.MustCompile(`(?i)(unrecognized|invalid|unknown|illegal) (option|flag|shorthand flag)`)
	notAllowed = regexp.MustCompile(`(?i)operation not permitted`)
	noTTY      = regexp.MustCompile(`(?i)the input device is not a TTY|not a tty`)
)

// judge fills c's status from the trace; block lines are 1-based after
// the fence at fence.
func judge(c *Line, t *trace, fence int, m *Mapping) {
	started, ended := false, false
	var errs []string
	for gl := c.Line; gl <= c.End; gl++ {
		bl := gl - fence
		if t.started[bl] {
			started = true
		}
		if st, ok := t.status[bl]; ok {
			c.Exit, ended = st, true
		}
		errs = append(errs, t.stderr[bl]...)
		if t.last == bl && !t.exited {
			c.Status = Interrupted
		}
	}
	c.Stderr = bound(strings.Join(errs, "\n"), 1024)
	all := strings.Join(errs, "\n")
	switch {
	case c.Status == Interrupted:
	case !started:
		c.Status = NotReached
	case notFound.MatchString(all):
		c.Status = Absent
		var tools, whys []string
		for _, f := range notFound.FindAllStringSubmatch(all, -1) {
			if !slices.Contains(tools, f[1]) {
				tools = append(tools, f[1])
				if w := m.ToolWhy(f[1]); w != "" {
					whys = append(whys, f[1]+": "+w)
				} else {
					whys = append(whys, f[1]+": (the mapping table does not say why)")
				}
			}
		}
		c.Tool, c.Why = strings.Join(tools, ","), strings.Join(whys, "; ")
	case noTTY.MatchString(all):
		c.Status, c.Why = Terminal, firstMatch(errs, noTTY)
	case notAllowed.MatchString(all):
		c.Status, c.Why = Privileges, firstMatch(errs, notAllowed)
	case badOption.MatchString(all):
		c.Status, c.Why = Option, firstMatch(errs, badOption)
	case ended && c.Exit != 0:
		c.Status = Failed
		if len(errs) > 0 {
			c.Why = errs[0]
		}
	default:
		c.Status = Ran
	}
}

func firstMatch(lines []string, re *regexp.Regexp) string {
	for _, l := range lines {
		if re.MatchString(l) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// severity orders statuses for a block's summary: the worst line wins.
var severity = map[Status]int{Ran: 0, NotReached: 1, Interrupted: 2, Option: 3, Absent: 4, Terminal: 5, Privileges: 6, Failed: 7, UnsafeHere: 8}

func worst(lines []Line) Status {
	st := Ran
	for _, l := range lines {
		if severity[l.Status] > severity[st] {
			st = l.Status
		}
	}
	return st
}

func bound(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + fmt.Sprintf("\n… (%d more bytes)", len(s)-n)
}
