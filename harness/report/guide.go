package report

import "time"

// Guide is the troubleshooting guide's part of a run: how far its text is
// covered, and what its shell blocks did when run as written.
type Guide struct {
	File     string `json:"file"`
	Digest   string `json:"digest"`
	Coverage string `json:"coverage"` // guide.Summary: verbatim/mapped/substitute/excluded/gaps/drift
	// Blocks are the guide's shell blocks, each run as written on a
	// party's host: on a healthy party, or under a fault (Under).
	Blocks []GuideBlock `json:"blocks"`
}

// GuideBlock is one shell block of the guide, run as written.
type GuideBlock struct {
	Address   string         `json:"address"`
	Line      int            `json:"line"`
	Party     int            `json:"party"`
	Under     string         `json:"under"` // "healthy", or the fault it ran under
	Status    string         `json:"status"`
	Signature string         `json:"signature"`
	Expected  string         `json:"expected,omitempty"` // set when the outcome differs from what was expected
	Took      time.Duration  `json:"took_ns"`
	Why       string         `json:"why,omitempty"` // unsafe: why it never runs
	Commands  []GuideCommand `json:"commands"`
	// Verdict is the harness's judgement of the block where it judges one
	// (a monitoring script against a fault, a diagnostic under a fault):
	// "shows the fault", "misses the fault", "false alarm", "leaks …".
	Verdict string `json:"verdict,omitempty"`
	Defect  bool   `json:"defect,omitempty"` // the verdict is a defect of the guide
	Output  string `json:"output,omitempty"` // stdout, bounded and redacted
}

// GuideCommand is one command of a block.
type GuideCommand struct {
	Line   int      `json:"line"`
	Text   string   `json:"text"`
	Status string   `json:"status"`
	Exit   int      `json:"exit"`
	Tool   string   `json:"tool,omitempty"`
	Why    string   `json:"why,omitempty"`
	Mapped []string `json:"mapped,omitempty"` // what the mapping table changed, with its reason
}
