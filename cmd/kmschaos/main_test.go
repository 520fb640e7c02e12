package main

import (
	"os"
	"strings"
	"testing"
)

// TestMain lets the tests run this binary as kmschaos itself, so exit
// codes are the real ones: KMSCHAOS_TEST_AS_MAIN=1 takes the arguments as
// given, KMSCHAOS_TEST_MAIN=1 takes them from KMSCHAOS_TEST_ARGS.
func TestMain(m *testing.M) {
	switch {
	case os.Getenv("KMSCHAOS_TEST_MAIN") == "1":
		os.Args = append([]string{"kmschaos"}, strings.Fields(os.Getenv("KMSCHAOS_TEST_ARGS"))...)
		main()
		os.Exit(0)
	case os.Getenv("KMSCHAOS_TEST_AS_MAIN") == "1":
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}
