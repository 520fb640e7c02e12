package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"github.com/kmschaos/kmschaos/cluster"
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
	var a *cluster.InputError // every backend's
	var m *manual.InputError
	var g *gameday.InputError
	return errors.As(err, &b) || errors.As(err, &a) || errors.As(err, &m) || errors.As(err, &g)
}

// strictArgs makes every command of the tree refuse positional arguments
// it does not take as bad input (exit 2, one line with its usage), and a
// command that only groups others refuse a name that is none of them,
// where cobra would exit 1 ("unknown command" for an extra argument) or
// print the group's help and exit 0.
func strictArgs(c *cobra.Command) {
	for _, sub := range c.Commands() {
		strictArgs(sub)
	}
	if !c.Runnable() && c.HasSubCommands() {
		c.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
		c.Args = func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil
			}
			var names []string
			for _, s := range c.Commands() {
				if s.IsAvailableCommand() {
					names = append(names, s.Name())
				}
			}
			if near := c.SuggestionsFor(args[0]); len(near) > 0 {
				return badInputf("unknown command %q for %s: did you mean %q?", args[0], c.CommandPath(), near[0])
			}
			return badInputf("unknown command %q for %s: its commands are %s", args[0], c.CommandPath(), strings.Join(names, ", "))
		}
		return
	}
	check := c.Args
	if c == helpCommand(c.Root()) {
		// help TOPIC: a topic is a path of commands.
		check = func(c *cobra.Command, args []string) error {
			if _, rest, err := c.Root().Find(args); err != nil || len(rest) > 0 {
				return fmt.Errorf("unknown help topic %q", strings.Join(args, " "))
			}
			return nil
		}
	}
	if check == nil {
		return
	}
	c.Args = func(c *cobra.Command, args []string) error {
		err := check(c, args)
		switch {
		case err == nil:
			return nil
		case strings.HasPrefix(err.Error(), "unknown command"): // cobra.NoArgs
			return badInputf("%s takes no argument, got %q (usage: %s)", c.CommandPath(), args[0], c.UseLine())
		}
		return badInputf("%s: %s (usage: %s)", c.CommandPath(), err, c.UseLine())
	}
}

// helpCommand is cobra's help command of root, nil before it is made.
func helpCommand(root *cobra.Command) *cobra.Command {
	for _, c := range root.Commands() {
		if c.Name() == "help" {
			return c
		}
	}
	return nil
}

// durationValue is a duration flag that refuses, as it is parsed, a
// negative value, and zero unless zero means something (allowZero): a
// negative --within or --watch is a typo, not a request.
type durationValue struct {
	d         *time.Duration
	allowZero bool
}

func (v durationValue) String() string { return v.d.String() }
func (v durationValue) Type() string   { return "duration" }

func (v durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("not a duration: write e.g. 90s, 5m or 1h30m")
	}
	if d < 0 {
		return errors.New("must not be negative")
	}
	if d == 0 && !v.allowZero {
		return errors.New("must be longer than zero")
	}
	*v.d = d
	return nil
}

// durationFlag adds a duration flag checked by durationValue.
func durationFlag(fs *pflag.FlagSet, d *time.Duration, name string, def time.Duration, allowZero bool, usage string) {
	*d = def
	fs.Var(durationValue{d, allowZero}, name, usage)
}

// countValue is a flag that counts from 1: a party number, a number of
// faults. Its default may be 0, meaning not given.
type countValue struct{ n *int }

func (v countValue) String() string { return strconv.Itoa(*v.n) }
func (v countValue) Type() string   { return "int" }

func (v countValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return errors.New("must be a whole number from 1")
	}
	*v.n = n
	return nil
}

// countFlag adds a flag checked by countValue.
func countFlag(fs *pflag.FlagSet, n *int, name, short string, def int, usage string) {
	*n = def
	fs.VarP(countValue{n}, name, short, usage)
}

// writableDir checks, without creating anything, that dir can be made
// (or is) a directory this user writes into: the nearest part of it that
// exists is a writable directory. A command that writes its reports at
// the end checks it before it changes anything.
func writableDir(flag, dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return badInputf("%s %s: %v", flag, dir, err)
	}
	for p := abs; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if (errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)) && p != filepath.Dir(p) {
			continue
		}
		switch {
		case err != nil:
			return badInputf("%s %s: %v", flag, dir, err)
		case !fi.IsDir():
			return badInputf("%s %s: %s is a file, not a directory", flag, dir, p)
		case unix.Access(p, unix.W_OK) != nil:
			return badInputf("%s %s: %s is not writable", flag, dir, p)
		}
		return nil
	}
}
