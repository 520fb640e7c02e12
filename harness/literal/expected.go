package literal

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Expected is what each block did when it last ran as written on a healthy
// party, per cluster size (fixtures/guide/literal-expected.yaml): a block
// that does anything else turns the catalog red, so a changed guide, a
// changed mapping or a changed party is seen, not silently re-recorded.
type Expected struct {
	File   string                       `yaml:"-"`
	Blocks map[string]map[string]string `yaml:"blocks"` // address -> "n13" -> signature
}

// LoadExpected reads an expectations file; a missing file expects nothing.
func LoadExpected(path string) (*Expected, error) {
	e := &Expected{File: path, Blocks: map[string]map[string]string{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return e, nil
	}
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(e); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(path, data, err)
	}
	if e.Blocks == nil {
		e.Blocks = map[string]map[string]string{}
	}
	return e, nil
}

func sizeKey(n int) string { return "n" + strconv.Itoa(n) }

// For returns the signature expected of a block at cluster size n.
func (e *Expected) For(addr string, n int) (string, bool) {
	s, ok := e.Blocks[addr][sizeKey(n)]
	return s, ok
}

// Set records a block's signature at cluster size n.
func (e *Expected) Set(addr string, n int, sig string) {
	if e.Blocks[addr] == nil {
		e.Blocks[addr] = map[string]string{}
	}
	e.Blocks[addr][sizeKey(n)] = sig
}

const expectedHeader = `# What each shell block of the guide did when it last ran as written on a
# healthy party's host, per cluster size (guide_literal_test.go, through
# harness/literal and fixtures/guide/mapping.yaml). A block that does anything
# else turns the catalog red. After a deliberate change of the guide, the
# mapping table or the toolbox, re-record with KMSCHAOS_UPDATE_EXPECTED=1 and
# review the diff: it is the change's effect on what an operator would see.
`

// Write saves the expectations, blocks in address order.
func (e *Expected) Write() error {
	var buf bytes.Buffer
	buf.WriteString(expectedHeader)
	buf.WriteString("blocks:\n")
	var addrs []string
	for a := range e.Blocks {
		addrs = append(addrs, a)
	}
	sort.Strings(addrs)
	for _, a := range addrs {
		fmt.Fprintf(&buf, "  %q:\n", a)
		var ns []string
		for n := range e.Blocks[a] {
			ns = append(ns, n)
		}
		sort.Strings(ns)
		for _, n := range ns {
			fmt.Fprintf(&buf, "    %s: %q\n", n, e.Blocks[a][n])
		}
	}
	return os.WriteFile(e.File, buf.Bytes(), 0o644)
}
