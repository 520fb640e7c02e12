// Command kms-gen-keys is the dealer: it writes every party's key material
// and config.
package main

import (
	"crypto/rand"
	"fmt"
	"os"

	"github.com/spf13/cobra"

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
  PRIV-p<i>/FheKeyInfo/<key_id>    party i's key share
  PRIV-p<i>/SigningKey/<id>        party i's signing key
  BACKUP-p<i>/...                  a copy of PRIV-p<i>'s key share and signing key
  config-p<i>.toml                 a ready config for party i

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
	f.IntVar(&o.SetupTimeout, "setup-timeout", 300, "PRSS set-up deadline in seconds (max_elapsed_time)")
	f.IntVar(&o.DecCapacity, "dec-capacity", 1000, "decryption results a party keeps (4 KiB of memory each)")
	f.BoolVar(&o.Force, "force", false, "overwrite existing key material in --out")
	cmd.MarkFlagRequired("out")
	if err := cmd.Execute(); err != nil {
		os.Exit(1)
	}
}
