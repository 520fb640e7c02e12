package fault

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/cluster/toxics"
	"github.com/kmschaos/kmschaos/fixtures"
)

// The kinds a person can inject by hand (kmschaos inject), as a table: one
// row per kind with its target, its parameters and their defaults, how to
// build the fault, and how to undo it from any process. The undo cannot
// be the Heal Inject returns: that one lives in the process that injected,
// and a fault injected by hand outlives it. So every row undoes its fault
// from the cluster alone: toxics carry the fault's tag as their name,
// links are enabled again, parties started, resources set back to the
// baseline, storage restored from the golden copy.

// Target is what a kind is aimed at.
type Target string

const (
	AtParty Target = "party" // --party N
	AtLink  Target = "link"  // --link I-J, the directed peer link I->J
)

// FixCoordinator: a fault the party's operator cannot fix — the network
// between parties (a link, a party's peer links) and between clients and
// a party. The guide itself leaves it to others: "contact the network
// coordinator for cross-party connectivity issues", and for the client
// path the firewall, security groups and load balancer, run by whoever
// runs that network. Here it is the toxiproxy mesh, which no command of
// an operator's reaches. So these are the coordinator's: during a game
// day the players recover them by escalating ('kmschaos gameday
// escalate'), and the harness, standing for the coordinator, heals them.
// Every other kind — a party's process, resources, storage, keys,
// config — its operator fixes with the guide's commands (another party's
// outage too: the players are every party's operators).
const FixCoordinator = "coordinator"

// Param is one parameter of a kind, given as --param name=value.
type Param struct {
	Name    string `json:"name"`
	Type    string `json:"type"` // duration, float, fraction, int, port, percent
	Default string `json:"default"`
	Meaning string `json:"meaning"`
}

// Args are the target and parameters of one injection.
type Args struct {
	Party  int               // AtParty
	Link   [2]int            // AtLink: {I, J}
	Params map[string]string // every parameter of the kind, defaults filled in
}

func (a Args) duration(name string) time.Duration {
	d, _ := time.ParseDuration(a.Params[name])
	return d
}
func (a Args) float(name string) float64 { f, _ := strconv.ParseFloat(a.Params[name], 64); return f }
func (a Args) int(name string) int       { n, _ := strconv.Atoi(a.Params[name]); return n }

// KindSpec is one row of the table.
type KindSpec struct {
	Name    string  `json:"name"`
	Family  string  `json:"family"` // Network, Process, Resources, Storage, Keys, PRSS, Config
	Target  Target  `json:"target"`
	Summary string  `json:"summary"`
	Params  []Param `json:"params"`
	// Fix is whose fix the fault is: FixCoordinator, or empty for the
	// party's own operator.
	Fix string `json:"fix,omitempty"`
	// Backends are the backends that offer the kind, by the name
	// Cluster.Backend gives (Docker, Kubernetes); Where says what more a
	// cluster of theirs needs, if anything.
	Backends []string `json:"backends"`
	Where    string   `json:"where,omitempty"`
	// only lists the backends of a kind not every backend offers (nil:
	// every one); sized, that it needs volumes of their own size.
	only  []string
	sized bool
	// build makes the fault; tag names what it adds to the mesh (toxics),
	// so the undo and a reader of the mesh find it again.
	build func(a Args, tag string) Fault
	// undo removes the fault using nothing but the cluster.
	undo func(ctx context.Context, c *cluster.Cluster, a Args, tag string) error
}

// Build makes the fault of an injection (Args from Check).
func (k KindSpec) Build(a Args, tag string) Fault { return k.build(a, tag) }

// Undo removes a fault of this kind injected with a and tag, from any
// process attached to the cluster.
func (k KindSpec) Undo(ctx context.Context, c *cluster.Cluster, a Args, tag string) error {
	return k.undo(ctx, c, a, tag)
}

// Kinds is the table, in the order `kmschaos faults` lists it.
func Kinds() []KindSpec {
	out := slices.Clone(kinds)
	for i := range out {
		out[i] = out[i].filled()
	}
	return out
}

// LookupKind finds a kind by name.
func LookupKind(name string) (KindSpec, bool) {
	for _, k := range kinds {
		if k.Name == name {
			return k.filled(), true
		}
	}
	return KindSpec{}, false
}

// The backends, by the name Cluster.Backend gives them (the names
// cluster/backends chooses from; harness code names no backend package).
const (
	Docker     = "docker"
	Kubernetes = "kubernetes"
)

// Backends are every backend the table knows.
var Backends = []string{Docker, Kubernetes}

func (k KindSpec) filled() KindSpec {
	k.Backends = k.only
	if k.only == nil {
		k.Backends = Backends
	}
	return k
}

// Platform is what a draw knows of where a cluster runs.
type Platform struct {
	Backend      string // Cluster.Backend
	VolumesSized bool   // Cluster.VolumesSized
}

// PlatformOf is where c runs.
func PlatformOf(c *cluster.Cluster) Platform {
	return Platform{Backend: c.Backend(), VolumesSized: c.VolumesSized()}
}

// OfferedOn is nil if the kind can be injected on p, else why not (the
// user's, one line). A backend the table does not name (a test's fake)
// offers what every backend offers.
func (k KindSpec) OfferedOn(p Platform) error {
	if k.only != nil && !slices.Contains(k.only, p.Backend) {
		return fmt.Errorf("fault kind %s is not offered on the %s backend (only on %s)", k.Name, p.Backend, strings.Join(k.only, ", "))
	}
	if k.sized && !p.VolumesSized {
		return fmt.Errorf("fault kind %s is not offered on this %s cluster: %s", k.Name, p.Backend, k.Where)
	}
	return nil
}

// Check validates an injection's target and parameters against the
// kind and the topology, and returns its Args with defaults filled in.
// Its errors are the user's (one line each).
func (k KindSpec) Check(topo cluster.Topology, party int, link [2]int, params map[string]string) (Args, error) {
	a := Args{Params: map[string]string{}}
	inRange := func(what string, p int) error {
		if p < 1 || p > topo.N {
			return fmt.Errorf("%s %d is out of range: the cluster has parties 1 to %d", what, p, topo.N)
		}
		return nil
	}
	switch k.Target {
	case AtParty:
		if link != [2]int{} {
			return a, fmt.Errorf("%s is aimed at a party: use --party N, not --link", k.Name)
		}
		if party == 0 {
			return a, fmt.Errorf("%s needs --party N (1 to %d)", k.Name, topo.N)
		}
		if err := inRange("party", party); err != nil {
			return a, err
		}
		a.Party = party
	case AtLink:
		if party != 0 {
			return a, fmt.Errorf("%s is aimed at a link: use --link I-J, not --party", k.Name)
		}
		if link == [2]int{} {
			return a, fmt.Errorf("%s needs --link I-J (the link from party I to party J)", k.Name)
		}
		for _, p := range link {
			if err := inRange("party", p); err != nil {
				return a, fmt.Errorf("--link %d-%d: %w", link[0], link[1], err)
			}
		}
		if link[0] == link[1] {
			return a, fmt.Errorf("--link %d-%d is a link to itself: a party has no link to itself", link[0], link[1])
		}
		a.Link = link
	}
	known := map[string]Param{}
	for _, p := range k.Params {
		known[p.Name] = p
		a.Params[p.Name] = p.Default
	}
	for name, v := range params {
		p, ok := known[name]
		if !ok {
			return a, fmt.Errorf("%s has no parameter %q (it takes: %s)", k.Name, name, paramNames(k.Params))
		}
		if err := p.valid(v); err != nil {
			return a, fmt.Errorf("--param %s=%s: %w", name, v, err)
		}
		a.Params[name] = v
	}
	return a, nil
}

func paramNames(ps []Param) string {
	if len(ps) == 0 {
		return "none"
	}
	s := ""
	for i, p := range ps {
		if i > 0 {
			s += ", "
		}
		s += p.Name
	}
	return s
}

func (p Param) valid(v string) error {
	switch p.Type {
	case "duration":
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("not a duration like %s", p.Default)
		}
	case "float":
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 {
			return fmt.Errorf("not a positive number like %s", p.Default)
		}
	case "fraction":
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || f > 1 {
			return fmt.Errorf("not a fraction in (0, 1] like %s", p.Default)
		}
	case "int":
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return fmt.Errorf("not a positive whole number like %s", p.Default)
		}
	case "port":
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("not a port from 1 to 65535 like %s", p.Default)
		}
	case "percent":
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return fmt.Errorf("not a percentage from 1 to 100 like %s", p.Default)
		}
	}
	return nil
}

// Undo helpers: each works from the cluster alone.

func enableLinks(ls []*cluster.Link) error {
	for _, l := range ls {
		if err := l.Enable(); err != nil {
			return err
		}
	}
	return nil
}

func removeToxic(ls []*cluster.Link, name string) error {
	for _, l := range ls {
		if err := l.RemoveToxic(name); err != nil {
			return err
		}
	}
	return nil
}

func intoParty(c *cluster.Cluster, i int) []*cluster.Link {
	var ls []*cluster.Link
	for k := 1; k <= c.Topology.N; k++ {
		if k != i {
			ls = append(ls, c.Link(k, i))
		}
	}
	return ls
}

func restoreParty(ctx context.Context, c *cluster.Cluster, a Args, _ string) error {
	return c.RestoreParty(context.WithoutCancel(ctx), a.Party)
}

// baselineMemory sets the party's memory limit back to its baseline.
func baselineMemory(ctx context.Context, c *cluster.Cluster, a Args, _ string) error {
	return c.Party(a.Party).Update(context.WithoutCancel(ctx), cluster.Resources{Memory: c.BaselineOf(a.Party).Memory})
}

func startParty(ctx context.Context, c *cluster.Cluster, a Args, _ string) error {
	return ensureRunning(context.WithoutCancel(ctx), c.Party(a.Party))
}

var kinds = []KindSpec{
	{Name: "link-refused", Family: Network, Fix: FixCoordinator, Target: AtLink, Summary: "party I's connections to party J are refused (the proxy of link I->J disabled); J still reaches I",
		build: func(a Args, _ string) Fault { return LinkRefused(a.Link[0], a.Link[1]) },
		undo: func(_ context.Context, c *cluster.Cluster, a Args, _ string) error {
			return enableLinks([]*cluster.Link{c.Link(a.Link[0], a.Link[1])})
		}},
	{Name: "link-hang", Family: Network, Fix: FixCoordinator, Target: AtLink, Summary: "link I->J accepts connections and drops every byte: a silent hang",
		build: func(a Args, tag string) Fault {
			i, j := a.Link[0], a.Link[1]
			return New(fmt.Sprintf("link %d->%d hangs silently", i, j), Network, []int{i}, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
				return toxic([]*cluster.Link{c.Link(i, j)}, hang(tag))
			})
		},
		undo: func(_ context.Context, c *cluster.Cluster, a Args, tag string) error {
			return removeToxic([]*cluster.Link{c.Link(a.Link[0], a.Link[1])}, tag)
		}},
	{Name: "link-latency", Family: Network, Fix: FixCoordinator, Target: AtLink, Summary: "every byte on link I->J is delayed",
		Params: []Param{{"latency", "duration", "300ms", "added delay"}, {"jitter", "duration", "0s", "random variation of the delay, ±"}},
		build: func(a Args, tag string) Fault {
			i, j := a.Link[0], a.Link[1]
			lat, jit := a.duration("latency"), a.duration("jitter")
			return New(fmt.Sprintf("latency %s ± %s on link %d->%d", lat, jit, i, j), Network, []int{i}, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
				return toxic([]*cluster.Link{c.Link(i, j)}, toxics.Latency(lat, jit).Named(tag))
			})
		},
		undo: func(_ context.Context, c *cluster.Cluster, a Args, tag string) error {
			return removeToxic([]*cluster.Link{c.Link(a.Link[0], a.Link[1])}, tag)
		}},
	{Name: "latency", Family: Network, Fix: FixCoordinator, Target: AtParty, Summary: "every link into and out of party N is slow",
		Params: []Param{{"latency", "duration", "300ms", "added delay"}, {"jitter", "duration", "50ms", "random variation of the delay, ±"}},
		build: func(a Args, tag string) Fault {
			lat, jit := a.duration("latency"), a.duration("jitter")
			return New(fmt.Sprintf("latency %s ± %s on the links of party %d", lat, jit, a.Party), Network, []int{a.Party}, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
				return toxic(peerLinksOf(c, []int{a.Party}), toxics.Latency(lat, jit).Named(tag))
			})
		},
		undo: func(_ context.Context, c *cluster.Cluster, a Args, tag string) error {
			return removeToxic(peerLinksOf(c, []int{a.Party}), tag)
		}},
	{Name: "isolate", Family: Network, Fix: FixCoordinator, Target: AtParty, Summary: "party N is cut from every peer, both ways (connection refused)",
		build: func(a Args, _ string) Fault { return Isolate(a.Party) },
		undo: func(_ context.Context, c *cluster.Cluster, a Args, _ string) error {
			return enableLinks(peerLinksOf(c, []int{a.Party}))
		}},
	{Name: "resets", Family: Network, Fix: FixCoordinator, Target: AtParty, Summary: "a fraction of the connections into party N are reset by the network",
		Params: []Param{{"fraction", "fraction", "0.7", "share of connections reset"}},
		build: func(a Args, tag string) Fault {
			f := float32(a.float("fraction"))
			return New(fmt.Sprintf("%.0f%% of connections into party %d reset", 100*f, a.Party), Network, []int{a.Party}, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
				return toxic(intoParty(c, a.Party), toxics.ResetPeer(fixtures.Intervals.Fault.ResetPeerAfter).Hitting(f).Named(tag))
			})
		},
		undo: func(_ context.Context, c *cluster.Cluster, a Args, tag string) error {
			return removeToxic(intoParty(c, a.Party), tag)
		}},
	{Name: "client-refused", Family: Network, Fix: FixCoordinator, Target: AtParty, Summary: "clients of party N get connection refused; the party itself is fine",
		build: func(a Args, _ string) Fault { return ClientRefused(a.Party) },
		undo: func(_ context.Context, c *cluster.Cluster, a Args, _ string) error {
			return enableLinks([]*cluster.Link{c.Party(a.Party).ClientLink()})
		}},
	{Name: "client-hang", Family: Network, Fix: FixCoordinator, Target: AtParty, Summary: "party N's client link accepts connections and answers nothing",
		build: func(a Args, tag string) Fault {
			return New(fmt.Sprintf("client link of party %d hangs silently", a.Party), Network, []int{a.Party}, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
				return toxic([]*cluster.Link{c.Party(a.Party).ClientLink()}, hang(tag))
			})
		},
		undo: func(_ context.Context, c *cluster.Cluster, a Args, tag string) error {
			return removeToxic([]*cluster.Link{c.Party(a.Party).ClientLink()}, tag)
		}},
	{Name: "kill", Family: Process, Target: AtParty, Summary: "party N is killed (SIGKILL, docker kill); the engine does not restart it",
		build: func(a Args, _ string) Fault { return Kill(a.Party) }, undo: startParty},
	{Name: "stop", Family: Process, Target: AtParty, Summary: "party N is stopped gracefully (SIGTERM, docker stop)",
		build: func(a Args, _ string) Fault { return Stop(a.Party) }, undo: startParty},
	{Name: "pause", Family: Process, Target: AtParty, Summary: "party N is frozen: its sockets accept connections, nothing answers (a gray failure)",
		only:  []string{Docker}, // Kubernetes has no verb that freezes a pod
		build: func(a Args, _ string) Fault { return Pause(a.Party) }, undo: startParty},
	{Name: "evict", Family: Process, Target: AtParty, Summary: "party N's node is cordoned and its pod evicted: the new pod stays Pending",
		only: []string{Kubernetes}, Where: "only where node faults are allowed: the local cluster, or --node-faults",
		build: func(a Args, _ string) Fault { return Evict(a.Party) },
		undo: func(ctx context.Context, c *cluster.Cluster, _ Args, _ string) error {
			_, err := c.Uncordon(context.WithoutCancel(ctx))
			return err
		}},
	{Name: "cpu", Family: Resources, Target: AtParty, Summary: "party N is limited to a fraction of one CPU (docker update --cpus)",
		Params: []Param{{"cpus", "float", "0.02", "CPUs the party may use"}},
		build:  func(a Args, _ string) Fault { return CPUQuota(a.Party, a.float("cpus")) },
		undo: func(ctx context.Context, c *cluster.Cluster, a Args, _ string) error {
			return c.Party(a.Party).Update(context.WithoutCancel(ctx), cluster.Resources{NanoCPUs: c.BaselineOf(a.Party).NanoCPUs})
		}},
	{Name: "memory", Family: Resources, Target: AtParty, Summary: "party N is restarted under a memory limit too small for it: OOM-killed (exit 137) again and again",
		Params: []Param{{"mib", "int", "8", "the memory limit, MiB"}},
		build:  func(a Args, _ string) Fault { return MemoryLimit(a.Party, int64(a.int("mib"))<<20) },
		undo: func(ctx context.Context, c *cluster.Cluster, a Args, tag string) error {
			if err := baselineMemory(ctx, c, a, tag); err != nil {
				return err
			}
			return ensureRunning(context.WithoutCancel(ctx), c.Party(a.Party))
		}},
	{Name: "memory-pressure", Family: Resources, Target: AtParty, Summary: "party N's memory limit is lowered near what it uses, without a restart: it runs under pressure, short of an OOM kill",
		Params: []Param{{"ratio", "fraction", "0.9", "what the party uses as a fraction of its new limit"}},
		only:   []string{Docker}, // a party's memory use needs metrics-server on Kubernetes
		build:  func(a Args, _ string) Fault { return MemoryPressure(a.Party, a.float("ratio")) },
		undo:   baselineMemory},
	{Name: "port-held", Family: Process, Target: AtParty, Summary: "another process holds a port party N binds at start, and the party is restarted: every start fails naming the port",
		Params: []Param{{"port", "port", "50100", "the port held (50100 the API, 50001 peers, 9646 metrics)"}},
		only:   []string{Docker}, // no second process can hold a pod's network namespace
		build:  func(a Args, _ string) Fault { return PortHeld(a.Party, a.int("port")) },
		undo: func(ctx context.Context, c *cluster.Cluster, a Args, _ string) error {
			return c.ReleaseHeldPort(context.WithoutCancel(ctx), a.Party)
		}},
	{Name: "disk-full", Family: Storage, Target: AtParty, Summary: "party N's keys volume is filled up",
		Params: []Param{{"percent", "percent", "97", "how full the volume is made"}},
		sized:  true, Where: "only where each party's volume has a size of its own (not hostPath volumes on one filesystem: filling one would fill every party's)",
		build: func(a Args, _ string) Fault { return DiskFull(a.Party, a.int("percent")) },
		undo: func(ctx context.Context, c *cluster.Cluster, a Args, _ string) error {
			return admin(context.WithoutCancel(ctx), c, "rm", "-f", cluster.VolumePath(a.Party, "keys")+"/.kmschaos-filler")
		}},
	{Name: "share-missing", Family: Storage, Target: AtParty, Summary: "party N's key share file is deleted and the party restarted",
		build: func(a Args, _ string) Fault { return Remove(a.Party, KeyShare) }, undo: restoreParty},
	{Name: "share-corrupt", Family: Keys, Target: AtParty, Summary: "party N's key share is changed but still loads: its decryption shares are wrong",
		build: func(a Args, _ string) Fault { return CorruptShare(a.Party) }, undo: restoreParty},
	{Name: "backup-corrupt", Family: Storage, Target: AtParty, Summary: "a byte of party N's backup copy of its key share is flipped (digest broken); the party runs on",
		build: func(a Args, _ string) Fault { return FlipBackup(a.Party, BackupKeyShare) }, undo: restoreParty},
	{Name: "backup-unreadable", Family: Storage, Target: AtParty, Summary: "party N's backup vault is made unreadable (chmod 000); the party runs on until its next start, which the backup-vault sync stops",
		build: func(a Args, _ string) Fault { return ChmodBackup(a.Party, "000") }, undo: restoreParty},
	{Name: "prss-missing", Family: PRSS, Target: AtParty, Summary: "party N's PRSS epoch data is deleted and the party restarted",
		build: func(a Args, _ string) Fault { return Remove(a.Party, PRSSEpochData) }, undo: restoreParty},
	{Name: "prss-corrupt", Family: PRSS, Target: AtParty, Summary: "a byte of party N's PRSS epoch data is flipped: the party refuses to start (crash loop)",
		build: func(a Args, _ string) Fault { return Flip(a.Party, PRSSEpochData) }, undo: restoreParty},
	{Name: "bad-config", Family: Config, Target: AtParty, Summary: "party N's config.toml is made malformed: the party crash-loops",
		build: func(a Args, _ string) Fault { return BadConfig(a.Party, MalformedTOML) }, undo: restoreParty},
}

// Closest is the kind name nearest to a mistyped one, for "did you mean".
func Closest(name string) string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = k.Name
	}
	return Nearest(name, names)
}

// Nearest is the candidate nearest to name by edit distance (the first of
// equals): the "did you mean" of a mistyped name, a kind's or a
// scenario's. Candidates that hold name count first: a word of a
// scenario's long name ("kill") means a scenario that says it, not the
// shortest name.
func Nearest(name string, candidates []string) string {
	var holding []string
	for _, c := range candidates {
		if strings.Contains(strings.ToLower(c), strings.ToLower(name)) {
			holding = append(holding, c)
		}
	}
	if len(holding) > 0 {
		candidates = holding
	}
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if d := editDistance(name, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of two strings.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
