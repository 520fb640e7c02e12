// Package config loads and validates a party's config.toml. Unknown keys are
// rejected (a real rollout broke on a misspelt key that was silently
// ignored), KMS_CORE__SECTION__KEY environment variables override the file,
// and validation errors read like the real KMS's.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// EnvPrefix starts the environment variables that override the file.
const EnvPrefix = "KMS_CORE__"

// Config is the whole file.
type Config struct {
	Service      Service    `toml:"service"`
	PublicVault  *Vault     `toml:"public_vault"`
	PrivateVault *Vault     `toml:"private_vault"`
	BackupVault  *Vault     `toml:"backup_vault,omitempty"`
	Threshold    *Threshold `toml:"threshold"`
	Telemetry    Telemetry  `toml:"telemetry"`
	// RateLimiterConf is optional, as in the real CoreConfig
	// (core/service/src/conf/mod.rs): without it the defaults apply.
	RateLimiterConf *RateLimiterConf `toml:"rate_limiter_conf,omitempty"`
}

// RateLimiterConf is the real [rate_limiter_conf]
// (core/service/src/util/rate_limiter.rs, RateLimiterConfig): the bucket's
// size and the tokens each operation takes from it while it runs. Only
// public decryption exists here; the other keys are kept, and checked, so
// that a real config's section is accepted as the real party accepts it.
type RateLimiterConf struct {
	BucketSize  int `toml:"bucket_size"`
	PubDecrypt  int `toml:"pub_decrypt"`
	UserDecrypt int `toml:"user_decrypt"`
	Crsgen      int `toml:"crsgen"`
	Preproc     int `toml:"preproc"`
	Keygen      int `toml:"keygen"`
	NewEpoch    int `toml:"new_epoch"`
}

// DefaultRateLimiter is RateLimiterConfig::default(), also what
// core/service/config/default_1.toml writes out.
var DefaultRateLimiter = RateLimiterConf{BucketSize: 50000, PubDecrypt: 1, UserDecrypt: 1, Crsgen: 100, Preproc: 25000, Keygen: 1000, NewEpoch: 1}

// RateLimiter is the section in force: the file's, else the defaults.
func (c *Config) RateLimiter() RateLimiterConf {
	if c.RateLimiterConf != nil {
		return *c.RateLimiterConf
	}
	return DefaultRateLimiter
}

// Service is the client API listener.
type Service struct {
	ListenAddress      string `toml:"listen_address"`
	ListenPort         int    `toml:"listen_port"`
	TimeoutSecs        int    `toml:"timeout_secs"`
	GrpcMaxMessageSize int    `toml:"grpc_max_message_size,omitempty"`
}

// Vault is one storage vault.
type Vault struct {
	Storage Storage `toml:"storage"`
}

// Storage selects the backend; only the file backend exists here.
type Storage struct {
	File *FileStorage `toml:"file"`
}

// FileStorage places the vault at <path>/<prefix>.
type FileStorage struct {
	Path   string `toml:"path"`
	Prefix string `toml:"prefix"`
}

// Threshold is the party-to-party part.
type Threshold struct {
	ListenAddress string         `toml:"listen_address"`
	ListenPort    int            `toml:"listen_port"`
	MyID          int            `toml:"my_id"`
	Threshold     int            `toml:"threshold"`
	DecCapacity   int            `toml:"dec_capacity"`
	MinDecCache   int            `toml:"min_dec_cache"`
	Peers         []Peer         `toml:"peers"`
	CoreToCoreNet *CoreToCoreNet `toml:"core_to_core_net,omitempty"`
	// TLS authenticates the party-to-party links; without it any host on
	// the network can ask a party for its decryption shares.
	TLS *TLS `toml:"tls,omitempty"`
}

// TLS selects how the party-to-party links are secured. Only manual
// certificates exist here (the real KMS also has auto, with attestation).
type TLS struct {
	Manual *ManualTLS `toml:"manual"`
}

// ManualTLS is this party's certificate and private key.
type ManualTLS struct {
	Cert *PEMSource `toml:"cert"`
	Key  *PEMSource `toml:"key"`
	// TrustedReleases are the releases whose peers this party accepts, by
	// the measurement each attests (kms/release). The real party reads
	// this list from [threshold.tls.auto], inside an enclave; ours has no
	// enclave nor auto mode, so the list sits beside its certificate.
	// Empty: no release is checked, as the real party skips the
	// attestation when the list is empty.
	TrustedReleases []TrustedRelease `toml:"trusted_releases,omitempty"`
}

// TrustedRelease is one release's measurement, hex, as the real
// [[threshold.tls.auto.trusted_releases]] writes it.
type TrustedRelease struct {
	PCR0 string `toml:"pcr0"`
	PCR1 string `toml:"pcr1"`
	PCR2 string `toml:"pcr2"`
}

// PEMSource is a PEM document given inline or by a file path.
type PEMSource struct {
	Path string `toml:"path,omitempty"`
	PEM  string `toml:"pem,omitempty"`
}

// Read returns the PEM document.
func (s *PEMSource) Read() ([]byte, error) {
	if s.PEM != "" {
		return []byte(s.PEM), nil
	}
	return os.ReadFile(s.Path)
}

// Peer is one party of the cluster, this one included.
type Peer struct {
	PartyID int    `toml:"party_id"`
	Address string `toml:"address"`
	Port    int    `toml:"port"`
	// TLSCert is the peer's certificate, pinned: the peer must present a
	// certificate with its public key.
	TLSCert *PEMSource `toml:"tls_cert,omitempty"`
	// MPCIdentity must equal the CN of the peer's certificate (default:
	// the peer's address).
	MPCIdentity string `toml:"mpc_identity,omitempty"`
}

// Identity is the CN the peer's certificate must carry.
func (p Peer) Identity() string {
	if p.MPCIdentity != "" {
		return p.MPCIdentity
	}
	return p.Address
}

// CoreToCoreNet tunes the party-to-party network. The first keys are the
// real KMS's; straggler_grace_ms is the simulated party's own.
type CoreToCoreNet struct {
	MessageLimit           int     `toml:"message_limit"`
	Multiplier             float64 `toml:"multiplier"`
	MaxInterval            int     `toml:"max_interval"`
	MaxElapsedTime         int     `toml:"max_elapsed_time"`
	NetworkTimeout         int     `toml:"network_timeout"`
	NetworkTimeoutBk       int     `toml:"network_timeout_bk"`
	NetworkTimeoutBkSns    int     `toml:"network_timeout_bk_sns"`
	MaxEnDecodeMessageSize int64   `toml:"max_en_decode_message_size"`
	// StragglerGraceMs is how long a decryption waits for the remaining
	// peers once t+1 valid shares are in.
	StragglerGraceMs int `toml:"straggler_grace_ms"`
}

// Telemetry is the metrics endpoint.
type Telemetry struct {
	TracingServiceName string `toml:"tracing_service_name,omitempty"`
	MetricsBindAddress string `toml:"metrics_bind_address"`
	// EnableSysMetrics starts the machine gauges (kms_memory_usage,
	// kms_total_memory, kms_cpu_load), off unless set, as the real
	// TelemetryConfig's (observability/src/conf.rs); the chart and the
	// real sample configs set it.
	EnableSysMetrics bool `toml:"enable_sys_metrics,omitempty"`
	// RefreshIntervalMs is how often they are sampled, 5000 unless set
	// (SYS_METRIC_REFRESH_INTERVAL_MS, observability/src/conf.rs).
	RefreshIntervalMs int `toml:"refresh_interval_ms,omitempty"`
}

// SysInterval is the sampling period of the machine gauges.
func (t Telemetry) SysInterval() time.Duration {
	if t.RefreshIntervalMs <= 0 {
		return 5 * time.Second
	}
	return time.Duration(t.RefreshIntervalMs) * time.Millisecond
}

// Defaults of the optional knobs.
const (
	DefaultNetworkTimeout   = 10
	DefaultStragglerGraceMs = 250
	DefaultTimeoutSecs      = 360
)

// Load reads path, applies the environment overrides of environ (nil: the
// process environment) and validates the result.
func Load(path string, environ []string) (*Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read config file: %w", err)
	}
	if environ == nil {
		environ = os.Environ()
	}
	return Parse(raw, environ)
}

// Parse decodes and validates a config document.
func Parse(raw []byte, environ []string) (*Config, error) {
	doc := map[string]any{}
	if err := toml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("invalid TOML: %s", describeDecodeError(err))
	}
	if err := applyEnv(doc, environ); err != nil {
		return nil, err
	}
	merged, err := toml.Marshal(doc)
	if err != nil {
		return nil, err
	}
	var c Config
	dec := toml.NewDecoder(bytes.NewReader(merged))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		var sm *toml.StrictMissingError
		if errors.As(err, &sm) {
			var keys []string
			for _, e := range sm.Errors {
				keys = append(keys, strings.Join(e.Key(), "."))
			}
			return nil, fmt.Errorf("unknown configuration key(s): %s", strings.Join(keys, ", "))
		}
		return nil, fmt.Errorf("invalid configuration: %s", describeDecodeError(err))
	}
	c.applyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func describeDecodeError(err error) string {
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, col := de.Position()
		return fmt.Sprintf("%s (line %d, column %d)", de.Error(), row, col)
	}
	return err.Error()
}

// applyEnv sets KMS_CORE__A__B=v as doc["a"]["b"] = v. Values are typed
// like TOML scalars: integer, float, boolean, else string.
func applyEnv(doc map[string]any, environ []string) error {
	sort.Strings(environ)
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix) {
			continue
		}
		path := strings.Split(strings.ToLower(strings.TrimPrefix(name, EnvPrefix)), "__")
		node := doc
		for _, k := range path[:len(path)-1] {
			next, ok := node[k].(map[string]any)
			if !ok {
				if _, exists := node[k]; exists {
					return fmt.Errorf("environment override %s: %q is not a table", name, k)
				}
				next = map[string]any{}
				node[k] = next
			}
			node = next
		}
		node[path[len(path)-1]] = scalar(value)
	}
	return nil
}

func scalar(s string) any {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f
	}
	if b, err := strconv.ParseBool(s); err == nil {
		return b
	}
	return s
}

func (c *Config) applyDefaults() {
	if c.Service.TimeoutSecs == 0 {
		c.Service.TimeoutSecs = DefaultTimeoutSecs
	}
	if c.Threshold != nil {
		if c.Threshold.CoreToCoreNet == nil {
			c.Threshold.CoreToCoreNet = &CoreToCoreNet{}
		}
		n := c.Threshold.CoreToCoreNet
		if n.NetworkTimeout == 0 {
			n.NetworkTimeout = DefaultNetworkTimeout
		}
		if n.StragglerGraceMs == 0 {
			n.StragglerGraceMs = DefaultStragglerGraceMs
		}
	}
}

// Marshal renders the config as TOML.
func (c *Config) Marshal() ([]byte, error) { return toml.Marshal(c) }
