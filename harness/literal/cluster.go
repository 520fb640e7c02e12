package literal

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/fixtures"
	"github.com/kmschaos/kmschaos/harness/guide"
	"github.com/kmschaos/kmschaos/harness/report"
)

// PartyVars are the mapping's variables for party i of c, as the toolbox
// on its host sees them.
func PartyVars(c *cluster.Cluster, i int) map[string]string {
	p := c.Profile
	n := c.Topology.N
	return map[string]string{
		"party": strconv.Itoa(i), "n": strconv.Itoa(n), "t": strconv.Itoa(c.Topology.T),
		"api_port": strconv.Itoa(p.APIPort), "p2p_port": strconv.Itoa(p.P2PPort), "metrics_port": strconv.Itoa(p.MetricsPort),
		"container": c.PartyName(i), "container_prefix": c.PartyNamePrefix(),
		"host": c.PartyHost(i), "peer_host": c.PartyHost(i%n + 1), "uid": p.UID(),
		"priv":          path.Join(p.KeysDir, fmt.Sprintf("PRIV-p%d", i)),
		"pub":           path.Join(p.KeysDir, fmt.Sprintf("PUB-p%d", i)),
		"backup":        path.Join(p.BackupDir, fmt.Sprintf("BACKUP-p%d", i)),
		"config":        p.ConfigFile,
		"backup_config": path.Join(p.BackupDir, path.Base(p.ConfigFile)),
	}
}

// Runner runs the guide's blocks on a cluster's parties.
type Runner struct {
	C       *cluster.Cluster
	Guide   *guide.Guide
	Mapping *Mapping
	Options Options
}

// Block runs the block at addr on party i's host, in a toolbox opened for
// it and removed after.
func (r *Runner) Block(ctx context.Context, i int, addr string) (*Outcome, error) {
	b := r.Guide.Lookup(addr)
	if b == nil || b.Kind != guide.KindBlock {
		return nil, fmt.Errorf("%s: no code block at %q", r.Guide.File, addr)
	}
	s, err := Prepare(r.Guide, b, r.Mapping, PartyVars(r.C, i))
	if err != nil {
		return nil, err
	}
	if s.Unsafe != nil { // never even open a shell for it
		o, err := Run(ctx, nil, r.Guide, s, r.Mapping, r.Options)
		if o != nil {
			o.Party = i
		}
		return o, err
	}
	tb, err := r.C.OpenToolbox(ctx, i, !s.OwnNamespaces)
	if err != nil {
		return nil, err
	}
	defer tb.Close(ctx)
	return r.RunIn(ctx, tb, s)
}

// RunIn runs a prepared block in an open toolbox.
func (r *Runner) RunIn(ctx context.Context, tb *cluster.Toolbox, s *Script) (*Outcome, error) {
	o, err := Run(ctx, tb, r.Guide, s, r.Mapping, r.Options)
	if o != nil {
		o.Party = tb.Party
	}
	return o, err
}

// ShellBlocks lists the guide's shell blocks (bash, sh, shell or no info
// string), in the guide's order.
func ShellBlocks(g *guide.Guide) []*guide.Node {
	var out []*guide.Node
	for _, b := range g.OfKind(guide.KindBlock) {
		switch b.Title {
		case "bash", "sh", "shell", "console", "":
			out = append(out, b)
		}
	}
	return out
}

// DefaultLimit bounds a block that does not end by itself.
var DefaultLimit = fixtures.Intervals.Literal.Limit

// Report is the outcome as the scorecard shows it.
func (o *Outcome) Report(under string) report.GuideBlock {
	b := report.GuideBlock{Address: o.Address, Line: o.Line, Party: o.Party, Under: under, Status: string(o.Status),
		Signature: o.Signature(), Took: o.Took, Why: o.Why, Output: o.Stdout}
	for _, l := range o.Lines {
		c := report.GuideCommand{Line: l.Line, Text: l.Text, Status: string(l.Status), Exit: l.Exit, Tool: l.Tool, Why: l.Why}
		for _, u := range l.Mapped {
			c.Mapped = append(c.Mapped, u.Guide+" → "+u.Cluster+" ("+u.Why+")")
		}
		b.Commands = append(b.Commands, c)
	}
	return b
}

// ReadArchives reads, into memory, every member of the tar.gz archives a
// block left in the working directory (auto-diagnose.sh's), keyed
// "archive/member". They never reach the host's disk: the harness judges
// them (secrets.Set.Check) and keeps nothing.
func ReadArchives(ctx context.Context, sh Shell, pattern string) (map[string][]byte, error) {
	ls, err := sh.Exec(ctx, "find", WorkDir, "-maxdepth", "1", "-name", pattern)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, a := range strings.Fields(ls.Stdout) {
		list, err := sh.Exec(ctx, "tar", "-tzf", a)
		if err != nil {
			return nil, err
		}
		for _, m := range strings.Fields(list.Stdout) {
			if strings.HasSuffix(m, "/") {
				continue
			}
			r, err := sh.Exec(ctx, "tar", "-xzOf", a, m)
			if err != nil {
				return nil, err
			}
			out[path.Base(a)+"/"+m] = []byte(r.Stdout)
		}
	}
	return out, nil
}
