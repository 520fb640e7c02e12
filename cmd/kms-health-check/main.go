// Command kms-health-check is the operators' detection tool: config
// validation, a live check of a party and its peers, and a full check.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/spf13/cobra"

	"github.com/kmschaos/kmschaos/kms/client"
	"github.com/kmschaos/kmschaos/kms/healthcheck"
)

// exitToolError is the status when the tool itself fails (bad arguments,
// as clap's). A report, whatever it says, exits 0, as the real tool's main
// prints its result and returns Ok.
const exitToolError = 2

type healthConfig struct {
	ConnectionTimeoutSecs int `toml:"connection_timeout_secs"`
	RequestTimeoutSecs    int `toml:"request_timeout_secs"`
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the command with its exit status.
func run(args []string, stdout, stderr io.Writer) int {
	var format, healthConfigPath string
	root := &cobra.Command{
		Use:   "kms-health-check [--format text|json] <config|live|full>",
		Short: "Check the configuration and health of a threshold KMS party",
		Long: `kms-health-check checks one party of a threshold KMS cluster.

  config --file <config.toml>                     validate a config, as the server would
  live   --endpoint <host:port>                   check a running party: its API, its view of
                                                  every peer, the key ids it lists
  full   --endpoint <host:port> --config <file>   both

The report is the real tool's, and shows no more: no PRSS or storage state.
The overall status of a live check is Healthy when the party answers and
lists a key, Degraded when it lists none, Unhealthy when it does not answer;
the party's own grade of its peers (Optimal, Healthy, Degraded, Unhealthy)
is the line under [PEER STATUS]. Every peer ping is bounded by the party, so
a silent peer never stalls the report.

Exit status: 0 whenever a report is printed, whatever it says (as the real
tool's): read the report, not the status. 2 when the tool itself fails (bad
arguments, a malformed endpoint, a config file it cannot read, unreadable
settings).

Timeouts: connection 5 s and request 10 s by default; set them in a TOML file
given with --health-config (connection_timeout_secs, request_timeout_secs)
or with HEALTH_CHECK__CONNECTION_TIMEOUT_SECS / HEALTH_CHECK__REQUEST_TIMEOUT_SECS.`,
		Example: `  kms-health-check config --file /app/kms/config/config.toml
  kms-health-check live --endpoint localhost:50100
  kms-health-check live --endpoint localhost:50100 | grep -A 10 "KEY MATERIAL"
  kms-health-check --format json full --endpoint localhost:50100 --config config.toml`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&format, "format", "text", "output format: text or json")
	root.PersistentFlags().StringVar(&healthConfigPath, "health-config", "", "TOML file with connection_timeout_secs and request_timeout_secs")

	emit := func(r *healthcheck.Result) error {
		var err error
		switch format {
		case "json":
			err = healthcheck.RenderJSON(stdout, r)
		case "text":
			err = healthcheck.RenderText(stdout, r)
		default:
			return fmt.Errorf("unknown --format %q: use text or json", format)
		}
		return err
	}
	options := func() (healthcheck.Options, error) { return loadOptions(healthConfigPath) }

	var file string
	configCmd := &cobra.Command{
		Use:   "config --file <config.toml>",
		Short: "Validate a party's configuration file",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			if err := checkReadable("--file", file); err != nil {
				return err
			}
			r, _ := healthcheck.RunConfig(file)
			return emit(r)
		},
	}
	configCmd.Flags().StringVar(&file, "file", "", "config file to validate (required)")
	_ = configCmd.MarkFlagRequired("file")

	var endpoint string
	liveCmd := &cobra.Command{
		Use:   "live --endpoint <host:port>",
		Short: "Check a running party",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			if err := checkEndpoint(endpoint); err != nil {
				return err
			}
			o, err := options()
			if err != nil {
				return err
			}
			return emit(healthcheck.RunLive(context.Background(), endpoint, o))
		},
	}
	liveCmd.Flags().StringVar(&endpoint, "endpoint", "localhost:50100", "API endpoint of the party")

	var fullConfig string
	fullCmd := &cobra.Command{
		Use:   "full --endpoint <host:port> --config <config.toml>",
		Short: "Validate the config and check the running party",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			if err := checkEndpoint(endpoint); err != nil {
				return err
			}
			if err := checkReadable("--config", fullConfig); err != nil {
				return err
			}
			o, err := options()
			if err != nil {
				return err
			}
			return emit(healthcheck.RunFull(context.Background(), endpoint, fullConfig, o))
		},
	}
	fullCmd.Flags().StringVar(&endpoint, "endpoint", "localhost:50100", "API endpoint of the party")
	fullCmd.Flags().StringVar(&fullConfig, "config", "", "the party's config file (required)")
	_ = fullCmd.MarkFlagRequired("config")

	root.AddCommand(configCmd, liveCmd, fullCmd)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.Execute(); err != nil {
		fmt.Fprintln(stderr, "Error:", err)
		return exitToolError
	}
	return 0
}

// checkReadable tells a config file the tool cannot read (the tool failed,
// exit 2) from one it read and found invalid (a report saying so, exit 0).
func checkReadable(flag, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", flag, err)
	}
	return f.Close()
}

// checkEndpoint refuses an endpoint that is not host:port (an http:// or
// https:// prefix is allowed, as kms-init takes it): dialling it could
// only report the party unreachable, blaming the party for a typo.
func checkEndpoint(e string) error {
	host, port, err := net.SplitHostPort(client.HostPort(e))
	if err != nil {
		return fmt.Errorf("--endpoint %q is not host:port: %v", e, err)
	}
	if host == "" || strings.ContainsAny(host, "/ ") {
		return fmt.Errorf("--endpoint %q has no valid host", e)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("--endpoint %q: port must be a number from 1 to 65535", e)
	}
	return nil
}

func checkFormat(f string) error {
	if f != "text" && f != "json" {
		return fmt.Errorf("unknown --format %q: use text or json", f)
	}
	return nil
}

// loadOptions applies defaults, then the file, then the environment.
func loadOptions(path string) (healthcheck.Options, error) {
	hc := healthConfig{ConnectionTimeoutSecs: 5, RequestTimeoutSecs: 10}
	if path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return healthcheck.Options{}, fmt.Errorf("reading --health-config: %w", err)
		}
		dec := toml.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&hc); err != nil {
			return healthcheck.Options{}, fmt.Errorf("invalid --health-config %s: %w", path, err)
		}
	}
	for name, dst := range map[string]*int{
		"HEALTH_CHECK__CONNECTION_TIMEOUT_SECS": &hc.ConnectionTimeoutSecs,
		"HEALTH_CHECK__REQUEST_TIMEOUT_SECS":    &hc.RequestTimeoutSecs,
	} {
		if v := os.Getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return healthcheck.Options{}, fmt.Errorf("%s must be a positive number of seconds, got %q", name, v)
			}
			*dst = n
		}
	}
	if hc.ConnectionTimeoutSecs <= 0 || hc.RequestTimeoutSecs <= 0 {
		return healthcheck.Options{}, errors.New("timeouts must be positive")
	}
	return healthcheck.Options{
		ConnectionTimeout: time.Duration(hc.ConnectionTimeoutSecs) * time.Second,
		RequestTimeout:    time.Duration(hc.RequestTimeoutSecs) * time.Second,
	}, nil
}
