package main

import (
	"net"
	"strings"
	"testing"
)

// serve listens before it looks for a cluster: a port in use, or an
// address that is none, is one line and exit 2, and nothing is started.
func TestServeRefusesABusyPortInOneLine(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, c := range []struct{ listen, says string }{
		{ln.Addr().String(), "--listen " + ln.Addr().String() + ": bind: address already in use (is another serve running? choose another with --listen)"},
		{"8090", `--listen "8090": give host:port, e.g. 127.0.0.1:8090`},
	} {
		out, code := cliOut(t, "gameday", "serve", "--listen", c.listen, "--run", "nosuchrun")
		if code != 2 || strings.TrimSpace(out) != "Error: "+c.says {
			t.Errorf("gameday serve --listen %s: exit %d, %q; want exit 2 and the one line %q", c.listen, code, out, c.says)
		}
	}
}
