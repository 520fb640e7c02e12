package main

import (
	"errors"
	"fmt"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/cluster/kube"
	"github.com/kmschaos/kmschaos/harness/gameday"
	"github.com/kmschaos/kmschaos/harness/manual"
)

// inputError is an error in what the user asked for (an unknown name, a
// party out of range, no cluster to attach to): one line, exit status 2,
// and nothing was done.
type inputError struct{ msg string }

func (e inputError) Error() string { return e.msg }

func badInputf(format string, args ...any) error { return inputError{fmt.Sprintf(format, args...)} }

// isBadInput tells the errors that exit 2.
func isBadInput(err error) bool {
	var b inputError
	var a *cluster.AttachError
	var m *manual.InputError
	var g *gameday.InputError
	var k *kube.InputError
	return errors.As(err, &b) || errors.As(err, &a) || errors.As(err, &m) || errors.As(err, &g) || errors.As(err, &k)
}
