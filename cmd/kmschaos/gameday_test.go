package main

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/kmschaos/kmschaos/harness/gameday"
)

// A user who cannot read the game day's key gets one line naming the game
// day and the file, exit 2; any other error stays what it was.
func TestFacilitatorOnly(t *testing.T) {
	key := &gameday.KeyError{ID: "abc123", Path: "/r/gameday-abc123.key", Err: fs.ErrPermission}
	err := facilitatorOnly(fmt.Errorf("loading: %w", key), "reveal it")
	want := "only the facilitator who started game day abc123 can reveal it: /r/gameday-abc123.key is not readable (permission denied)"
	if !isBadInput(err) || err.Error() != want || strings.Contains(err.Error(), "\n") {
		t.Errorf("got %q (exit 2: %v), want %q, exit 2", err, isBadInput(err), want)
	}
	other := errors.New("the keeper did not answer")
	if got := facilitatorOnly(other, "reveal it"); got != other || isBadInput(got) { //nolint:errorlint // identity is the test: another error is handed back as it is
		t.Errorf("another error became %q (exit 2: %v)", got, isBadInput(got))
	}
	if facilitatorOnly(nil, "run it") != nil {
		t.Error("no error became one")
	}
}
