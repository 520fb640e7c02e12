// Command kms-client encrypts values under the cluster key and asks a party
// to decrypt them: what a runbook uses to "test basic operations".
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/status"

	"github.com/kmschaos/kmschaos/kms/client"
	"github.com/kmschaos/kmschaos/kms/material"
	"github.com/kmschaos/kmschaos/kms/tss"
)

func main() {
	root := &cobra.Command{
		Use:   "kms-client",
		Short: "Encrypt under the cluster key and run threshold decryptions",
		Long: `kms-client is the client of a simulated threshold KMS cluster.

  encrypt          seals a 64-bit value under the cluster's public key (local, no party needed)
  public-decrypt   asks one party to coordinate a threshold decryption of a ciphertext
  new-epoch        sets up a new PRSS epoch on every party (the core-client's new-epoch)
  destroy-mpc-epoch
                   forgets an epoch on every party and deletes its PRSS data

A decryption needs t+1 cooperating parties; the answer names the parties
whose shares were used and any whose shares were rejected.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(encryptCmd(), decryptCmd(), newEpochCmd(), destroyEpochCmd())
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}

func encryptCmd() *cobra.Command {
	var pubDir, keyID, out string
	var value uint64
	c := &cobra.Command{
		Use:   "encrypt --public <dir> --value <u64>",
		Short: "Encrypt a value under the cluster's public key",
		Example: `  kms-client encrypt --public ./keys/PUB-p1 --value 42
  kms-client encrypt --public ./keys --value 42 --out ct.hex`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pk, err := client.LoadPublicKey(pubDir, keyID)
			if err != nil {
				return err
			}
			ct, err := pk.Encrypt(rand.Reader, value)
			if err != nil {
				return err
			}
			h := hex.EncodeToString(ct)
			if out != "" {
				return os.WriteFile(out, []byte(h+"\n"), 0o644)
			}
			fmt.Println(h)
			return nil
		},
	}
	c.Flags().StringVar(&pubDir, "public", "", "public key directory: PUB-p<i>/ or the storage root holding it (required)")
	c.Flags().Uint64Var(&value, "value", 0, "the value to encrypt")
	c.Flags().StringVar(&keyID, "key-id", "", "key to use when the directory holds several")
	c.Flags().StringVar(&out, "out", "", "write the hex ciphertext to this file instead of stdout")
	_ = c.MarkFlagRequired("public")
	_ = c.MarkFlagRequired("value")
	return c
}

func decryptCmd() *cobra.Command {
	var endpoint, ctArg, keyID, pubDir, confPath string
	var timeout time.Duration
	var sync, verbose, verifySig, expectAll bool
	var maxIter int
	c := &cobra.Command{
		Use:   "public-decrypt --endpoint <host:port> --ciphertext <hex|file>",
		Short: "Ask a party to run a threshold decryption",
		Long: `public-decrypt asks the party at --endpoint to coordinate a threshold
decryption and prints the value. By default it uses PublicDecrypt and polls
GetPublicDecryptionResult, as real clients do; --sync uses the one-call
variant. With --verify the result is checked against the public material
in --public (the cluster's PUB-p<i>/ directories, from the dealer): signed by
the verification key of the party that coordinated it, answering this
request, with t+1 contributors. The key is never fetched from the party
being verified. --public alone verifies too.

With -f the client is the real core-client, configured by its file
(kms_type, num_majority, num_reconstruct, [[cores]] party_id, address,
s3_endpoint, object_folder — what the Helm chart writes): it connects to
every core of the file first and stops at the first it cannot reach; it
sends the request to every core, needs num_majority of them (every one
with -a) to accept it and to answer with verified results that agree,
polling each every 500 ms at most --max-iter times.

Exit status: 0 and the value on success; 1 with the gRPC code and message
otherwise (Unavailable when fewer than t+1 parties could take part), or,
with -f, with the core-client's error.`,
		Example: `  kms-client public-decrypt --endpoint localhost:50100 --ciphertext ct.hex
  kms-client public-decrypt --endpoint kms-party-3:50100 --ciphertext 4b435431... -v`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ct, err := readCiphertext(ctArg)
			if err != nil {
				return err
			}
			if confPath != "" {
				return quorumDecrypt(confPath, ct, keyID, timeout, maxIter, expectAll)
			}
			if verifySig && pubDir == "" {
				return errors.New("--verify needs --public <dir>: the public material to verify against (a key fetched from the party being verified proves nothing)")
			}
			var cl *client.Client
			if pubDir != "" {
				pm, err := client.LoadPublicMaterial(pubDir, keyID)
				if err != nil {
					return fmt.Errorf("loading the public material: %w", err)
				}
				cl, err = client.DialVerified(endpoint, pm)
				if err != nil {
					return err
				}
			} else if cl, err = client.Dial(endpoint); err != nil {
				return err
			}
			defer cl.Close()
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			var d *client.Decryption
			if sync {
				d, err = cl.PublicDecryptSync(ctx, ct, keyID)
			} else {
				d, err = cl.PublicDecrypt(ctx, ct, keyID, 100*time.Millisecond)
			}
			if errors.Is(err, client.ErrUnverified) {
				return fmt.Errorf("decryption result rejected: %w", err)
			}
			if err != nil {
				st := status.Convert(err)
				return fmt.Errorf("decryption failed: %s: %s", st.Code(), st.Message())
			}
			fmt.Println(d.Value)
			if verbose {
				p := d.Response.GetPayload()
				fmt.Fprintf(os.Stderr, "coordinator: party %d\ncontributing parties: %v\nrejected parties: %v\n", p.GetCoordinator(), p.GetContributingParties(), p.GetRejectedParties())
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&endpoint, "endpoint", "localhost:50100", "API endpoint of the coordinating party")
	f.StringVar(&ctArg, "ciphertext", "", "ciphertext as hex, or a file holding it (required)")
	f.StringVar(&keyID, "key-id", "", "key to decrypt with (default: the party's only key)")
	f.DurationVar(&timeout, "timeout", 30*time.Second, "give up after this long")
	f.BoolVar(&sync, "sync", false, "use the one-call PublicDecryptSync")
	f.BoolVarP(&verbose, "verbose", "v", false, "print the parties that took part on stderr")
	f.BoolVar(&verifySig, "verify", false, "verify the result against the public material of --public")
	f.StringVar(&pubDir, "public", "", "storage root holding the cluster's PUB-p<i>/ directories: verify every result against them")
	f.StringVarP(&confPath, "file-conf", "f", "", "the core-client's config file: decrypt through every core it lists, as the real core-client does")
	f.IntVar(&maxIter, "max-iter", client.DefaultMaxIter, "with -f: how many times to ask a core for its result")
	f.BoolVarP(&expectAll, "expect-all-responses", "a", false, "with -f: need a response from every core")
	_ = c.MarkFlagRequired("ciphertext")
	return c
}

// quorumDecrypt is public-decrypt as the real core-client runs it, from
// its config file.
func quorumDecrypt(path string, ct []byte, keyID string, timeout time.Duration, maxIter int, expectAll bool) error {
	conf, err := client.LoadConf(path)
	if err != nil {
		return err
	}
	pm, err := conf.PublicMaterial(keyID)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	q, err := client.ConnectQuorum(ctx, conf, pm)
	if err != nil {
		return err
	}
	defer q.Close()
	need := conf.NumMajority
	if expectAll {
		need = conf.NumParties
	}
	d, err := q.PublicDecrypt(ctx, ct, keyID, need, maxIter)
	if err != nil {
		return err
	}
	fmt.Println(d.Value)
	return nil
}

func newEpochCmd() *cobra.Command {
	var epochID, contextID string
	var addresses []string
	var maxIter int
	var timeout time.Duration
	c := &cobra.Command{
		Use:   "new-epoch --new-epoch-id <id> --new-context-id <id> --addresses <address>...",
		Short: "Set up a new PRSS epoch on every party",
		Long: `new-epoch is the real core-client's new-epoch without resharing
(core-client/src/mpc_epoch.rs): it connects to every party, asks each at
once to set up the epoch (NewMpcEpoch), then polls each party's result
every 500 ms, at most --max-iter times, while the set-up runs. It fails on
the first refusal or failed set-up, with the party's gRPC code and message
(which name no party: the reason is in the party's log).

Unlike kms-init, which knows only the default epoch, it takes the epoch's
id: the way to a fresh epoch on every party when some already hold one.
The real core-client reads the parties from its config file's [[cores]];
here they are --addresses. The context must be the cluster's one (the
default context, 07 00…00 01).`,
		Example: `  kms-client new-epoch --new-epoch-id $(head -c32 /dev/urandom | xxd -p -c64) \
    --new-context-id ` + material.DefaultContextID + ` \
    --addresses http://kms-party-1:50100 http://kms-party-2:50100 ...`,
		// "--addresses a b c" as kms-init takes them.
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, rest []string) error {
			addresses = append(addresses, rest...)
			if err := checkEpochArgs("new-epoch-id", epochID, addresses); err != nil {
				return err
			}
			if contextID != material.DefaultContextID {
				return fmt.Errorf("--new-context-id %s: no such context (this cluster has one, %s)", contextID, material.DefaultContextID)
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			if err := client.NewEpoch(ctx, addresses, epochID, maxIter); err != nil {
				return err
			}
			fmt.Printf("New epoch created: %s\n", epochID)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&epochID, "new-epoch-id", "", "ID of the epoch to be created, 64 hex characters (required)")
	f.StringVar(&contextID, "new-context-id", "", "context ID for which the new epoch is created (required)")
	f.StringSliceVar(&addresses, "addresses", nil, "API endpoint of every party, http://host:port")
	f.IntVar(&maxIter, "max-iter", 240, "how many times to ask a party for its result, every 500 ms")
	f.DurationVar(&timeout, "timeout", 5*time.Minute, "give up after this long")
	_ = c.MarkFlagRequired("new-epoch-id")
	_ = c.MarkFlagRequired("new-context-id")
	return c
}

func destroyEpochCmd() *cobra.Command {
	var epochID string
	var addresses []string
	var timeout time.Duration
	c := &cobra.Command{
		Use:   "destroy-mpc-epoch --epoch-id <id> --addresses <address>...",
		Short: "Forget an epoch on every party and delete its PRSS data",
		Long: `destroy-mpc-epoch is the real core-client's (core-client/src/mpc_epoch.rs,
do_destroy_mpc_epoch): it asks every party at once to destroy the epoch
(DestroyMpcEpoch) and fails on the first refusal, with the party's gRPC
code and message. A party refuses an epoch it does not hold (NotFound),
its only epoch (FailedPrecondition), and one whose set-up still runs
(FailedPrecondition); decryptions go on with the newest epoch left.`,
		Example: `  kms-client destroy-mpc-epoch --epoch-id <64 hex> \
    --addresses http://kms-party-1:50100 http://kms-party-2:50100 ...`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, rest []string) error {
			addresses = append(addresses, rest...)
			if err := checkEpochArgs("epoch-id", epochID, addresses); err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			if err := client.DestroyEpoch(ctx, addresses, epochID); err != nil {
				return err
			}
			fmt.Printf("Epoch destruction done: %s\n", epochID)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&epochID, "epoch-id", "", "ID of the epoch to destroy, 64 hex characters (required)")
	f.StringSliceVar(&addresses, "addresses", nil, "API endpoint of every party, http://host:port")
	f.DurationVar(&timeout, "timeout", time.Minute, "give up after this long")
	_ = c.MarkFlagRequired("epoch-id")
	return c
}

// checkEpochArgs is the bad input both epoch commands refuse: no party
// to ask, or an epoch id (given as --flag) that is not one.
func checkEpochArgs(flag, epochID string, addresses []string) error {
	if len(addresses) == 0 {
		return errors.New("no --addresses given")
	}
	if !tss.ValidID(epochID) {
		return fmt.Errorf("--%s must be 64 hex characters, got %q", flag, epochID)
	}
	return nil
}

func readCiphertext(arg string) ([]byte, error) {
	s := strings.TrimSpace(arg)
	if b, err := os.ReadFile(arg); err == nil {
		s = strings.TrimSpace(string(b))
	}
	if s == "" {
		return nil, errors.New("empty ciphertext")
	}
	ct, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("ciphertext is neither a file nor hex: %w", err)
	}
	return ct, nil
}
