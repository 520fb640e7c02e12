package docker

import (
	"context"
	"os"
	"strings"

	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
)

// ensureEnv sets the testcontainers settings this harness needs, unless the
// user set them: Ryuk off (its image cannot be pulled without a registry;
// the harness labels and sweeps what it creates instead), and, with a local
// engine, containers reached on localhost (in a container with /.dockerenv
// testcontainers would otherwise dial a bridge address and time out). It
// must run before the first testcontainers call, which reads them once.
func ensureEnv() {
	if os.Getenv("KMSCHAOS_DEBUG") == "" {
		tclog.SetDefault(tclog.NewNoopLogger())
	}
	setDefault("TESTCONTAINERS_RYUK_DISABLED", "true")
	if h := os.Getenv("DOCKER_HOST"); h == "" || strings.HasPrefix(h, "unix://") {
		setDefault("TESTCONTAINERS_HOST_OVERRIDE", "localhost")
	}
}

func setDefault(k, v string) {
	if _, ok := os.LookupEnv(k); !ok {
		os.Setenv(k, v)
	}
}

// Client connects to the container engine with the harness's settings.
func Client(ctx context.Context) (*testcontainers.DockerClient, error) {
	ensureEnv()
	return testcontainers.NewDockerClientWithOpts(ctx)
}
