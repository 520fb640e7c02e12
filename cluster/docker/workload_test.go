package docker

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/moby/moby/client"
)

// pauseEngine answers docker pause with the errors it is given, in turn,
// then success; every other call of the engine's API is left unimplemented.
type pauseEngine struct {
	client.APIClient
	errs  []error
	calls int
}

func (e *pauseEngine) ContainerPause(context.Context, string, client.ContainerPauseOptions) (client.ContainerPauseResult, error) {
	e.calls++
	if e.calls <= len(e.errs) {
		return client.ContainerPauseResult{}, e.errs[e.calls-1]
	}
	return client.ContainerPauseResult{}, nil
}

// runc's freezer giving up under load is retried; any other refusal is
// not (a paused container, a removed one): it is the answer.
func TestPauseRetriesAFreezeRuncGaveUp(t *testing.T) {
	freeze := errors.New("Cannot pause container 7d9f: OCI runtime pause failed: unable to freeze: unknown")
	e := &pauseEngine{errs: []error{freeze, freeze}}
	if err := (&dockerWorkload{dc: e, name: "p"}).Pause(context.Background()); err != nil || e.calls != 3 {
		t.Fatalf("pause after two failed freezes: %v after %d calls, want success on the third", err, e.calls)
	}
	already := errors.New("Container 7d9f is already paused")
	e = &pauseEngine{errs: []error{already}}
	if err := (&dockerWorkload{dc: e, name: "p"}).Pause(context.Background()); err == nil || !strings.Contains(err.Error(), "already paused") || e.calls != 1 {
		t.Fatalf("pause of a paused container: %v after %d calls, want its error at once", err, e.calls)
	}
}
