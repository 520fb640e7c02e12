package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kmschaos/kmschaos/harness/guide"
	"github.com/kmschaos/kmschaos/harness/literal"
)

// Exit codes of the guide commands.
const (
	exitOK       = 0
	exitFailed   = 1 // drift, a moved part or a gap
	exitBadInput = 2 // a guide, a citation or an exclusion the tools refuse
)

type guideOpts struct {
	guide, runbooks, exclusions, scenarios, mapping string
}

func guideCmd() *cobra.Command {
	o := guideOpts{}
	cmd := &cobra.Command{
		Use:   "guide",
		Short: "check that the runbooks cite the troubleshooting guide, and what a change of the guide touches",
		Long: `The guide as data: every code block, command line and numbered resolution
step of the troubleshooting guide has an address; runbook steps cite the
addresses they run or stand for, and fixtures/guide-exclusions.yaml lists
what no runbook runs, and why (it can never run on a container cluster, or
no runbook runs it yet).

  check        the coverage table; exit 1 on drift, a moved part or a gap,
               2 on input it cannot read
  diff OLD NEW the runbooks and scenarios a change of the guide touches
  run          run the guide's shell blocks as written on a party's host of a
               running cluster, through the mapping table (fixtures/guide/mapping.yaml)
  findings     the defects of the guide a run found, as docs/findings.md lists them`,
	}
	cmd.PersistentFlags().StringVar(&o.runbooks, "runbooks", "runbooks", "directory of runbook YAML files")
	check := &cobra.Command{
		Use:   "check",
		Short: "print the coverage table; exit 1 on drift, a moved part or a gap, 2 on input it cannot read",
		Args:  cobra.NoArgs,
		Run: func(c *cobra.Command, _ []string) {
			os.Exit(runGuideCheck(o, c.OutOrStdout(), c.ErrOrStderr()))
		},
	}
	check.Flags().StringVar(&o.guide, "guide", "fixtures/guide/troubleshooting-guide.md", "the guide")
	check.Flags().StringVar(&o.exclusions, "exclusions", "fixtures/guide-exclusions.yaml", "the exclusions file")
	check.Flags().StringVar(&o.mapping, "mapping", "fixtures/guide/mapping.yaml", "the mapping table the guide's blocks run through as written ('' to skip)")
	diff := &cobra.Command{
		Use:   "diff OLD NEW",
		Short: "list the runbooks (and the scenarios using them) a change of the guide touches",
		Args:  cobra.ExactArgs(2),
		Run: func(c *cobra.Command, args []string) {
			os.Exit(runGuideDiff(o, args[0], args[1], c.OutOrStdout(), c.ErrOrStderr()))
		},
	}
	diff.Flags().StringVar(&o.scenarios, "scenarios", "scenarios", "directory of the scenario catalog's Go files")
	cmd.AddCommand(check, diff, guideRunCmd(), guideFindingsCmd(), guideCoverageCmd())
	return cmd
}

// runGuideCheck is `guide check`; it returns the exit code.
func runGuideCheck(o guideOpts, stdout, stderr io.Writer) int {
	g, err := guide.ParseFile(o.guide)
	if err != nil {
		return badInput(stderr, err)
	}
	rbs, err := guide.LoadRunbookDir(o.runbooks)
	if err != nil {
		return badInput(stderr, err)
	}
	var ex *guide.Exclusions
	if o.exclusions != "" {
		if ex, err = guide.ReadExclusionsFile(o.exclusions); err != nil {
			return badInput(stderr, err)
		}
	}
	// Every file is read before a line is printed: a missing one is bad
	// input alone on stderr.
	var m *literal.Mapping
	if o.mapping != "" {
		if m, err = literal.LoadMapping(o.mapping); err != nil {
			return badInput(stderr, err)
		}
	}
	r := guide.Check(g, rbs, ex)
	if r.BadInput() {
		for _, p := range r.Problems {
			if p.BadInput() {
				fmt.Fprintln(stderr, p.String())
			}
		}
		return exitBadInput
	}
	cites := 0
	for _, rb := range rbs {
		for _, s := range rb.Steps {
			cites += len(s.Cites)
		}
	}
	nex := 0
	if ex != nil {
		nex = len(ex.Entries)
	}
	fmt.Fprintf(stdout, "guide %s (digest %s): %d runbooks in %s with %d citations, %d exclusions in %s\n",
		g.File, g.Digest, len(rbs), o.runbooks, cites, nex, o.exclusions)
	if m != nil {
		p := literal.PlanGuide(g, m)
		fmt.Fprintf(stdout, "As written (kmschaos guide run, the catalog's guide-literal specs, through %s): %s\n", o.mapping, p)
		fmt.Fprintln(stdout)
		for _, err := range p.Refused {
			fmt.Fprintln(stderr, err)
		}
		if len(p.Refused) > 0 {
			return exitBadInput
		}
	}
	if err := r.WriteTable(stdout); err != nil {
		fmt.Fprintln(stderr, err)
		return exitFailed
	}
	if r.Failed() {
		return exitFailed
	}
	return exitOK
}

// enclosingBlock is the code block n is or is in, nil if none.
func enclosingBlock(n *guide.Node) *guide.Node {
	for ; n != nil; n = n.Parent {
		if n.Kind == guide.KindBlock {
			return n
		}
	}
	return nil
}

// runGuideDiff is `guide diff`; it returns the exit code.
func runGuideDiff(o guideOpts, oldFile, newFile string, stdout, stderr io.Writer) int {
	oldG, err := guide.ParseFile(oldFile)
	if err != nil {
		return badInput(stderr, err)
	}
	newG, err := guide.ParseFile(newFile)
	if err != nil {
		return badInput(stderr, err)
	}
	rbs, err := guide.LoadRunbookDir(o.runbooks)
	if err != nil {
		return badInput(stderr, err)
	}
	changes := guide.Diff(oldG, newG)
	if len(changes) == 0 {
		fmt.Fprintf(stdout, "%s and %s do not differ in any part a runbook can cite\n", oldFile, newFile)
		return exitOK
	}
	fmt.Fprintf(stdout, "%d parts of the guide changed:\n", len(changes))
	for _, c := range changes {
		switch c.Kind {
		case guide.Changed:
			fmt.Fprintf(stdout, "  changed  %s (line %d → %d)\n", c.Address, c.Old.Line, c.New.Line)
			if c.New.Kind == guide.KindCommand {
				fmt.Fprintf(stdout, "           - %s\n           + %s\n", c.Old.Text, c.New.Text)
			}
		case guide.Moved:
			fmt.Fprintf(stdout, "  moved    %s → %s (line %d → %d)\n", c.Old.Address, c.Address, c.Old.Line, c.New.Line)
		case guide.Added:
			fmt.Fprintf(stdout, "  added    %s (line %d)\n", c.Address, c.New.Line)
		case guide.Removed:
			fmt.Fprintf(stdout, "  removed  %s (was line %d)\n", c.Address, c.Old.Line)
		}
	}
	// A change inside a shell block also changes what the guide-literal
	// specs run as written (and what fixtures/guide/literal-expected.yaml
	// records of it).
	var blocks []string
	for _, c := range changes {
		for _, n := range []*guide.Node{c.Old, c.New} {
			if b := enclosingBlock(n); b != nil && !slices.Contains(blocks, b.Address) {
				blocks = append(blocks, b.Address)
			}
		}
	}
	if len(blocks) > 0 {
		fmt.Fprintf(stdout, "\nshell blocks changed, run as written by the specs labelled guide-literal (go test . -ginkgo.label-filter=guide-literal):\n")
		for _, b := range blocks {
			fmt.Fprintf(stdout, "  %s\n", b)
		}
	}
	touches := guide.Touched(oldG, changes, rbs)
	if len(touches) == 0 {
		fmt.Fprintf(stdout, "\nno runbook in %s cites a changed, moved or removed part\n", o.runbooks)
		return exitOK
	}
	fmt.Fprintf(stdout, "\nrunbooks touched:\n")
	var names []string
	seen := map[string]bool{}
	for _, t := range touches {
		if t.ByGuideField {
			fmt.Fprintf(stdout, "  %s (%s) cites nothing yet; its guide: line points at %q, and %q %s\n",
				t.Runbook, t.File, t.Citation.Address, t.Change.Address, t.Change.Kind)
		} else {
			now := ""
			if t.Change.Kind == guide.Moved {
				now = fmt.Sprintf(", now at %q", t.Change.Address)
			}
			fmt.Fprintf(stdout, "  %s (%s:%d) step %q cites %s %q (%s)%s\n", t.Runbook, t.File, t.Citation.Line, t.Step, t.Change.Kind, t.Citation.Address, t.Citation.Text, now)
		}
		if !seen[t.Runbook] {
			seen[t.Runbook] = true
			names = append(names, t.Runbook)
		}
	}
	uses, err := scenariosUsing(o.scenarios, names)
	if err != nil {
		fmt.Fprintf(stdout, "\nscenarios: not looked up (%v)\n", err)
		return exitOK
	}
	fmt.Fprintf(stdout, "\nscenarios using them:\n")
	for _, name := range names {
		if len(uses[name]) == 0 {
			fmt.Fprintf(stdout, "  %s: none in %s\n", name, o.scenarios)
		}
		for _, u := range uses[name] {
			fmt.Fprintf(stdout, "  %s: %s\n", name, u)
		}
	}
	return exitOK
}

func badInput(w io.Writer, err error) int {
	var ie *guide.InputError
	if !errors.As(err, &ie) && !errors.Is(err, os.ErrNotExist) {
		// Not the input's fault: still nothing to check.
		fmt.Fprintln(w, "Error:", err)
		return exitBadInput
	}
	fmt.Fprintln(w, err)
	return exitBadInput
}

var scenarioName = regexp.MustCompile(`Name:\s*"((?:[^"\\]|\\.)*)"`)

// scenariosUsing finds, by reading the catalog's Go files, where each
// runbook name is written as a string literal, and the name of the
// scenario declared last before it.
func scenariosUsing(dir string, runbooks []string) (map[string][]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no Go files in %s", dir)
	}
	sort.Strings(files)
	out := map[string][]string{}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		last := ""
		for line := 1; sc.Scan(); line++ {
			l := sc.Text()
			if m := scenarioName.FindStringSubmatch(l); m != nil {
				last = m[1]
			}
			for _, rb := range runbooks {
				if strings.Contains(l, `"`+rb+`"`) {
					where := fmt.Sprintf("%s:%d", f, line)
					if last != "" {
						where += fmt.Sprintf(" %q", last)
					}
					out[rb] = append(out[rb], where)
				}
			}
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
