package localcluster

import (
	"context"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kmschaos/kmschaos/kms/material"
	kmsv1 "github.com/kmschaos/kmschaos/proto/kms/v1"
)

func admin(t *testing.T, c *Cluster, args ...string) {
	t.Helper()
	out, err := exec.Command(filepath.Join(c.Bin, "kms-admin"), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("kms-admin %v: %v\n%s", args, err, out)
	}
}

func object(c *Cluster, prefix, typ, id string) string { return filepath.Join(c.Dir, prefix, typ, id) }

func restart(t *testing.T, c *Cluster, i int) {
	t.Helper()
	if c.Running(i) {
		if _, err := c.Stop(i, 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Start(i); err != nil {
		t.Fatal(err)
	}
}

// restoreFromBackup copies a party's backed-up private objects back, the
// guide's key material recovery.
func restoreFromBackup(t *testing.T, c *Cluster, i int) {
	t.Helper()
	for _, typ := range material.BackedUp {
		admin(t, c, "cp", "-r", filepath.Join(c.Dir, prefix("BACKUP", i), typ), filepath.Join(c.Dir, prefix("PRIV", i)))
	}
}

func prefix(kind string, i int) string { return kind + "-p" + string(rune('0'+i)) }

func logOf(c *Cluster, i int) string {
	b, _ := os.ReadFile(c.LogFile(i))
	return string(b)
}

// Each storage fault of the troubleshooting guide, on a 4-party cluster:
// the party behaves as the real one does, and no decryption is ever wrong.
func TestStorageFaultsBehaveLikeTheRealParty(t *testing.T) {
	g := NewWithT(t)
	c := start(t, 4, 1)
	ctx := context.Background()
	ct, _ := c.Key.Encrypt(rand.Reader, 4242)
	keyID := c.Key.KeyID
	epochs, _ := os.ReadDir(filepath.Join(c.Dir, "PRIV-p1", material.EpochData))
	g.Expect(epochs).To(HaveLen(1))
	epochID := epochs[0].Name()

	t.Run("silently wrong PRSS is caught at run time and named", func(t *testing.T) {
		g := NewWithT(t)
		admin(t, c, "scramble-prss", object(c, "PRIV-p3", material.EpochData, epochID))
		restart(t, c, 3)
		awaitHealth(t, c, 1, kmsv1.HealthStatus_HEALTH_STATUS_OPTIMAL)
		g.Expect(c.Decrypt(ctx, 1, ct)).To(Equal(uint64(4242)))
		g.Expect(logOf(c, 1)).To(MatchRegexp(`ERROR kms_server: PRSS share inconsistent with the other parties'.* party=3`))
		// Party 3 coordinating: it names itself.
		g.Expect(c.Decrypt(ctx, 3, ct)).To(Equal(uint64(4242)))
		g.Expect(logOf(c, 3)).To(ContainSubstring(`party="3 (this party)"`))
	})
	// Bring party 3 back in line: a fresh epoch everywhere.
	out, err := c.NewEpoch(ctx, "00000000000000000000000000000000000000000000000000000000000000a2")
	g.Expect(err).NotTo(HaveOccurred(), string(out))

	t.Run("a corrupt but loadable key share fails its proof and is named", func(t *testing.T) {
		g := NewWithT(t)
		admin(t, c, "corrupt-share", object(c, "PRIV-p2", material.FheKeyInfo, keyID))
		restart(t, c, 2)
		awaitHealth(t, c, 1, kmsv1.HealthStatus_HEALTH_STATUS_OPTIMAL)
		g.Expect(c.Decrypt(ctx, 1, ct)).To(Equal(uint64(4242)))
		g.Expect(logOf(c, 1)).To(MatchRegexp(`ERROR kms_server: Invalid decryption share received: proof verification failed party=2`))
		restoreFromBackup(t, c, 2)
		restart(t, c, 2)
	})

	t.Run("corrupt PRSS data stops the party at start", func(t *testing.T) {
		g := NewWithT(t)
		file := object(c, "PRIV-p4", material.EpochData, "00000000000000000000000000000000000000000000000000000000000000a2")
		orig, _ := os.ReadFile(file)
		admin(t, c, "flip", file)
		_, err := c.Stop(4, 10*time.Second)
		g.Expect(err).NotTo(HaveOccurred())
		out, err := exec.Command(filepath.Join(c.Bin, "kms-server"), "--config-file", c.Configs[3]).CombinedOutput()
		g.Expect(err).To(HaveOccurred())
		g.Expect(string(out)).To(ContainSubstring("reading failed for EpochData with id 00000000000000000000000000000000000000000000000000000000000000a2"))
		// Three parties keep decrypting.
		g.Expect(c.Decrypt(ctx, 1, ct)).To(Equal(uint64(4242)))
		_ = os.WriteFile(file, orig, 0o600)
		g.Expect(c.Start(4)).To(Succeed())
	})

	t.Run("missing PRSS warns at start and answers NotFound", func(t *testing.T) {
		g := NewWithT(t)
		_, err := c.Stop(4, 10*time.Second)
		g.Expect(err).NotTo(HaveOccurred())
		admin(t, c, "rm", "-r", filepath.Join(c.Dir, "PRIV-p4", material.EpochData))
		g.Expect(c.Start(4)).To(Succeed())
		awaitHealth(t, c, 4, kmsv1.HealthStatus_HEALTH_STATUS_OPTIMAL)
		g.Expect(logOf(c, 4)).To(ContainSubstring("WARN kms_server: No epoch data found in storage"))
		_, err = c.Decrypt(ctx, 4, ct)
		g.Expect(status.Code(err)).To(Equal(codes.NotFound))
		g.Expect(status.Convert(err).Message()).To(Equal("Epoch " + material.DefaultEpochID + " not found"))
		g.Expect(c.Decrypt(ctx, 2, ct)).To(Equal(uint64(4242)))
		// The real kms-health-check has no PRSS section: the party without
		// PRSS looks Optimal to it, as to the real tool.
		report, code := healthCheck(c, "live", "--endpoint", c.Endpoint(4))
		g.Expect(code).To(Equal(0), report)
		g.Expect(report).To(ContainSubstring("Optimal: All 3 peers online and reachable"))
		g.Expect(report).NotTo(ContainSubstring("PRSS"))
	})

	// Boot-time storage verification (the real KMS's, PR #759): public
	// material gone or not matching private storage stops the party before
	// it serves, with the real message, exit status 1; restoring the object
	// (from another party, for the key's public material) brings it back.
	t.Run("public material gone or not matching stops the party at boot", func(t *testing.T) {
		sigID := func(p int) string {
			entries, err := os.ReadDir(filepath.Join(c.Dir, prefix("PRIV", p), material.SigningKey))
			if err != nil || len(entries) != 1 {
				t.Fatalf("signing key of party %d: %v %v", p, entries, err)
			}
			return entries[0].Name()
		}
		for _, tc := range []struct {
			name, file, want string
			damage           func(file string)
		}{
			{"public key of another key", object(c, "PUB-p1", material.PublicKey, keyID), "Error: Public key digest mismatch",
				func(f string) { admin(t, c, "forge-public", f) }},
			{"public key removed", object(c, "PUB-p1", material.PublicKey, keyID),
				"Error: missing or unreadable public material PublicKey for id=" + keyID + ` in storage "file storage with root_path '` + filepath.Join(c.Dir, "PUB-p1") + `'"`,
				func(f string) { admin(t, c, "rm", f) }},
			{"verification key of another party", object(c, "PUB-p1", material.VerfKey, sigID(1)),
				"Error: Verification key in public storage does not match the private signing key: expected the key for address 0x",
				func(f string) { admin(t, c, "cp", object(c, "PUB-p2", material.VerfKey, sigID(2)), f) }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				g := NewWithT(t)
				orig, err := os.ReadFile(tc.file)
				g.Expect(err).NotTo(HaveOccurred())
				if c.Running(1) {
					_, err := c.Stop(1, 10*time.Second)
					g.Expect(err).NotTo(HaveOccurred())
				}
				tc.damage(tc.file)
				// A party that boots anyway is killed after a while: the
				// test fails on its exit status, it does not hang.
				bootCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
				defer cancel()
				out, err := exec.CommandContext(bootCtx, filepath.Join(c.Bin, "kms-server"), "--config-file", c.Configs[0]).CombinedOutput()
				var exit *exec.ExitError
				g.Expect(errors.As(err, &exit)).To(BeTrue(), "kms-server did not fail: %v\n%s", err, out)
				g.Expect(exit.ExitCode()).To(Equal(1), "kms-server booted and was killed:\n%s", out)
				g.Expect(string(out)).To(ContainSubstring(tc.want))
				g.Expect(string(out)).NotTo(ContainSubstring("Starting core service gRPC server"))
				// Three parties keep decrypting.
				g.Expect(c.Decrypt(ctx, 2, ct)).To(Equal(uint64(4242)))
				g.Expect(os.WriteFile(tc.file, orig, 0o600)).To(Succeed())
				g.Expect(c.Start(1)).To(Succeed())
				awaitHealth(t, c, 1, kmsv1.HealthStatus_HEALTH_STATUS_OPTIMAL)
				g.Expect(c.Decrypt(ctx, 1, ct)).To(Equal(uint64(4242)))
				g.Expect(logOf(c, 1)).To(ContainSubstring("INFO kms_server: Verified public storage material in storage"))
			})
		}
	})

	t.Run("a missing storage path stops the party naming the path", func(t *testing.T) {
		g := NewWithT(t)
		cmd := exec.Command(filepath.Join(c.Bin, "kms-server"), "--config-file", c.Configs[1])
		cmd.Env = append(os.Environ(), "KMS_CORE__PRIVATE_VAULT__STORAGE__FILE__PATH=/nonexistent/kms")
		out, err := cmd.CombinedOutput()
		g.Expect(err).To(HaveOccurred())
		g.Expect(string(out)).To(ContainSubstring("storage path /nonexistent/kms of the private vault is not usable: no such file or directory"))
	})
}
