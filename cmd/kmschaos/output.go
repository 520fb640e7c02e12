package main

import (
	"encoding/json"
	"io"

	"github.com/spf13/cobra"
)

// output is the --output flag of the commands scripts read: text for
// people, json for machines.
type output string

func outputFlag(c *cobra.Command, o *output) {
	*o = "text"
	c.Flags().StringVarP((*string)(o), "output", "o", "text", "text or json")
}

func (o output) check() error {
	if o != "text" && o != "json" {
		return badInputf("--output %q: use text or json", string(o))
	}
	return nil
}

func (o output) json() bool { return o == "json" }

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
