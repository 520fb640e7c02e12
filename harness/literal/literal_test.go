package literal

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/harness/guide"
)

// localShell runs blocks through this machine's bash: the tracer and the
// judging are the same as in the toolbox.
type localShell struct{ dir string }

func (l localShell) CopyIn(_ context.Context, content []byte, path string, mode int64) error {
	return os.WriteFile(path, content, os.FileMode(mode))
}

func (l localShell) Exec(ctx context.Context, cmd ...string) (cluster.ExecResult, error) {
	c := exec.CommandContext(ctx, cmd[0], cmd[1:]...)
	c.Dir = l.dir
	var out, errb strings.Builder
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code, err = ee.ExitCode(), nil
	}
	return cluster.ExecResult{ExitCode: code, Stdout: out.String(), Stderr: errb.String()}, err
}

const testMapping = `
names:
  - guide: "<PORT>"
    cluster: "{{api_port}}"
    why: the port
  - pattern: 'host-(\d+)'
    cluster: 'party-${1}'
    why: hosts are parties
commands:
  - name: compose
    why: no compose here
    function: |
      compose() { echo "compose $* on {{container}}"; }
unsafe:
  - text: "rm -rf /"
    why: it removes everything
tools:
  - name: nosuchtool
    why: not in the toolbox
`

func mapping(t *testing.T) *Mapping {
	t.Helper()
	m, err := ParseMapping("mapping.yaml", []byte(testMapping))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func parse(t *testing.T, md string) *guide.Guide {
	t.Helper()
	g, err := guide.Parse("guide.md", []byte(md))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

var vars = map[string]string{"api_port": "50100", "container": "kms-1"}

func run(t *testing.T, g *guide.Guide, addr string, limit time.Duration) *Outcome {
	t.Helper()
	b := g.Lookup(addr)
	if b == nil {
		t.Fatalf("no %s", addr)
	}
	m := mapping(t)
	s, err := Prepare(g, b, m, vars)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	o, err := Run(context.Background(), localShell{dir}, g, s, m, Options{Limit: limit, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestEachCommandIsJudgedOnItsOwnLine(t *testing.T) {
	g := parse(t, "# G\n\n## S\n\n```bash\n# a comment\necho on port <PORT>\nls /no/such/dir\nnosuchtool --flag\nfalse | true\ncompose stop kms-server\necho host-3\n```\n")
	o := run(t, g, "S > block 1", 10*time.Second)
	want := []Status{Ran, Failed, Absent, Ran, Ran, Ran}
	if len(o.Lines) != len(want) {
		t.Fatalf("%d commands, want %d: %s", len(o.Lines), len(want), o.Signature())
	}
	for i, w := range want {
		if o.Lines[i].Status != w {
			t.Errorf("command %q: %s, want %s (stderr %q)", o.Lines[i].Text, o.Lines[i].Status, w, o.Lines[i].Stderr)
		}
	}
	if l := o.Lines[2]; l.Tool != "nosuchtool" || l.Why != "nosuchtool: not in the toolbox" {
		t.Errorf("absent tool: %q %q", l.Tool, l.Why)
	}
	if o.Status != Failed {
		t.Errorf("block %s, want failed", o.Status)
	}
	for _, s := range []string{"on port 50100", "compose stop kms-server on kms-1", "party-3"} {
		if !strings.Contains(o.Stdout, s) {
			t.Errorf("stdout lacks %q:\n%s", s, o.Stdout)
		}
	}
	if len(o.Lines[0].Mapped) != 1 || len(o.Lines[4].Mapped) != 1 || len(o.Lines[5].Mapped) != 1 || len(o.Lines[1].Mapped) != 0 {
		t.Errorf("mapped marks wrong: %+v", o.Lines)
	}
}

func TestACommandStillRunningAtTheLimitIsInterrupted(t *testing.T) {
	g := parse(t, "# G\n\n## S\n\n```bash\necho start\nsleep 30\necho never\n```\n")
	o := run(t, g, "S > block 1", 2*time.Second)
	if got := o.Signature(); got != "interrupted; 1 ran; 2 interrupted; 3 not reached" {
		t.Errorf("signature %q", got)
	}
}

func TestAnUnmappedPlaceholderIsRefusedNotRun(t *testing.T) {
	g := parse(t, "# G\n\n## S\n\n```bash\necho ok\nkill <pid>\n```\n")
	_, err := Prepare(g, g.Lookup("S > block 1"), mapping(t), vars)
	var ie *guide.InputError
	if !errors.As(err, &ie) || ie.Line != 7 || ie.Text != "kill <pid>" || !strings.Contains(ie.Msg, "<pid> has no mapping") {
		t.Fatalf("want a refusal naming guide.md:7, got %v", err)
	}
}

func TestUnsafeTextIsNeverRun(t *testing.T) {
	dir := t.TempDir()
	flag := filepath.Join(dir, "ran")
	g := parse(t, "# G\n\n## S\n\n```bash\ntouch "+flag+"\nrm -rf /\n```\n")
	o := run(t, g, "S > block 1", 5*time.Second)
	if o.Status != UnsafeHere || o.Why != "it removes everything" {
		t.Errorf("status %s %q", o.Status, o.Why)
	}
	if _, err := os.Stat(flag); err == nil {
		t.Error("a line of an unsafe block ran")
	}
}

func TestMappingTablesAreCheckedWhenLoaded(t *testing.T) {
	for name, tc := range map[string]struct{ yaml, want string }{
		"unknown variable": {"names:\n  - guide: x\n    cluster: '{{nope}}'\n    why: y\n", "mapping.yaml:2: unknown variable {{nope}}"},
		"unknown key":      {"names:\n  - guide: x\n    cluster: y\n    reason: z\n", `mapping.yaml:4: unknown key "reason"`},
		"no reason":        {"tools:\n  - name: jmap\n", "mapping.yaml:2: a tool needs name and why"},
		"bad pattern":      {"names:\n  - pattern: '('\n    cluster: y\n    why: z\n", "mapping.yaml:2: pattern:"},
		"function missing": {"commands:\n  - name: ssh\n    why: w\n    function: 'echo'\n", "defines ssh()"},
		"not yaml":         {"names: [\n", "mapping.yaml:"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseMapping("mapping.yaml", []byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestTheShippedMappingLoadsAndCoversTheGuide(t *testing.T) {
	m, err := LoadMapping("../../fixtures/guide/mapping.yaml")
	if err != nil {
		t.Fatal(err)
	}
	g, err := guide.ParseFile("../../fixtures/guide/troubleshooting-guide.md")
	if err != nil {
		t.Fatal(err)
	}
	all := map[string]string{}
	for _, v := range Vars {
		all[v] = "x"
	}
	for _, b := range g.OfKind(guide.KindBlock) {
		if _, err := Prepare(g, b, m, all); err != nil {
			t.Errorf("%s: %v", b.Address, err)
		}
	}
}

func TestThePlanCountsHowEachCommandRuns(t *testing.T) {
	g := parse(t, "# G\n\n## S\n\n```bash\necho <PORT>\nls\n```\n\n## U\n\n```bash\nrm -rf /\n```\n\n## R\n\n```bash\nkill <pid>\n```\n")
	p := PlanGuide(g, mapping(t))
	if p.Blocks != 3 || p.Commands != 3 || p.Verbatim != 1 || p.Mapped != 1 || p.Unsafe != 1 || len(p.Refused) != 1 {
		t.Errorf("plan %+v", p)
	}
	if got := p.String(); !strings.Contains(got, "67% run verbatim or mapped") {
		t.Errorf("%s", got)
	}
}

// BenchmarkPlanGuide: parsing the guide and the mapping table and preparing
// every block, what `guide check` adds, without a cluster.
func BenchmarkPlanGuide(b *testing.B) {
	for b.Loop() {
		g, err := guide.ParseFile("../../fixtures/guide/troubleshooting-guide.md")
		if err != nil {
			b.Fatal(err)
		}
		m, err := LoadMapping("../../fixtures/guide/mapping.yaml")
		if err != nil {
			b.Fatal(err)
		}
		if p := PlanGuide(g, m); p.Commands == 0 {
			b.Fatal("no commands")
		}
	}
}
