package cluster

import (
	"os"
	"strings"
)

// ensureEnv sets the testcontainers settings this harness needs, unless the
// user set them: Ryuk off (its image cannot be pulled without a registry;
// the harness labels and sweeps what it creates instead), and, with a local
// engine, containers reached on localhost (in a container with /.dockerenv
// testcontainers would otherwise dial a bridge address and time out). It
// must run before the first testcontainers call, which reads them once.
func ensureEnv() {
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
