package runbook

import (
	"os"
	"strings"
	"testing"
)

// FuzzRunbook feeds the decoder and validator arbitrary files: they must
// never panic, must refuse with an error that names the file, and what
// they accept must be completely checked (patterns compiled, validation
// stable). The seeds are every shipped runbook and the test's good one.
func FuzzRunbook(f *testing.F) {
	for _, path := range shipped(f) {
		raw, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte(good))
	f.Add([]byte("name: x\norigin: guide\nsteps:\n  - name: a\n    engine: {action: stop, parties: \"4-1\"}\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		rb, err := Parse("fuzz.yaml", raw)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, s := range rb.Steps {
			if s.Expect.Output != "" && s.Expect.output == nil || s.Expect.NotOutput != "" && s.Expect.notOutput == nil {
				t.Fatalf("step %q accepted with a pattern not compiled", s.Name)
			}
		}
		if err := rb.Validate(); err != nil {
			t.Fatalf("accepted, then invalid: %v", err)
		}
	})
}
