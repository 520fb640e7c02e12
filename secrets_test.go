package kmschaos_test

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/harness/env"
	"github.com/kmschaos/kmschaos/harness/runbook"
	"github.com/kmschaos/kmschaos/harness/secrets"
	"github.com/kmschaos/kmschaos/kms/localcluster"
	"github.com/kmschaos/kmschaos/kms/material"
	"github.com/kmschaos/kmschaos/kms/storage"
)

// The suite's secret scan is only worth something if it knows the real
// secrets: the party's own decoders read them here, independently of how
// the scan collects them, and each planted in a report must turn it red.
var _ = Describe("The secret scan", Label("meta", "secrets"), func() {
	It("finds every kind of the cluster's secrets planted in a report, and redacts them", func(ctx SpecContext) {
		c := env.Cluster()
		set, err := secrets.Collect(ctx, c)
		Expect(err).NotTo(HaveOccurred())

		open := func(p string) []byte {
			GinkgoHelper()
			raw, err := c.ReadFile(ctx, p)
			Expect(err).NotTo(HaveOccurred())
			typ, id := path.Base(path.Dir(p)), path.Base(p)
			payload, err := storage.Open(p, typ, id, raw)
			Expect(err).NotTo(HaveOccurred())
			return payload
		}
		files, err := c.StoredFiles(ctx)
		Expect(err).NotTo(HaveOccurred())
		var signing string
		for _, p := range files[1] {
			if strings.Contains(p, "/PRIV-p1/"+material.SigningKey+"/") {
				signing = p
			}
		}
		Expect(signing).NotTo(BeEmpty(), "party 1 has no signing key")

		sharePath := c.KeyObject(1, "PRIV", material.FheKeyInfo, c.Key.KeyID)
		share, err := material.DecodeKeyShare(open(sharePath))
		Expect(err).NotTo(HaveOccurred())
		shareBytes, err := share.X.MarshalBinary()
		Expect(err).NotTo(HaveOccurred())
		seed, err := material.DecodeSigningKey(open(signing))
		Expect(err).NotTo(HaveOccurred())
		epoch, err := material.DecodeEpoch(open(c.KeyObject(1, "PRIV", material.EpochData, material.DefaultEpochID)))
		Expect(err).NotTo(HaveOccurred())
		var prssKey []byte
		for _, k := range epoch.Keys.Export() {
			prssKey = k[:]
			break
		}
		storedShare, err := c.ReadFile(ctx, sharePath)
		Expect(err).NotTo(HaveOccurred())

		for _, plant := range []struct{ what, text, kind string }{
			{"the key share, hex", hex.EncodeToString(shareBytes), "key share"},
			{"the signing key's seed, base64", base64.StdEncoding.EncodeToString(seed.Seed()), "signing key"},
			{"a PRSS key, upper-case hex", strings.ToUpper(hex.EncodeToString(prssKey)), "PRSS keys"},
			{"the stored key share file, raw", string(storedShare), "key share"},
		} {
			dir := GinkgoT().TempDir()
			Expect(os.WriteFile(filepath.Join(dir, "scorecard.json"), []byte(`{"output":"`+plant.text+`"}`), 0o600)).To(Succeed())
			err := secrets.Scan(dir, set)
			var leak *secrets.LeakError
			Expect(errors.As(err, &leak)).To(BeTrue(), "%s planted: the scan found nothing (%v)", plant.what, err)
			Expect(leak.Kind).To(ContainSubstring(plant.kind), plant.what)
			Expect(err.Error()).NotTo(ContainSubstring(plant.text))
			Expect(set.Redact("step said " + plant.text)).To(Equal("step said " + secrets.Redacted))
		}

		By("finding none in the parties' logs")
		Expect(secrets.ScanPartyLogs(ctx, c, set)).To(Succeed())
	})

	// The set the suite scans with is every secret the cluster held at any
	// point: a PRSS epoch a runbook sets up, then a Reset removes, was
	// never in the set collected at the start nor in one collected at the
	// end.
	It("knows a PRSS epoch a runbook made, after a Reset removed it", func(ctx SpecContext) {
		c := env.Cluster()
		_, err := c.Reset(ctx)
		Expect(err).NotTo(HaveOccurred())
		root, err := localcluster.ModuleRoot()
		Expect(err).NotTo(HaveOccurred())
		rb, err := runbook.Load(filepath.Join(root, "runbooks", "prss-reinit.yaml"))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) error { _, err := c.Reset(ctx); return err }, NodeTimeout(timings.Heal))
		_, err = rb.Run(ctx, &runbook.Env{C: c, Party: 1})
		Expect(err).NotTo(HaveOccurred())

		rep, err := c.Audit(ctx)
		Expect(err).NotTo(HaveOccurred())
		var epoch string
		for _, p := range rep.NewObjects[1] {
			if cluster.IsEpochObject(p) {
				epoch = p
			}
		}
		Expect(epoch).NotTo(BeEmpty(), "no new epoch on party 1 after kms-init: %s", rep)
		raw, err := c.ReadFile(ctx, epoch)
		Expect(err).NotTo(HaveOccurred())
		payload, err := storage.Open(epoch, material.EpochData, path.Base(epoch), raw)
		Expect(err).NotTo(HaveOccurred())
		e, err := material.DecodeEpoch(payload)
		Expect(err).NotTo(HaveOccurred())
		var key string
		for _, k := range e.Keys.Export() {
			key = hex.EncodeToString(k[:])
			break
		}

		_, err = c.Reset(ctx)
		Expect(err).NotTo(HaveOccurred())
		after, err := c.Audit(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(after.Clean()).To(BeTrue(), "the Reset left: %s", after)

		dir := GinkgoT().TempDir()
		Expect(os.WriteFile(filepath.Join(dir, "scorecard.json"), []byte(`{"output":"`+key+`"}`), 0o600)).To(Succeed())
		var leak *secrets.LeakError
		Expect(errors.As(secrets.Scan(dir, secrets.Active()), &leak)).To(BeTrue(), "the removed epoch's PRSS key planted in a report: the scan found nothing")
		Expect(leak.Kind).To(ContainSubstring("PRSS keys"))
		Expect(secrets.Redact("step said " + key)).To(Equal("step said " + secrets.Redacted))
	})
})
