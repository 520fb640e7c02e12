// Package service is one simulated KMS party: the client API
// (kms_service.v1.CoreServiceEndpoint) and the party-to-party protocol
// (kms.p2p.v1.Peer) over its key material, PRSS epochs and peers.
package service

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kmschaos/kmschaos/kms/config"
	"github.com/kmschaos/kmschaos/kms/material"
	"github.com/kmschaos/kmschaos/kms/metrics"
	"github.com/kmschaos/kmschaos/kms/p2p"
	"github.com/kmschaos/kmschaos/kms/ratelimit"
	"github.com/kmschaos/kmschaos/kms/storage"
	"github.com/kmschaos/kmschaos/kms/tss"
	kmsservicev1 "github.com/kmschaos/kmschaos/proto/kms_service/v1"
	p2pv1 "github.com/kmschaos/kmschaos/proto/p2p/v1"
)

// Service is one party.
type Service struct {
	kmsservicev1.UnimplementedCoreServiceEndpointServer
	p2pv1.UnimplementedPeerServer

	cfg     *config.Config
	log     *slog.Logger
	metrics *metrics.Metrics
	rand    io.Reader
	vaults  material.Vaults
	peers   *p2p.Peers

	me, n, t       int
	networkTimeout time.Duration
	grace          time.Duration
	setupTimeout   time.Duration

	signer   ed25519.PrivateKey
	signerID string
	keys     map[string]*thresholdKey

	mu     sync.RWMutex
	epochs map[string]*material.Epoch

	jobs   *jobTable[decryptResult]
	setups *jobTable[epochResult]
	inbox  *prssInbox
	// limiter is the real party's rate limiter: the only bound on the
	// decryptions a party runs at once.
	limiter          *ratelimit.Limiter
	pubDecryptTokens int

	lie bool // Options.LieForTests

	draining atomic.Bool
	inflight sync.WaitGroup

	cache [][]byte // the decryption result cache, reserved at start
}

// thresholdKey is one key as this party holds it.
type thresholdKey struct {
	pub   *tss.PublicKey
	share *tss.KeyShare // nil when the share is missing
	// coordinate is why this party must not coordinate decryptions with
	// the key (its public material does not match its share), or nil.
	coordinate error
}

// Options configure a Service.
type Options struct {
	Config  *config.Config
	Log     *slog.Logger
	Metrics *metrics.Metrics
	Rand    io.Reader // crypto/rand when nil
	// LieForTests makes the party, as coordinator, return every plaintext
	// plus one, correctly signed: the harness's meta-specs use it to prove
	// that a wrong value is caught wherever it is seen. Test only: set by
	// kms-server --test-only-lie, never by any config file.
	LieForTests bool
	// PeerAuth authenticates the links to peers (nil: no TLS).
	PeerAuth *p2p.Auth
}

// New loads the party's storage. It refuses to start, with an error naming
// the object or path, when storage is unusable or an object is corrupt; a
// missing key share or missing PRSS only warns, as in the real KMS.
func New(o Options) (*Service, error) {
	c := o.Config
	s := &Service{
		cfg: c, log: o.Log, metrics: o.Metrics, rand: o.Rand, lie: o.LieForTests,
		me: c.Threshold.MyID, n: c.N(), t: c.T(),
		networkTimeout:   time.Duration(c.Threshold.CoreToCoreNet.NetworkTimeout) * time.Second,
		grace:            time.Duration(c.Threshold.CoreToCoreNet.StragglerGraceMs) * time.Millisecond,
		setupTimeout:     time.Duration(max(c.Threshold.CoreToCoreNet.MaxElapsedTime, 5)) * time.Second,
		keys:             map[string]*thresholdKey{},
		epochs:           map[string]*material.Epoch{},
		jobs:             newJobTable[decryptResult](max(c.Threshold.DecCapacity, 16)),
		setups:           newJobTable[epochResult](64),
		inbox:            newPrssInbox(),
		limiter:          ratelimit.New(c.RateLimiter().BucketSize),
		pubDecryptTokens: c.RateLimiter().PubDecrypt,
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	s.vaults = vaultsOf(c)
	if err := s.openStorage(); err != nil {
		return nil, err
	}
	if err := s.loadSigningKey(); err != nil {
		return nil, err
	}
	if err := s.verifyPublic(); err != nil {
		return nil, err
	}
	if err := s.loadKeys(); err != nil {
		return nil, err
	}
	if err := s.loadEpochs(); err != nil {
		return nil, err
	}
	if err := s.syncBackup(); err != nil {
		return nil, err
	}
	s.reserveCache(c.Threshold.DecCapacity)
	var peers []p2p.Peer
	for _, p := range c.Threshold.Peers {
		peers = append(peers, p2p.Peer{ID: p.PartyID, Address: p2p.HostPort(p.Address, p.Port)})
	}
	s.peers = p2p.NewPeers(s.me, peers, o.PeerAuth)
	return s, nil
}

func vaultsOf(c *config.Config) material.Vaults {
	v := func(name string, cv *config.Vault) *storage.Vault {
		return &storage.Vault{Name: name, Path: cv.Storage.File.Path, Prefix: cv.Storage.File.Prefix}
	}
	out := material.Vaults{Public: v("public", c.PublicVault), Private: v("private", c.PrivateVault)}
	if c.BackupVault != nil {
		out.Backup = v("backup", c.BackupVault)
	}
	return out
}

// openStorage checks that every vault's root exists and that the public and
// private vaults are readable and writable, and sweeps the temp files of
// writes a crash interrupted. The backup vault is used at the end of boot
// (syncBackup).
func (s *Service) openStorage() error {
	for _, v := range s.vaults.All() {
		if fi, err := os.Stat(v.Path); err != nil || !fi.IsDir() {
			if err == nil {
				err = errors.New("not a directory")
			}
			return fmt.Errorf("storage path %s of the %s vault is not usable: %w", v.Path, v.Name, unwrapPathErr(err))
		}
		if err := os.MkdirAll(v.Dir(), 0o700); err != nil {
			return fmt.Errorf("storage path %s of the %s vault is not writable: %w", v.Dir(), v.Name, unwrapPathErr(err))
		}
		// Best effort, as the real FileStorage::new: it logs what it
		// removes, and a directory it cannot read (sweep_stale_partials,
		// core/service/src/util/file_handling.rs); the backup-vault sync at
		// the end of boot is what stops the party.
		v.Sweep(s.log)
		if v == s.vaults.Backup {
			continue // checked by syncBackup, as the real party does
		}
		if st := v.Probe(); !st.Readable || !st.Writable {
			return fmt.Errorf("storage path %s of the %s vault is not usable: %w", v.Dir(), v.Name, st.Err)
		}
	}
	return nil
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (s *Service) loadSigningKey() error {
	id, k, err := s.vaults.SigningKey()
	if err != nil {
		return fmt.Errorf("cannot load the signing key: %w", err)
	}
	s.signer, s.signerID = k, id
	return nil
}

// verifyPublic is the real KMS's boot-time storage verification
// (material.VerifyPublic): a failure stops the party before it binds a
// port, so it never serves 50100 and its container crash-loops, as the
// real one's error returns from main (core/service/src/bin/kms-server.rs).
// No metric counts it there; the lines below are the real ones.
func (s *Service) verifyPublic() error {
	v, err := s.vaults.VerifyPublic(s.me, s.signerID, s.signer)
	for _, id := range v.Legacy {
		s.log.Info(fmt.Sprintf("Legacy metadata for id=%s, checking raw object presence only (no digest verification)", id))
	}
	if err != nil {
		return err
	}
	s.log.Info(fmt.Sprintf("Verification key and address in public storage match the private signing key (address %s)", v.Address))
	s.log.Info(fmt.Sprintf("Verified public storage material in storage %q: %d keyset(s), 0 CRS(es), 0 recovery validation material item(s)", v.Storage, v.Keysets))
	return nil
}

// syncBackup is the real party's last step of boot (new_real_threshold_kms,
// core/service/src/engine/threshold/service/kms_impl.rs): the backup vault
// gets every private object it lacks (material.SyncBackup). A failure is
// logged and counted as update_backup_vault does (crypto_material/base.rs)
// and stops the party: the process exits before it serves anything, so the
// count dies with it, as the real one's does a moment after it is made.
func (s *Service) syncBackup() error {
	if s.vaults.Backup == nil {
		return nil
	}
	if err := s.vaults.SyncBackup(); err != nil {
		s.log.Error("Failed to update backup vault for operation boot: " + err.Error())
		s.metrics.BackupErrors.WithLabelValues("boot", "backup_error").Inc()
		return errors.New("Failed to update backup vault when booting")
	}
	s.log.Info("Successfully updated backup vault for boot")
	s.log.Info("Successfully updated backup vault when booting")
	return nil
}

func (s *Service) loadKeys() error {
	ids, err := s.vaults.Public.List(material.PublicKey)
	if err != nil {
		return err
	}
	for _, id := range ids {
		pub, err := s.vaults.PublicKey(id)
		if err != nil {
			return err
		}
		k := &thresholdKey{pub: pub}
		share, err := s.vaults.KeyShare(id)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			s.log.Warn("No key share found in storage for this key: this party cannot contribute to its decryptions", "key_id", id, "object", s.vaults.Private.Object(material.FheKeyInfo, id))
		case err != nil:
			return err
		default:
			k.share = share
			if err := pub.CheckShare(share); err != nil {
				// Either object may be the wrong one; this party cannot tell
				// which, so it refuses to coordinate and names both.
				k.coordinate = fmt.Errorf("the key share of party %d does not match the public material of key %s: %s or %s is wrong; restore it from backup or from a peer",
					s.me, id, s.vaults.Private.Object(material.FheKeyInfo, id), s.vaults.Public.Object(material.PublicKey, id))
				s.log.Error("Key share and public material do not match: this party will not coordinate decryptions with the key", "key_id", id, "error", err.Error())
			}
		}
		if pub.N != s.n || pub.T != s.t {
			return &material.ReadError{Type: material.PublicKey, ID: id, Err: fmt.Errorf("key is for n=%d t=%d, config says n=%d t=%d", pub.N, pub.T, s.n, s.t)}
		}
		s.keys[id] = k
		s.log.Info("Loaded threshold key", "key_id", id, "share", k.share != nil)
	}
	if len(ids) == 0 {
		s.log.Warn("No threshold keys found in storage: run key generation")
	}
	return nil
}

func (s *Service) loadEpochs() error {
	ids, err := s.vaults.Private.List(material.EpochData)
	if err != nil {
		return err
	}
	for _, id := range ids {
		e, err := s.vaults.Epoch(id)
		if err != nil {
			return err
		}
		if e.Keys.Party != s.me || e.Keys.N != s.n || e.Keys.T != s.t {
			return &material.ReadError{Type: material.EpochData, ID: id, Err: fmt.Errorf("epoch data is for party %d of n=%d t=%d", e.Keys.Party, e.Keys.N, e.Keys.T)}
		}
		s.epochs[id] = e
	}
	if len(ids) == 0 {
		s.log.Warn("No epoch data found in storage. PRSS must be initialised (kms-init) before threshold operations can run")
	} else {
		id, _ := s.activeEpoch()
		s.log.Info("Loaded PRSS epoch data", "epochs", len(ids), "active_epoch", id)
	}
	return nil
}

// activeEpoch is the newest epoch, used when a request names none.
func (s *Service) activeEpoch() (string, *material.Epoch) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids := make([]string, 0, len(s.epochs))
	for id := range s.epochs {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(a, b int) bool {
		ea, eb := s.epochs[ids[a]], s.epochs[ids[b]]
		if !ea.CreatedAt.Equal(eb.CreatedAt) {
			return ea.CreatedAt.After(eb.CreatedAt)
		}
		return ids[a] > ids[b]
	})
	if len(ids) == 0 {
		return material.DefaultEpochID, nil
	}
	return ids[0], s.epochs[ids[0]]
}

func (s *Service) epoch(id string) *material.Epoch {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.epochs[id]
}

// reserveCache sets aside the decryption result cache (dec_capacity entries
// of 4 KiB) and touches it: the party's resident memory at start follows its
// configuration, as the real party's follows its key sizes, which is what a
// too small container memory limit runs into.
func (s *Service) reserveCache(entries int) {
	const entrySize = 4 << 10
	s.cache = make([][]byte, entries)
	for i := range s.cache {
		s.cache[i] = make([]byte, entrySize)
		for j := 0; j < entrySize; j += 512 {
			s.cache[i][j] = 1
		}
	}
}

// Ready tells whether the party can take part in threshold operations.
func (s *Service) Ready() error {
	if s.draining.Load() {
		return errors.New("shutting down")
	}
	if len(s.keys) == 0 {
		return errors.New("no threshold key loaded")
	}
	if _, e := s.activeEpoch(); e == nil {
		return errors.New("no PRSS epoch data: run kms-init")
	}
	return nil
}

// Drain stops accepting new work and waits, up to timeout, for the
// sessions in progress and, for the asynchronous decryptions among them,
// for their clients to read the result: a client polling
// GetPublicDecryptionResult must not find the party gone with its answer.
func (s *Service) Drain(timeout time.Duration) bool {
	s.draining.Store(true)
	pending := s.jobs.unfinished()
	deadline := time.After(timeout)
	done := make(chan struct{})
	go func() { s.inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-deadline:
		return false
	}
	// A polling client reads its result within a poll interval; one that
	// gave up never will, and must not hold the stop for long.
	grace := time.After(collectGrace)
	for _, j := range pending {
		select {
		case <-j.collected:
		case <-grace:
			return true
		case <-deadline:
			return true
		}
	}
	return true
}

// collectGrace bounds how long a draining party keeps a finished result
// for the client that started it.
const collectGrace = 2 * time.Second

// Close releases the peer connections.
func (s *Service) Close() { s.peers.Close() }

// Me is this party's id.
func (s *Service) Me() int { return s.me }
