package secrets

import (
	"context"
	"encoding/hex"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/cluster/fakebackend"
)

// storage is a fake keeper's volumes: path -> content, and the manifest
// kms-admin would print of them.
type storage struct {
	mu    sync.Mutex
	files map[string][]byte
	k     *fakebackend.Keeper
}

func (s *storage) put(p string, content []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[p] = content
	if err := s.k.CopyIn(context.Background(), content, p, 0o600); err != nil {
		panic(err)
	}
}

func (s *storage) remove(p string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.files, p)
}

func (s *storage) manifest(_ string, cmd []string) cluster.ExecResult {
	if !slices.Contains(cmd, "manifest") || cmd[len(cmd)-1] != "/vaults" {
		return cluster.ExecResult{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var lines []string
	for p, b := range s.files {
		lines = append(lines, "f 0600 10001:10001 1 "+hex.EncodeToString(b)[:16]+" "+p)
	}
	return cluster.ExecResult{Stdout: strings.Join(lines, "\n")}
}

// A PRSS epoch a runbook makes during the run, and a Reset removes again,
// is a secret of the cluster all the same: redacted from the moment the
// handle sees it, and still in the set when the reports are scanned.
func TestTrackerKnowsSecretsMadeDuringTheRun(t *testing.T) {
	ctx := context.Background()
	c, _, keeper, err := fakebackend.Cluster(4, cluster.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	st := &storage{files: map[string][]byte{}, k: keeper}
	keeper.OnExec = st.manifest
	share := []byte("key share of party one, 0123456789")
	st.put("/vaults/p1/keys/PRIV-p1/FheKeyInfo/4acd", share)

	tr, err := Track(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Stop(); Use(nil) })
	if _, ok := tr.Set().Find(share); !ok {
		t.Fatal("the share stored at the start is not in the set")
	}

	// A runbook's kms-init with a fresh epoch id; the key check after the
	// step reads the manifest.
	epoch := []byte("PRSS keys of a fresh epoch, 0123456789abcdef")
	p := "/vaults/p1/keys/PRIV-p1/EpochData/0000000000000000000000000000000000000000000000000000000000000002"
	st.put(p, epoch)
	if _, err := c.KeyMaterial(ctx); err != nil {
		t.Fatal(err)
	}
	said := "step output: " + hex.EncodeToString(epoch)
	if got := Redact(said); strings.Contains(got, hex.EncodeToString(epoch)) {
		t.Errorf("the fresh epoch's keys are not redacted once seen: %q", got)
	}

	// Reset removes the epoch: the set still knows it for the final scan.
	st.remove(p)
	if _, err := c.KeyMaterial(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := tr.Set().Find([]byte(said)); !ok {
		t.Error("the epoch removed by a Reset is no longer in the set the reports are scanned for")
	}
	if err := tr.Err(); err != nil {
		t.Errorf("tracker error: %v", err)
	}
	// A set collected at the end, as the scan did, never knew it.
	end, err := Collect(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := end.Find([]byte(said)); ok {
		t.Error("fixture: Collect at the end should not find an epoch that is gone")
	}
}

// A new stored file that cannot be read is an error the final scan must
// report: it cannot vouch for a secret it never read.
func TestTrackerNamesANewFileItCouldNotRead(t *testing.T) {
	ctx := context.Background()
	c, _, keeper, err := fakebackend.Cluster(4, cluster.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	st := &storage{files: map[string][]byte{}, k: keeper}
	keeper.OnExec = st.manifest
	tr, err := Track(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Stop(); Use(nil) })
	st.mu.Lock()
	st.files["/vaults/p2/keys/PRIV-p2/SigningKey/ab"] = []byte("only in the manifest, not readable")
	st.mu.Unlock()
	if _, err := c.KeyMaterial(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tr.Err(); err == nil || !strings.Contains(err.Error(), "PRIV-p2/SigningKey/ab") {
		t.Errorf("tracker error %v; want the unreadable new file named", err)
	}
}

// A write's temp file renamed between the manifest and the read is no
// secret lost: its content is read under the object's own name.
func TestTrackerPassesOverATempFileRenamedMeanwhile(t *testing.T) {
	ctx := context.Background()
	c, _, keeper, err := fakebackend.Cluster(4, cluster.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	st := &storage{files: map[string][]byte{}, k: keeper}
	keeper.OnExec = st.manifest
	tr, err := Track(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Stop(); Use(nil) })
	st.mu.Lock()
	st.files["/vaults/p2/keys/PRIV-p2/EpochData/.e2.partial.1.0"] = []byte("renamed before it could be read")
	st.mu.Unlock()
	if _, err := c.KeyMaterial(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tr.Err(); err != nil {
		t.Errorf("a temp file gone since the manifest: %v", err)
	}
}
