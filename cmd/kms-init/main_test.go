package main

import (
	"bytes"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
)

func TestPollAndTimeoutMustBePositive(t *testing.T) {
	// A listener standing in for a party: a refused flag must not reach it.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	var dialled atomic.Int32
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			dialled.Add(1)
			c.Close()
		}
	}()
	addr := "http://" + lis.Addr().String()
	for _, c := range []struct{ flag, value, want string }{
		{"--poll", "0", "--poll must be positive, got 0s"},
		{"--poll", "-1s", "--poll must be positive, got -1s"},
		{"--timeout", "0", "--timeout must be positive, got 0s"},
		{"--timeout", "-5s", "--timeout must be positive, got -5s"},
	} {
		cmd := newCommand()
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(io.Discard)
		cmd.SetArgs([]string{c.flag, c.value, "--addresses", addr})
		err := cmd.Execute()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("%s %s: %v, want %q", c.flag, c.value, err, c.want)
		}
	}
	if n := dialled.Load(); n != 0 {
		t.Fatalf("refused invocations dialled the party %d times", n)
	}
}
