// Package kube is the Kubernetes backend: a cluster's parties as
// StatefulSets (kms-threshold-<i>) with their stores on
// PersistentVolumeClaims, the mesh as a Deployment and a Service, the
// keeper as a pod mounting every claim, all in a namespace of the run's
// own, on any cluster a kubeconfig reaches. It implements cluster.Driver
// and cluster.Workload; faults, probes and runbooks do not know it.
package kube

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/fixtures"
)

// Name is the backend's name.
const Name = "kubernetes"

// Config says which cluster and where in it.
type Config struct {
	// Kubeconfig is the file to read; "": $KUBECONFIG, then ~/.kube/config.
	Kubeconfig string
	// Namespace is the run's namespace; "": kmschaos-<run id>. It is
	// created and deleted by the run; one that exists and is not a
	// kmschaos run's is refused.
	Namespace string
	// VolumeRoot is the node directory under which the backend makes
	// hostPath volumes when the cluster has no default StorageClass.
	VolumeRoot string
	// As is a user to act as (kubectl --as): the RBAC check runs the
	// backend as a user bound to rbac.yaml's ClusterRole only.
	As string
	// Forward reaches the mesh through a port-forward even where its
	// Service's address is routed here (how a remote cluster is reached).
	Forward bool
	// NodeFaults allows cordoning a node (the evict fault). Cordoning
	// stops scheduling for every workload on the node, not the run's
	// alone: it is allowed on the local cluster (ours, one node, nothing
	// else on it) and on another cluster only when asked for.
	NodeFaults bool
	// Progress reports waits; nil: silent.
	Progress func(string)
}

// DefaultVolumeRoot is where the local cluster (localk8s) keeps a tmpfs
// for volumes.
const DefaultVolumeRoot = "/var/lib/kmschaos-k8s/volumes"

// Driver runs clusters on one Kubernetes cluster.
type Driver struct {
	cfg Config
	rc  *rest.Config
	cs  kubernetes.Interface
	ns  string
	// hostRoot is VolumeRoot when the backend made hostPath volumes.
	hostRoot string
	// ours: the namespace is the run's (made by Provision, or found by
	// its label): only then does Terminate delete it.
	ours bool
	// noNodeFaults: the run's namespace records that it was brought up
	// without node faults (NodeFaultsAnnotation): it cordons no node.
	noNodeFaults bool

	// bg lives as long as the handle: port-forwards run in it.
	bg     context.Context
	stop   context.CancelFunc
	mu     sync.Mutex
	meshIP string
	// lastWords: per party, what it logged as it was last stopped.
	lastWords map[int]lastWords
	// fwd is the port-forward dialer to the mesh's pod, kept between
	// connections (dialMesh).
	fwd struct {
		sync.Mutex
		dialer httpstream.Dialer
	}
	// imageWait bounds the wait for nodes to list the images.
	imageWait time.Duration
}

// New connects to the cluster the kubeconfig names (with none named and
// none of client-go's own, the local cluster's) and checks that it
// answers.
func New(ctx context.Context, cfg Config) (*Driver, error) {
	if cfg.Kubeconfig == "" && !hasDefaultKubeconfig() {
		cfg.Kubeconfig = LocalKubeconfig()
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if cfg.Kubeconfig != "" {
		if _, err := os.Stat(cfg.Kubeconfig); err != nil {
			if cfg.Kubeconfig == LocalKubeconfig() {
				return nil, &InputError{Msg: "no cluster to run on: no $KUBECONFIG, no ~/.kube/config and no local cluster (start one with make k8s-up, or pass --kubeconfig)"}
			}
			return nil, &InputError{Msg: fmt.Sprintf("kubeconfig %s: %v", cfg.Kubeconfig, errors.Unwrap(err))}
		}
		rules.ExplicitPath = cfg.Kubeconfig
	}
	rc, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, &InputError{Msg: fmt.Sprintf("no usable kubeconfig (%v): pass --kubeconfig or set KUBECONFIG", oneLine(err))}
	}
	// client-go reports a port-forwarded connection a client closed
	// early (a health call timing out, a probe) through klog, to stderr:
	// noise in a CLI's output and the test logs, not an error of the run.
	klog.SetLogger(logr.Discard())
	rc.QPS, rc.Burst = 50, 100
	rc.Impersonate.UserName = cfg.As
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	vctx, cancel := context.WithTimeout(ctx, fixtures.Intervals.Kube.APICheck)
	defer cancel()
	// ServerVersion takes no context: the same request, bounded by vctx.
	if err := cs.Discovery().RESTClient().Get().AbsPath("/version").Do(vctx).Error(); err != nil {
		return nil, &InputError{Msg: fmt.Sprintf("the cluster at %s does not answer (%s): is it up (make k8s-up) and is the kubeconfig right?", rc.Host, oneLine(err))}
	}
	if cfg.VolumeRoot == "" {
		cfg.VolumeRoot = DefaultVolumeRoot
	}
	if cfg.Progress == nil {
		cfg.Progress = func(string) {}
	}
	bg, stop := context.WithCancel(context.Background())
	return &Driver{cfg: cfg, rc: rc, cs: cs, bg: bg, stop: stop, imageWait: fixtures.Intervals.Kube.ImagesListed}, nil
}

// InputError is a wrong kubeconfig, a namespace that is not ours, a
// missing permission or image: what the user must fix, in one line, as
// every backend says it.
type InputError = cluster.InputError

func oneLine(err error) string {
	if err == nil {
		return "timed out"
	}
	return strings.Join(strings.Fields(err.Error()), " ")
}

// VolumesSized is false where the backend made hostPath volumes, which
// share the node's filesystem.
func (d *Driver) VolumesSized() bool { return d.hostRoot == "" }

// local tells whether the driver acts on the local cluster (make k8s-up),
// named by --kubeconfig or by $KUBECONFIG.
func (d *Driver) local() bool {
	k := d.cfg.Kubeconfig
	if k == "" {
		k = os.Getenv("KUBECONFIG")
	}
	return k != "" && filepath.Clean(k) == LocalKubeconfig()
}

// Name is "kubernetes".
func (d *Driver) Name() string { return Name }

// Namespace is the run's namespace, once Provision or Attach chose it.
func (d *Driver) Namespace() string { return d.ns }

// Close stops the port-forwards of this handle; the cluster stays.
func (d *Driver) Close() { d.stop() }

// Provision creates the run's namespace, every party's claims (with
// hostPath volumes where the cluster has no provisioner) and the keeper.
func (d *Driver) Provision(ctx context.Context, s cluster.Spec) (cluster.Shell, error) {
	d.ns = d.cfg.Namespace
	if d.ns == "" {
		d.ns = "kmschaos-" + s.RunID
	}
	if err := d.checkImages(ctx, s.KeeperImage(), s.Images.Party, s.Images.Toxiproxy); err != nil {
		return nil, err
	}
	if err := d.createNamespace(ctx, s); err != nil {
		return nil, err
	}
	class, err := d.defaultStorageClass(ctx)
	if err != nil {
		return nil, err
	}
	if class == "" {
		d.hostRoot = d.cfg.VolumeRoot
	}
	for i := 1; i <= s.Topology.N; i++ {
		for _, v := range s.Volumes(i) {
			name := claimName(i, v.Kind)
			var sc *string
			if class == "" {
				sc = ptr("")
				if _, err := d.cs.CoreV1().PersistentVolumes().Create(ctx, volumeObject(s, d.ns, name, d.hostRoot, v.Size), metav1.CreateOptions{}); err != nil {
					return nil, d.explain(err, "creating the volume of "+name)
				}
			}
			if _, err := d.cs.CoreV1().PersistentVolumeClaims(d.ns).Create(ctx, claimObject(s, i, v, sc), metav1.CreateOptions{}); err != nil {
				return nil, d.explain(err, "creating claim "+name)
			}
		}
	}
	if _, err := d.cs.CoreV1().Pods(d.ns).Create(ctx, keeperObject(s, d.hostRoot), metav1.CreateOptions{}); err != nil {
		return nil, d.explain(err, "creating the keeper")
	}
	if err := d.awaitPod(ctx, keeperPod, false); err != nil {
		return nil, fmt.Errorf("the keeper: %w", err)
	}
	return d.keeper(), nil
}

func (d *Driver) keeper() *podShell {
	return &podShell{d: d, pod: keeperPod, container: "keeper", root: true, user: "0:0"}
}

func (d *Driver) createNamespace(ctx context.Context, s cluster.Spec) error {
	ns, err := d.cs.CoreV1().Namespaces().Get(ctx, d.ns, metav1.GetOptions{})
	switch {
	case err == nil && ns.Labels[ManagedBy] != managedByValue:
		return &InputError{Msg: fmt.Sprintf("namespace %s exists and is not a kmschaos run's: name another with --namespace", d.ns)}
	case err == nil:
		return &InputError{Msg: fmt.Sprintf("namespace %s holds run %s already: remove it with kmschaos down --backend kubernetes --run %s", d.ns, ns.Labels[cluster.LabelRun], ns.Labels[cluster.LabelRun])}
	case !apierrors.IsNotFound(err):
		return d.explain(err, "reading namespace "+d.ns)
	}
	allowed := d.nodeFaultsAllowed()
	obj := namespaceObject(s, d.ns)
	obj.Annotations[NodeFaultsAnnotation] = strconv.FormatBool(allowed)
	if _, err = d.cs.CoreV1().Namespaces().Create(ctx, obj, metav1.CreateOptions{}); err != nil {
		return d.explain(err, "creating namespace "+d.ns)
	}
	d.ours, d.noNodeFaults = true, !allowed
	return nil
}

// defaultStorageClass is the cluster's default StorageClass, "" if none.
func (d *Driver) defaultStorageClass(ctx context.Context) (string, error) {
	list, err := d.cs.StorageV1().StorageClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", d.explain(err, "listing storage classes")
	}
	for _, sc := range list.Items {
		if sc.Annotations["storageclass.kubernetes.io/is-default-class"] == "true" {
			return sc.Name, nil
		}
	}
	return "", nil
}

// checkImages fails, naming them, if an image is on no node: pods could
// only wait for it (they never pull: imagePullPolicy Never). A node lists
// an image it was just given at its next status update, so this waits for
// that first.
func (d *Driver) checkImages(ctx context.Context, refs ...string) error {
	var missing []string
	err := d.poll(ctx, d.imageWait, func(ctx context.Context) (bool, error) {
		nodes, err := d.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, d.explain(err, "listing nodes")
		}
		have := map[string]bool{}
		for _, n := range nodes.Items {
			for _, im := range n.Status.Images {
				for _, name := range im.Names {
					have[normalize(name)] = true
				}
			}
		}
		missing = missing[:0]
		for _, r := range refs {
			if r != "" && !have[normalize(r)] {
				missing = append(missing, r)
			}
		}
		return len(missing) == 0, nil
	})
	if len(missing) > 0 {
		return &InputError{Msg: fmt.Sprintf("image %s is on no node of the cluster: import it (kmschaos images --backend kubernetes, on the local cluster) or push it to a registry the nodes pull from", strings.Join(missing, ", "))}
	}
	return err
}

// normalize makes "kmschaos/party:x" and "docker.io/kmschaos/party:x" one.
func normalize(ref string) string {
	ref = strings.TrimPrefix(ref, "docker.io/")
	return strings.TrimPrefix(ref, "library/")
}

// explain turns a refusal of the API server into what to do: a missing
// permission is named.
func (d *Driver) explain(err error, what string) error {
	if err == nil {
		return nil
	}
	if apierrors.IsForbidden(err) {
		return &InputError{Msg: fmt.Sprintf("%s: forbidden (%s): grant it with the ClusterRole of cluster/kube/rbac.yaml (docs/kubernetes.md, \"Running on your own cluster\")", what, oneLine(err))}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// StartMesh starts toxiproxy as a Deployment behind a Service, and
// forwards its ports to this process.
func (d *Driver) StartMesh(ctx context.Context, s cluster.Spec) (cluster.MeshAccess, error) {
	dep, svc := meshObjects(s)
	if _, err := d.cs.AppsV1().Deployments(d.ns).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		return cluster.MeshAccess{}, d.explain(err, "creating the mesh")
	}
	if _, err := d.cs.CoreV1().Services(d.ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		return cluster.MeshAccess{}, d.explain(err, "creating the mesh's Service")
	}
	// kube-proxy programs a new Service within seconds: give it those
	// before settling for a port-forward.
	return d.connectMesh(ctx, s, fixtures.Intervals.Kube.ServiceRouted)
}

// connectMesh waits for toxiproxy's pod and finds how this process
// reaches it: at its Service's address where the host routes there (the
// local cluster), else through a port-forward.
func (d *Driver) connectMesh(ctx context.Context, s cluster.Spec, patience time.Duration) (cluster.MeshAccess, error) {
	if _, err := d.meshPod(ctx); err != nil {
		return cluster.MeshAccess{}, err
	}
	svc, err := d.cs.CoreV1().Services(d.ns).Get(ctx, meshName, metav1.GetOptions{})
	if err != nil {
		return cluster.MeshAccess{}, d.explain(err, "reading the mesh's Service")
	}
	ctl, _ := s.MeshPorts()
	ports := []int{ctl}
	for i := 1; i <= s.Topology.N; i++ {
		ports = append(ports, s.ClientProxyPort(i), s.MetricsProxyPort(i))
	}
	ip := svc.Spec.ClusterIP
	at := func(p int) string { return net.JoinHostPort(ip, strconv.Itoa(p)) }
	direct := false
	if !d.cfg.Forward {
		// Not reached within patience (at least one try) means a port-forward.
		_ = d.poll(ctx, patience, func(context.Context) (bool, error) {
			direct = reachable(at(ctl))
			return direct, nil
		})
		if ctx.Err() != nil {
			return cluster.MeshAccess{}, ctx.Err()
		}
	}
	if !direct {
		local, err := d.forward(d.bg, ports)
		if err != nil {
			return cluster.MeshAccess{}, err
		}
		at = func(p int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(local[p])) }
	}
	acc := cluster.MeshAccess{Network: "namespace " + d.ns, Control: at(ctl), PeerAddr: ip}
	for i := 1; i <= s.Topology.N; i++ {
		acc.Client = append(acc.Client, at(s.ClientProxyPort(i)))
		acc.Metrics = append(acc.Metrics, at(s.MetricsProxyPort(i)))
	}
	d.mu.Lock()
	d.meshIP = ip
	d.mu.Unlock()
	return acc, nil
}

// meshPod waits for the mesh's ready pod and returns its name.
func (d *Driver) meshPod(ctx context.Context) (string, error) {
	var name string
	err := d.poll(ctx, fixtures.Intervals.Kube.MeshReady, func(ctx context.Context) (bool, error) {
		pods, err := d.cs.CoreV1().Pods(d.ns).List(ctx, metav1.ListOptions{LabelSelector: cluster.LabelRole + "=toxiproxy"})
		if err != nil {
			return false, err
		}
		for _, p := range pods.Items {
			if p.DeletionTimestamp == nil && podReady(&p) {
				name = p.Name
				return true, nil
			}
			if p.Status.Reason == "SysctlForbidden" {
				return false, &InputError{Msg: fmt.Sprintf("the node refuses the mesh pod's sysctl %s (%s): allow it on the kubelets "+
					"(--allowed-unsafe-sysctls=%[1]s); without it a replaced party's links hang for two minutes", meshSynRetries.Name, p.Status.Message)}
			}
		}
		return false, nil
	})
	if err != nil {
		return "", fmt.Errorf("waiting for the mesh's pod: %w", err)
	}
	return name, nil
}

// StartParty installs (or upgrades) party i's release of the chart; a
// pod that runs is replaced so the new definition takes effect at once,
// even when the old pod never got ready.
func (d *Driver) StartParty(ctx context.Context, s cluster.Spec, i int, args []string, wait bool) (cluster.Workload, error) {
	d.mu.Lock()
	meshIP := d.meshIP
	d.mu.Unlock()
	_, err := d.cs.AppsV1().StatefulSets(d.ns).Get(ctx, statefulSetName(i), metav1.GetOptions{})
	existed := err == nil
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, d.explain(err, "reading party "+fmt.Sprint(i))
	}
	if err := d.installParty(ctx, s, i, args, meshIP); err != nil {
		return nil, err
	}
	if existed {
		if err := d.deletePod(ctx, partyPod(i), 0); err != nil {
			return nil, err
		}
	}
	w := d.party(s, i)
	if wait {
		if err := d.awaitPod(ctx, partyPod(i), true); err != nil {
			return w, fmt.Errorf("party %d: %w", i, err)
		}
	}
	return w, nil
}

// Reconnect finds the mesh and the parties of a running cluster.
func (d *Driver) Reconnect(ctx context.Context, s cluster.Spec) (cluster.MeshAccess, []cluster.Workload, error) {
	acc, err := d.connectMesh(ctx, s, 0)
	if err != nil {
		return acc, nil, err
	}
	var ws []cluster.Workload
	for i := 1; i <= s.Topology.N; i++ {
		if _, err := d.cs.AppsV1().StatefulSets(d.ns).Get(ctx, statefulSetName(i), metav1.GetOptions{}); err != nil {
			return acc, nil, d.explain(err, "finding party "+fmt.Sprint(i))
		}
		ws = append(ws, d.party(s, i))
	}
	return acc, ws, nil
}

// Terminate wipes the hostPath volumes through the keeper, then deletes
// the namespace (and with it every object in it) and the volumes, and
// waits until the namespace is gone.
func (d *Driver) Terminate(ctx context.Context) error {
	defer d.Close()
	if !d.ours {
		return nil // nothing made, or a namespace that is not the run's
	}
	var errs []error
	if _, err := d.Uncordon(ctx); err != nil {
		errs = append(errs, err)
	}
	if d.hostRoot != "" {
		// The keeper deletes the directories of the run's volumes, which
		// the API server would leave on the node (reclaim policy Retain).
		res, err := d.keeper().run(ctx, nil, "rm", "-rf", hostVolumesMount+"/"+d.ns)
		if err := res.Check(err, "wiping the run's volumes"); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	errs = append(errs, DeleteRun(ctx, d.cs, d.ns))
	return errors.Join(errs...)
}

// DeleteRun deletes a run's namespace and its volumes and waits for them
// to be gone.
func DeleteRun(ctx context.Context, cs kubernetes.Interface, ns string) error {
	err := cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting namespace %s: %w", ns, err)
	}
	pvs, err := cs.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{LabelSelector: ManagedBy + "=" + managedByValue})
	if err != nil {
		return err
	}
	for _, pv := range pvs.Items {
		if pv.Spec.ClaimRef != nil && pv.Spec.ClaimRef.Namespace == ns {
			if err := cs.CoreV1().PersistentVolumes().Delete(ctx, pv.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				return err
			}
		}
	}
	// The volumes go once their claims do (pv-protection), with the
	// namespace: both are waited for, so nothing of the run outlives it.
	return wait.PollUntilContextTimeout(ctx, fixtures.Intervals.Kube.Poll, fixtures.Intervals.Kube.NamespaceGone, true, func(ctx context.Context) (bool, error) {
		if _, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			return false, nil
		}
		pvs, err := cs.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{LabelSelector: ManagedBy + "=" + managedByValue})
		if err != nil {
			return false, nil //nolint:nilerr // a failed list is asked again at the next poll, until the timeout
		}
		for _, pv := range pvs.Items {
			if pv.Spec.ClaimRef != nil && pv.Spec.ClaimRef.Namespace == ns {
				return false, nil
			}
		}
		return true, nil
	})
}

func (d *Driver) deletePod(ctx context.Context, name string, grace int64) error {
	err := d.cs.CoreV1().Pods(d.ns).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &grace})
	if err != nil && !apierrors.IsNotFound(err) {
		return d.explain(err, "deleting pod "+name)
	}
	return nil
}

// awaitPod waits until a pod runs (and with ready, passes its readiness
// probe), failing early on what will not resolve by itself.
func (d *Driver) awaitPod(ctx context.Context, name string, ready bool) error {
	return d.poll(ctx, fixtures.Intervals.Kube.PodReady, func(ctx context.Context) (bool, error) {
		p, err := d.cs.CoreV1().Pods(d.ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		for _, cs := range p.Status.ContainerStatuses {
			if w := cs.State.Waiting; w != nil && (w.Reason == "ErrImageNeverPull" || w.Reason == "CreateContainerConfigError") {
				return false, fmt.Errorf("pod %s: %s: %s", name, w.Reason, w.Message)
			}
		}
		if p.Status.Phase != corev1.PodRunning {
			return false, nil
		}
		return !ready || podReady(p), nil
	})
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func (d *Driver) poll(ctx context.Context, within time.Duration, cond wait.ConditionWithContextFunc) error {
	return wait.PollUntilContextTimeout(ctx, fixtures.Intervals.Kube.Poll, within, true, cond)
}

// Runs lists the runs on the cluster: namespace by run id.
func Runs(ctx context.Context, cs kubernetes.Interface) (map[string]corev1.Namespace, error) {
	list, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: ManagedBy + "=" + managedByValue})
	if err != nil {
		return nil, err
	}
	out := map[string]corev1.Namespace{}
	for _, ns := range list.Items {
		if ns.DeletionTimestamp == nil {
			out[ns.Labels[cluster.LabelRun]] = ns
		}
	}
	return out, nil
}

// Runs lists the runs on the driver's cluster, by run id.
func (d *Driver) Runs(ctx context.Context) (map[string]corev1.Namespace, error) {
	runs, err := Runs(ctx, d.cs)
	return runs, d.explain(err, "listing runs")
}

// Attach returns a handle on run (or the only run) on the cluster.
func (d *Driver) Attach(ctx context.Context, run string) (*cluster.Cluster, error) {
	runs, err := Runs(ctx, d.cs)
	if err != nil {
		return nil, d.explain(err, "listing runs")
	}
	if run == "" {
		if len(runs) != 1 {
			return nil, &InputError{Msg: fmt.Sprintf("%d kmschaos runs on the cluster: name one with --run", len(runs))}
		}
		for r := range runs {
			run = r
		}
	}
	ns, ok := runs[run]
	if !ok {
		return nil, &InputError{Msg: fmt.Sprintf("no run %s on the cluster", run)}
	}
	d.take(ctx, ns)
	return cluster.AttachOn(ctx, d, run, d.keeper())
}

// OperatorCommand is the kubectl command line for verb on a pod.
func (d *Driver) OperatorCommand(pod, verb, args string) string {
	cmd := fmt.Sprintf("kubectl --namespace %s %s %s", d.ns, verb, pod)
	if args != "" {
		cmd += " -- " + args
	}
	return cmd
}

// RemoveRun removes run (kmschaos down): its volumes' contents through
// its keeper when it still runs, then its namespace and volumes. It
// returns the namespace.
func (d *Driver) RemoveRun(ctx context.Context, run string) (string, error) {
	runs, err := Runs(ctx, d.cs)
	if err != nil {
		return "", d.explain(err, "listing runs")
	}
	ns, ok := runs[run]
	if !ok {
		return "", &InputError{Msg: fmt.Sprintf("no run %s on the cluster (see kmschaos ls --backend kubernetes)", run)}
	}
	d.take(ctx, ns)
	return d.ns, d.Terminate(ctx)
}

// take makes the run in namespace ns the driver's, as its namespace
// records it.
func (d *Driver) take(ctx context.Context, ns corev1.Namespace) {
	d.ns, d.ours = ns.Name, true
	d.noNodeFaults = ns.Annotations[NodeFaultsAnnotation] == "false"
	d.hostRoot = d.hostRootOf(ctx)
}

// Sweep removes the runs whose creating process is gone (a killed run),
// or with all every run, and returns their ids.
func (d *Driver) Sweep(ctx context.Context, all bool) ([]string, error) {
	runs, err := Runs(ctx, d.cs)
	if err != nil {
		return nil, d.explain(err, "listing runs")
	}
	var gone []string
	var errs []error
	for run, ns := range runs {
		if !all && cluster.OwnerAlive(ns.Annotations[OwnerAnnotation]) {
			continue
		}
		if _, err := d.RemoveRun(ctx, run); err != nil {
			errs = append(errs, fmt.Errorf("run %s: %w", run, err))
			continue
		}
		gone = append(gone, run)
	}
	// A node a run cordoned stays cordoned after its namespace is gone
	// (a run killed while tearing down): uncordon those of the runs swept
	// and of runs that are no more.
	live := map[string]bool{}
	for run, ns := range runs {
		live[ns.Name] = !slices.Contains(gone, run)
	}
	nodes, err := cordonedBy(ctx, d.cs, func(ns string) bool { return !live[ns] })
	if err != nil {
		errs = append(errs, d.explain(err, "listing the nodes, to uncordon those of runs that are gone"))
	} else if _, err := d.uncordon(ctx, nodes); err != nil {
		errs = append(errs, err)
	}
	return gone, errors.Join(errs...)
}

// hostRootOf is the hostPath root the keeper mounts, "" if none.
func (d *Driver) hostRootOf(ctx context.Context) string {
	p, err := d.cs.CoreV1().Pods(d.ns).Get(ctx, keeperPod, metav1.GetOptions{})
	if err != nil {
		return ""
	}
	for _, v := range p.Spec.Volumes {
		if v.Name == "host-volumes" && v.HostPath != nil {
			return filepath.Clean(v.HostPath.Path)
		}
	}
	return ""
}
