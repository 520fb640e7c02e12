// Command kms-server runs one simulated threshold KMS party.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/kmschaos/kmschaos/kms/config"
	"github.com/kmschaos/kmschaos/kms/logging"
	"github.com/kmschaos/kmschaos/kms/server"
)

func main() {
	var configFile, level string
	var lie bool
	cmd := &cobra.Command{
		Use:   "kms-server --config-file <path>",
		Short: "Run one party of a simulated threshold KMS cluster",
		Long: `kms-server runs one party of a simulated threshold KMS cluster (n = 3t+1
parties). It behaves like the real KMS party on every surface an operator
touches:

  port 50100  client API   kms_service.v1.CoreServiceEndpoint, gRPC reflection,
                           grpc.health.v1
  port 50001  party-to-party protocol (health pings, decryption shares, PRSS)
  port 9646   /metrics (Prometheus), /health, /ready, /live

The config file is TOML; unknown keys are rejected and every key can be
overridden from the environment as KMS_CORE__SECTION__KEY, for example
KMS_CORE__THRESHOLD__MY_ID=3. A bad config, unusable storage or corrupt key
material stops the party before it binds any port, with the reason on stderr
and exit status 1. SIGTERM or SIGINT drains the work in progress and exits 0.

Generate keys and configs with kms-gen-keys, then set up PRSS with kms-init.`,
		Example: `  kms-server --config-file /app/kms/config/config.toml
  KMS_CORE__SERVICE__LISTEN_PORT=50200 kms-server --config-file config-p1.toml`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := logging.New(os.Stdout, logging.ParseLevel(level), "kms_server")
			cfg, err := config.Load(configFile, nil)
			if err != nil {
				log.Error("Invalid configuration: " + err.Error())
				return fmt.Errorf("invalid configuration in %s: %w", configFile, err)
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
			defer stop()
			var opts []server.Option
			if lie {
				opts = append(opts, server.WithTestOnlyLie())
			}
			if err := server.Run(ctx, cfg, log, opts...); err != nil {
				log.Error("KMS server failed to start: " + err.Error())
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&configFile, "config-file", "", "path of the party's config.toml (required)")
	cmd.Flags().StringVar(&level, "log-level", envOr("KMS_LOG_LEVEL", "info"), "debug, info, warn or error (env KMS_LOG_LEVEL)")
	cmd.Flags().BoolVar(&lie, "test-only-lie", false, "TEST ONLY, never in production: as coordinator, return every plaintext plus one\n(kmschaos's meta-specs prove with it that a wrong value turns a scenario red)")
	_ = cmd.MarkFlagRequired("config-file")
	if err := cmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
