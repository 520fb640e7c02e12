package config

import (
	"strings"
	"testing"
)

// FuzzParse: the config decoder reads an operator's file and environment.
// Whatever they hold, it returns a validated config or an error that says
// what is wrong, never panics; a config it accepts renders to a document
// it accepts again, unchanged in the fields that matter.
func FuzzParse(f *testing.F) {
	f.Add(sample(4, 1, 1), "")
	f.Add(sample(13, 4, 3), EnvPrefix+"THRESHOLD__MY_ID=2")
	f.Add(sample(4, 1, 1), EnvPrefix+"THRESHOLD__CORE_TO_CORE_NET=3")
	f.Add(sample(4, 1, 1), EnvPrefix+"SERVICE__LISTEN_PORT__X=1")
	f.Add(sample(4, 2, 1), "")
	f.Add(sample(4, 1, 5), "")
	f.Add(strings.Replace(sample(4, 1, 1), "dec_capacity", "dec_capacty", 1), "")
	f.Add("[threshold\n", "")
	f.Add("", EnvPrefix+"THRESHOLD__THRESHOLD=1")
	f.Add("threshold = 1\n[[threshold.peers]]\n", "")
	f.Fuzz(func(t *testing.T, doc, env string) {
		c, err := Parse([]byte(doc), strings.Split(env, "\n"))
		if err != nil {
			if c != nil || strings.TrimSpace(err.Error()) == "" {
				t.Fatalf("error %q with a config %v", err, c)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted a config that does not validate: %v", err)
		}
		raw, err := c.Marshal()
		if err != nil {
			t.Fatalf("accepted config does not render: %v", err)
		}
		c2, err := Parse(raw, []string{})
		if err != nil {
			t.Fatalf("rendered config refused: %v\n%s", err, raw)
		}
		if c2.N() != c.N() || c2.T() != c.T() || c2.Threshold.MyID != c.Threshold.MyID || c2.Service.ListenPort != c.Service.ListenPort {
			t.Fatalf("config changed in a round trip:\n%s", raw)
		}
	})
}
