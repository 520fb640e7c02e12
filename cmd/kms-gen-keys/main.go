// Command kms-gen-keys is the dealer: it writes every party's key material
// and config.
package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/kmschaos/kmschaos/kms/config"
	"github.com/kmschaos/kmschaos/kms/keygen"
)

func main() {
	var o keygen.Options
	cmd := &cobra.Command{
		Use:   "kms-gen-keys --parties 13 --threshold 4 --out <dir>",
		Short: "Generate a threshold key, its shares and every party's config",
		Long: `kms-gen-keys is the dealer of a simulated threshold KMS cluster. It generates
one threshold decryption key, splits it t-of-n (Shamir), gives every party a
signing key, and writes into <dir>, in the real KMS storage layout:

  PUB-p<i>/PublicKey/<key_id>      the cluster key and every party's verification key
  PUB-p<i>/VerfKey/<id>            party i's signature verification key
  PUB-p<i>/VerfAddress/<id>        its address, 0x and the key in hex
  PRIV-p<i>/FheKeyInfo/<key_id>    party i's key share, with the digest of the
                                   public material it checks at boot
  PRIV-p<i>/SigningKey/<id>        party i's signing key
  BACKUP-p<i>/...                  a copy of PRIV-p<i>'s key share and signing key
  PRIV-p<i>/TLS/key.pem, cert.pem  party i's peer-link TLS key and certificate
                                   (self-signed, CN = its mpc_identity)
  config-p<i>.toml                 a ready config for party i, with every
                                   peer's certificate and mpc_identity

Peer links are mutually authenticated: a party accepts a caller only with
the pinned key of a party of the cluster and, as CN, that party's
mpc_identity. 'kms-gen-keys reissue-cert' replaces one party's certificate.

Templates place the parties: {i} is replaced by a peer's id, {me} by the id
of the party whose config is written, {i:03} pads with zeros. The defaults
suit containers named kms-party-<i>; for a loopback cluster give every party
its own ports, for a proxy mesh give every link its own port.

It refuses to overwrite existing key material unless --force is given.`,
		Example: `  # 13 containers named kms-party-1..13 on one network
  kms-gen-keys --parties 13 --threshold 4 --out ./keys

  # a loopback cluster of 4: party i listens on 51001+i, 52000+i and 53000+i
  kms-gen-keys --parties 4 --threshold 1 --out /tmp/kms \
    --peer-address-template 127.0.0.1 --peer-port-template '52{i:03}' \
    --p2p-port-template '52{me:03}' --service-port-template '51{me:03}' \
    --metrics-address-template '127.0.0.1:53{me:03}'`,
		SilenceUsage: true,
		Args:         cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := keygen.Generate(rand.Reader, o)
			if err != nil {
				return err
			}
			fmt.Printf("Generated key %s for %d parties (threshold %d) in %s\n", res.KeyID, o.N, o.T, o.Out)
			for i, c := range res.Configs {
				fmt.Printf("  party %d: %s\n", i+1, c)
			}
			fmt.Println("Next: start every party with kms-server --config-file <config>, then run kms-init --addresses ...")
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.N, "parties", 13, "number of parties n (n = 3t+1)")
	f.IntVar(&o.T, "threshold", 4, "threshold t: parties that may fail or lie")
	f.StringVar(&o.Out, "out", "", "output directory (required)")
	f.StringVar(&o.StoragePath, "storage-path", "", "storage root as the parties see it (default: the absolute --out)")
	f.StringVar(&o.BackupPath, "backup-path", "", "backup vault root as the parties see it (default: --storage-path)")
	f.StringVar(&o.PeerAddress, "peer-address-template", "kms-party-{i}", "address of peer {i} in party {me}'s config")
	f.StringVar(&o.PeerPort, "peer-port-template", "50001", "party-to-party port of peer {i} in party {me}'s config")
	f.StringVar(&o.P2PListenPort, "p2p-port-template", "50001", "party-to-party port party {me} listens on")
	f.StringVar(&o.ServicePort, "service-port-template", "50100", "gRPC API port party {me} listens on")
	f.StringVar(&o.MetricsAddr, "metrics-address-template", "0.0.0.0:9646", "metrics bind address of party {me}")
	f.StringVar(&o.ListenAddress, "listen-address", "0.0.0.0", "address the parties bind")
	f.IntVar(&o.NetworkTimeout, "network-timeout", 10, "party-to-party call timeout in seconds")
	f.IntVar(&o.StragglerGraceMs, "straggler-grace-ms", 250, "how long a decryption waits for slow peers once t+1 shares are in")
	f.StringSliceVar(&o.TrustedReleases, "trusted-release", nil, "a version whose measurement every party trusts on its peer links (repeat it; none: releases are not checked)")
	f.IntVar(&o.SetupTimeout, "setup-timeout", 300, "PRSS set-up deadline in seconds (max_elapsed_time)")
	f.IntVar(&o.DecCapacity, "dec-capacity", 1000, "decryption results a party keeps (4 KiB of memory each)")
	f.StringVar(&o.Identity, "identity-template", "kms-party-{i}", "mpc_identity of party {i}: the CN of its TLS certificate")
	f.DurationVar(&o.CertValidity, "cert-validity", keygen.DefaultCertValidity, "how long the TLS certificates are valid")
	f.BoolVar(&o.Force, "force", false, "overwrite existing key material in --out")
	_ = cmd.MarkFlagRequired("out")
	cmd.AddCommand(reissueCmd())
	if err := cmd.Execute(); err != nil {
		os.Exit(1)
	}
}

func reissueCmd() *cobra.Command {
	var dir, identity, configFile, from, until string
	var party int
	var validity time.Duration
	var expired bool
	c := &cobra.Command{
		Use:   "reissue-cert --dir <storage root> --party <i> (--config <config.toml> | --identity <cn>)",
		Short: "Re-issue one party's TLS certificate for its existing key",
		Long: `reissue-cert writes a new self-signed certificate for party <i>'s existing
TLS key (<dir>/PRIV-p<i>/TLS/key.pem) to <dir>/PRIV-p<i>/TLS/cert.pem. Peers pin the
key, so their configs need no change; restart the party to load it.

The CN is the party's mpc_identity: read from --config (the entry of its
own party id) or given with --identity. --expired issues a certificate whose
validity ended yesterday, --valid-from/--valid-until set any window (both
for fault injection).`,
		Example: `  # repair: a fresh certificate with the identity the config expects
  kms-gen-keys reissue-cert --dir /app/kms/keys --party 3 --config /app/kms/config/config.toml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if identity == "" {
				if configFile == "" {
					return errors.New("give --config (the party's config, for its mpc_identity) or --identity")
				}
				cfg, err := config.Load(configFile, []string{})
				if err != nil {
					return err
				}
				p, ok := cfg.Peer(party)
				if !ok {
					return fmt.Errorf("%s has no peer entry for party %d", configFile, party)
				}
				identity = p.Identity()
			}
			v := keygen.ValidFor(validity)
			if expired {
				now := time.Now()
				v = keygen.Validity{NotBefore: now.Add(-30 * 24 * time.Hour), NotAfter: now.Add(-24 * time.Hour)}
			}
			for _, t := range []struct {
				arg string
				to  *time.Time
			}{{from, &v.NotBefore}, {until, &v.NotAfter}} {
				if t.arg == "" {
					continue
				}
				parsed, err := time.Parse(time.RFC3339, t.arg)
				if err != nil {
					return fmt.Errorf("validity bound %q: %w", t.arg, err)
				}
				*t.to = parsed
			}
			if _, err := keygen.Reissue(rand.Reader, dir, party, identity, v); err != nil {
				return err
			}
			fmt.Printf("Re-issued the certificate of party %d: CN %s, valid %s to %s (%s)\n", party, identity,
				v.NotBefore.UTC().Format(time.RFC3339), v.NotAfter.UTC().Format(time.RFC3339), keygen.CertPath(dir, party))
			fmt.Println("Next: restart the party so that it loads the certificate.")
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&dir, "dir", "", "storage root holding PRIV-p<i>/TLS/ (the party's keys volume) (required)")
	f.IntVar(&party, "party", 0, "the party's id (required)")
	f.StringVar(&configFile, "config", "", "the party's config.toml: the CN is its mpc_identity")
	f.StringVar(&identity, "identity", "", "the CN to issue (overrides --config)")
	f.DurationVar(&validity, "validity", keygen.DefaultCertValidity, "validity from now")
	f.BoolVar(&expired, "expired", false, "issue a certificate that expired yesterday (fault injection)")
	f.StringVar(&from, "valid-from", "", "start of validity, RFC 3339")
	f.StringVar(&until, "valid-until", "", "end of validity, RFC 3339")
	_ = c.MarkFlagRequired("dir")
	_ = c.MarkFlagRequired("party")
	return c
}
