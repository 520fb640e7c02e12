package kube

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/fixtures"
)

// CordonAnnotation marks a node a run cordoned, with the run's namespace:
// only such a node is uncordoned by the run's heal, Reset, teardown or a
// later sweep. A node cordoned by anyone else is left as it is.
const CordonAnnotation = "kmschaos.org/cordoned-by"

// NodeFaultsAnnotation records on a run's namespace whether the run may
// cordon a node ("true", "false"), as decided when it was brought up. A
// run that may not has no node to find: its audit, Reset and teardown
// need not list the nodes. Any other run must, and a refusal to list
// them is an error naming it, never "none cordoned": the permission may
// have been revoked since, or the fault run by another identity.
const NodeFaultsAnnotation = "kmschaos.org/node-faults"

// nodeFaultsAllowed tells whether this handle may cordon a node: on the
// local cluster (ours, one node, nothing else on it), elsewhere only when
// asked for.
func (d *Driver) nodeFaultsAllowed() bool { return d.cfg.NodeFaults || d.local() }

// Evict cordons the node party i's pod runs on and evicts the pod through
// the Eviction API (what kubectl drain does, for one pod): the
// StatefulSet's new pod finds no node to take it and stays Pending.
func (d *Driver) Evict(ctx context.Context, i int) (string, error) {
	if !d.nodeFaultsAllowed() {
		return "", &cluster.Unsupported{Backend: Name, Verb: "cordoning a node",
			Why: "it stops scheduling for every workload on the node, not the run's alone; allow it on a cluster of your own with --node-faults"}
	}
	if d.noNodeFaults {
		return "", &InputError{Msg: fmt.Sprintf("namespace %s records a run brought up without node faults, which its audit and teardown rely on: bring the run up with --node-faults", d.ns)}
	}
	pod, err := d.cs.CoreV1().Pods(d.ns).Get(ctx, partyPod(i), metav1.GetOptions{})
	if err != nil {
		return "", d.explain(err, "reading party "+strconv.Itoa(i)+"'s pod")
	}
	node := pod.Spec.NodeName
	if node == "" {
		return "", fmt.Errorf("party %d's pod is on no node (%s)", i, pod.Status.Phase)
	}
	n, err := d.cs.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
	if apierrors.IsForbidden(err) {
		why := fmt.Sprintf("reading node %s is forbidden (%s): bind the kmschaos-node-faults ClusterRole of cluster/kube/rbac.yaml", node, oneLine(err))
		if d.cfg.NodeFaults {
			return node, &InputError{Msg: "--node-faults: " + why} // asked for: not a skip
		}
		return node, &cluster.Unsupported{Backend: Name, Verb: "cordoning a node", Why: why}
	}
	if err != nil {
		return node, d.explain(err, "reading node "+node)
	}
	if n.Spec.Unschedulable && n.Annotations[CordonAnnotation] != d.ns {
		return node, fmt.Errorf("node %s is cordoned already, and not by this run: leaving it as it is", node)
	}
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}},"spec":{"unschedulable":true}}`, CordonAnnotation, d.ns)
	if _, err := d.cs.CoreV1().Nodes().Patch(ctx, node, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		return node, d.explain(err, "cordoning node "+node)
	}
	ev := &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: d.ns}}
	if err := d.cs.CoreV1().Pods(d.ns).EvictV1(ctx, ev); err != nil {
		return node, d.explain(err, "evicting party "+strconv.Itoa(i)+"'s pod")
	}
	// The fault is in place once the evicted pod is gone: until then it
	// still serves through its graceful termination, and the operations
	// it answers would be counted as a party down answering (seen at
	// n=13: two decryptions through it after the eviction was accepted).
	err = d.poll(ctx, fixtures.Intervals.Kube.PodReady, func(ctx context.Context) (bool, error) {
		p, err := d.cs.CoreV1().Pods(d.ns).Get(ctx, pod.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return err == nil && p.UID != pod.UID, err
	})
	if err != nil {
		return node, fmt.Errorf("party %d's evicted pod is not gone: %w", i, err)
	}
	return node, nil
}

// Cordoned lists the nodes the run cordoned that are cordoned still (an
// operator's kubectl uncordon leaves the run's mark on the node; the
// run's heal removes it).
func (d *Driver) Cordoned(ctx context.Context) ([]string, error) {
	nodes, err := d.runNodes(ctx)
	var out []string
	for _, n := range nodes {
		if n.Spec.Unschedulable {
			out = append(out, n.Name)
		}
	}
	return out, err
}

// Uncordon makes every node the run cordoned schedulable again, and
// removes the run's mark from it.
func (d *Driver) Uncordon(ctx context.Context) ([]string, error) {
	nodes, err := d.runNodes(ctx)
	if err != nil {
		return nil, err
	}
	return d.uncordon(ctx, nodes)
}

// runNodes lists the nodes marked as the run's. Listing them may be
// forbidden only to a run brought up without node faults
// (NodeFaultsAnnotation), which has none.
func (d *Driver) runNodes(ctx context.Context) ([]corev1.Node, error) {
	nodes, err := cordonedBy(ctx, d.cs, func(ns string) bool { return ns == d.ns })
	if apierrors.IsForbidden(err) && d.noNodeFaults {
		return nil, nil
	}
	return nodes, d.explain(err, "listing the nodes, to find those the run cordoned")
}

// cordonedBy lists the nodes marked as cordoned by a run whose namespace is
// picked.
func cordonedBy(ctx context.Context, cs kubernetes.Interface, picked func(ns string) bool) ([]corev1.Node, error) {
	list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	var out []corev1.Node
	for _, n := range list.Items {
		if ns, ok := n.Annotations[CordonAnnotation]; ok && picked(ns) {
			out = append(out, n)
		}
	}
	return out, nil
}

// uncordon makes nodes schedulable again and removes the run's mark.
func (d *Driver) uncordon(ctx context.Context, nodes []corev1.Node) ([]string, error) {
	var errs []error
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:null}},"spec":{"unschedulable":false}}`, CordonAnnotation)
	for _, n := range nodes {
		if _, err := d.cs.CoreV1().Nodes().Patch(ctx, n.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("uncordoning node %s: %w", n.Name, err))
		}
	}
	return names(nodes), errors.Join(errs...)
}

func names(nodes []corev1.Node) []string {
	var out []string
	for _, n := range nodes {
		out = append(out, n.Name)
	}
	return out
}
