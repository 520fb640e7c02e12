// Package dockertest lets a test that needs the container engine run
// wherever there is one and skip, saying why, where there is none or with
// -short: `go test ./...` then runs it wherever it can.
package dockertest

import (
	"context"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// Require skips t unless the container engine answers.
func Require(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the container engine; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	dc, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err == nil {
		defer dc.Close()
		_, err = dc.Ping(ctx, client.PingOptions{})
	}
	if err != nil {
		t.Skipf("no container engine: %v", err)
	}
}
