package guide

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/shipped-commands.golden from the guide as parsed now")

// The shipped guide's shell blocks cut into the same commands, at the same
// addresses and lines, with the same text and digests, as the golden copy
// records (go test -update to accept a deliberate change): runbooks cite
// these texts, so a change to how blocks are split must not move them.
func TestShippedGuideCommandsAreStable(t *testing.T) {
	var b strings.Builder
	for _, n := range parseFixture(t).Nodes {
		switch {
		case n.Kind == KindCommand:
			fmt.Fprintf(&b, "%s\t%d-%d\t%s\t%s\n", n.Address, n.Line, n.EndLine, n.Digest, n.Text)
		case n.Kind == KindBlock && n.Script:
			fmt.Fprintf(&b, "%s\t%d-%d\t%s\tscript\n", n.Address, n.Line, n.EndLine, n.Digest)
		}
	}
	golden := "testdata/shipped-commands.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(b.String(), "\n")
	for i, w := range strings.Split(string(want), "\n") {
		if i >= len(got) || got[i] != w {
			t.Errorf("line %d of %s:\nwant %s", i+1, golden, w)
			if i < len(got) {
				t.Errorf("got  %s", got[i])
			}
		}
	}
	if len(got) > len(strings.Split(string(want), "\n")) {
		t.Errorf("%d lines more than %s: %q", len(got)-len(strings.Split(string(want), "\n")), golden, got[len(strings.Split(string(want), "\n")):])
	}
}
