package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/fixtures"
)

// partyWorkload is party i as Kubernetes runs it: the one pod of its
// StatefulSet. The StatefulSet's replicas say whether it should run
// (Stop and Kill scale it to zero, Start to one); Restart deletes the pod,
// which the StatefulSet replaces, as `kubectl delete pod` does.
type partyWorkload struct {
	podShell
	i    int
	base cluster.Resources // the party's baseline limits
}

func (d *Driver) party(s cluster.Spec, i int) *partyWorkload {
	return &partyWorkload{podShell: podShell{d: d, pod: partyPod(i), container: partyContainer, user: s.Profile.User}, i: i, base: s.Baseline(i)}
}

// exitAnnotation records, on a party's StatefulSet scaled to zero, the
// exit status the kubelet reported for its container as Stop ended it:
// the pod, which held it, is deleted, and State reports it as the Docker
// backend reports a stopped container's. A stop whose end the kubelet
// did not report (a pod deleted with no grace is gone from the API before
// the kubelet ends its container) records none: its exit is unknown.
const exitAnnotation = "kmschaos.org/exit-code"

// scale sets the party's replicas, and forgets the last exit status.
func (p *partyWorkload) scale(ctx context.Context, n int32) error {
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:null}},"spec":{"replicas":%d}}`, exitAnnotation, n)
	_, err := p.d.cs.AppsV1().StatefulSets(p.d.ns).Patch(ctx, statefulSetName(p.i), types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	return p.d.explain(err, fmt.Sprintf("scaling party %d to %d", p.i, n))
}

func (p *partyWorkload) Start(ctx context.Context) error { return p.scale(ctx, 1) }

// Stop scales the party to zero and deletes its pod with grace: SIGTERM,
// then SIGKILL after grace. It returns once the pod is gone, and records
// the exit status the kubelet reported for its container on the way, if
// it reported one (State reads it).
func (p *partyWorkload) Stop(ctx context.Context, grace time.Duration) error {
	if err := p.scale(ctx, 0); err != nil {
		return err
	}
	w, err := p.d.cs.CoreV1().Pods(p.d.ns).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + p.pod})
	if err != nil {
		return p.d.explain(err, "watching party "+strconv.Itoa(p.i))
	}
	defer w.Stop()
	if _, err := p.d.cs.CoreV1().Pods(p.d.ns).Get(ctx, p.pod, metav1.GetOptions{}); apierrors.IsNotFound(err) {
		return nil // stopped already: nothing to end, no new exit status
	}
	keep := p.keepLastWords(ctx)
	if err := p.d.deletePod(ctx, p.pod, int64(grace/time.Second)); err != nil {
		keep(false)
		return err
	}
	defer keep(true)
	exit := -1 // none seen
	deadline := time.After(grace + fixtures.Intervals.Kube.PodGone)
	for {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				// The watch ended early: wait for the pod by polling.
				if err := p.awaitGone(ctx); err != nil {
					return err
				}
				return p.annotateExit(ctx, exit)
			}
			pod, isPod := ev.Object.(*corev1.Pod)
			if !isPod {
				continue
			}
			for _, cs := range pod.Status.ContainerStatuses {
				if code, ok := exitOf(cs.State.Terminated); cs.Name == partyContainer && ok {
					exit = code
				}
			}
			if ev.Type == watch.Deleted {
				return p.annotateExit(ctx, exit)
			}
		case <-deadline:
			return fmt.Errorf("party %d's pod is still there %s after its deletion", p.i, grace+fixtures.Intervals.Kube.PodGone)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// exitOf is the exit status the kubelet reported in t, ok false if it
// reported none: a container it could not find as the pod was deleted
// it reports as 137, "ContainerStatusUnknown", which is no exit status.
func exitOf(t *corev1.ContainerStateTerminated) (code int, ok bool) {
	if t == nil || t.Reason == "ContainerStatusUnknown" {
		return 0, false
	}
	return int(t.ExitCode), true
}

func (p *partyWorkload) annotateExit(ctx context.Context, code int) error {
	if code < 0 {
		return nil
	}
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, exitAnnotation, strconv.Itoa(code))
	_, err := p.d.cs.AppsV1().StatefulSets(p.d.ns).Patch(ctx, statefulSetName(p.i), types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	return p.d.explain(err, "recording party "+strconv.Itoa(p.i)+"'s exit")
}

func (p *partyWorkload) awaitGone(ctx context.Context) error {
	return p.d.poll(ctx, fixtures.Intervals.Kube.PodGone, func(ctx context.Context) (bool, error) {
		_, err := p.d.cs.CoreV1().Pods(p.d.ns).Get(ctx, p.pod, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
}

// Restart deletes the pod with grace; the StatefulSet starts a new one.
// It returns once the new pod runs.
func (p *partyWorkload) Restart(ctx context.Context, grace time.Duration) error {
	old, err := p.d.cs.CoreV1().Pods(p.d.ns).Get(ctx, p.pod, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if err := p.scale(ctx, 1); err != nil {
		return err
	}
	if err := p.d.deletePod(ctx, p.pod, int64(grace/time.Second)); err != nil {
		return err
	}
	err = p.d.poll(ctx, fixtures.Intervals.Kube.PodReplaced, func(ctx context.Context) (bool, error) {
		cur, err := p.d.cs.CoreV1().Pods(p.d.ns).Get(ctx, p.pod, metav1.GetOptions{})
		if err != nil {
			return false, nil //nolint:nilerr // the pod may not exist yet: asked again at the next poll
		}
		return (old == nil || cur.UID != old.UID) && cur.Status.Phase == corev1.PodRunning, nil
	})
	if err != nil {
		return err
	}
	// A new pod takes a second or two more than a restarted container to
	// serve (a new sandbox, a new address in the Service): wait until it
	// passes its readiness probe, as a restarted container on Docker
	// serves when its restart returns. A party that ends instead (a bad
	// config) is restarted all the same; what it does next is the
	// scenario's to see.
	served := p.d.poll(ctx, fixtures.Intervals.Kube.PodServing, func(ctx context.Context) (bool, error) {
		cur, err := p.d.cs.CoreV1().Pods(p.d.ns).Get(ctx, p.pod, metav1.GetOptions{})
		if err != nil {
			return false, nil //nolint:nilerr // the pod may not exist yet: asked again at the next poll
		}
		return podReady(cur) || ended(cur), nil
	})
	if served != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}

// ended tells whether the party's container in pod has ended, now or
// before (it then restarts, or waits out a crash-loop back-off).
func ended(pod *corev1.Pod) bool {
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name == partyContainer && (cs.State.Terminated != nil || cs.LastTerminationState.Terminated != nil) {
			return true
		}
	}
	return false
}

// Kill ends the party at once and keeps it down (scale to zero, delete
// with no grace): the pod is not replaced.
func (p *partyWorkload) Kill(ctx context.Context) error { return p.Stop(ctx, 0) }

func (p *partyWorkload) Pause(context.Context) error {
	return &cluster.Unsupported{Backend: Name, Verb: "pausing a party", Why: "Kubernetes has no verb that freezes a pod's processes"}
}

func (p *partyWorkload) Resume(context.Context) error {
	return &cluster.Unsupported{Backend: Name, Verb: "resuming a party", Why: "Kubernetes has no verb that freezes a pod's processes"}
}

// Update changes the party's limits; a zero field stays as it is, as with
// docker update. A party that runs is resized in place (the pod's resize
// subresource: no restart), and Update returns once the kubelet applied
// it. Its StatefulSet's template keeps the limits a new pod starts with,
// as kubectl's resize leaves it; the template takes the new limits when
// they are the baseline's (a heal, a Reset), which replaces the pod only
// if the template had others. A party that does not run (stopped,
// crash-looping) gets the limits in its template and a new pod: a rollout.
func (p *partyWorkload) Update(ctx context.Context, r cluster.Resources) error {
	pod, err := p.d.cs.CoreV1().Pods(p.d.ns).Get(ctx, p.pod, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return p.d.explain(err, "reading party "+strconv.Itoa(p.i))
	}
	exists, running := err == nil, false
	var now cluster.Resources
	if exists {
		now = limitsIn(pod.Spec)
		for _, cs := range pod.Status.ContainerStatuses {
			running = running || (cs.Name == partyContainer && cs.State.Running != nil)
		}
	}
	sts, err := p.d.cs.AppsV1().StatefulSets(p.d.ns).Get(ctx, statefulSetName(p.i), metav1.GetOptions{})
	if err != nil {
		return p.d.explain(err, "reading party "+strconv.Itoa(p.i))
	}
	tmpl := limitsIn(sts.Spec.Template.Spec)
	if !running {
		if err := p.patchTemplate(ctx, r.Over(tmpl)); err != nil {
			return err
		}
		if exists {
			return p.d.deletePod(ctx, p.pod, 0)
		}
		return nil
	}
	want := r.Over(now)
	if want != now {
		if err := p.resize(ctx, want); err != nil {
			return err
		}
	}
	if want == p.base && tmpl != want {
		return p.patchTemplate(ctx, want)
	}
	return nil
}

// requirements are the party container's resources for limits r, as the
// chart sets them (cluster/kube/helm.go): small requests, at most the
// limits.
func requirements(r cluster.Resources) map[string]any {
	limits, requests := map[string]string{}, map[string]string{}
	if r.Memory > 0 {
		limits["memory"] = strconv.FormatInt(r.Memory, 10)
		requests["memory"] = strconv.FormatInt(min(r.Memory, partyMemoryRequest), 10)
	}
	if r.NanoCPUs > 0 {
		limits["cpu"] = strconv.FormatInt(r.NanoCPUs/1e6, 10) + "m"
		requests["cpu"] = strconv.FormatInt(min(r.NanoCPUs/1e6, partyCPURequestMilli), 10) + "m"
	}
	return map[string]any{"limits": limits, "requests": requests}
}

func (p *partyWorkload) containerPatch(r cluster.Resources) []byte {
	b, _ := json.Marshal(map[string]any{"name": partyContainer, "resources": requirements(r)})
	return b
}

// resize changes the running pod's limits in place and waits until the
// kubelet reports them applied; a resize it defers or finds infeasible
// is an error naming its reason.
func (p *partyWorkload) resize(ctx context.Context, r cluster.Resources) error {
	patch := fmt.Sprintf(`{"spec":{"containers":[%s]}}`, p.containerPatch(r))
	_, err := p.d.cs.CoreV1().Pods(p.d.ns).Patch(ctx, p.pod, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}, "resize")
	if err != nil {
		return p.d.explain(err, "resizing party "+strconv.Itoa(p.i))
	}
	var last string
	err = p.d.poll(ctx, fixtures.Intervals.Kube.PodResized, func(ctx context.Context) (bool, error) {
		pod, err := p.d.cs.CoreV1().Pods(p.d.ns).Get(ctx, p.pod, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, c := range pod.Status.Conditions {
			if c.Type == corev1.PodResizePending && c.Status == corev1.ConditionTrue {
				last = c.Reason + ": " + c.Message
				if c.Reason == corev1.PodReasonInfeasible {
					return false, fmt.Errorf("the kubelet refuses the resize: %s", last)
				}
			}
		}
		for _, cs := range pod.Status.ContainerStatuses {
			if cs.Name == partyContainer && cs.Resources != nil {
				return limitsOf(*cs.Resources) == r, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("resizing party %d to %+v: %w (%s)", p.i, r, err, last)
	}
	return nil
}

// patchTemplate sets the limits in the party's StatefulSet's template:
// the pod the StatefulSet makes next has them.
func (p *partyWorkload) patchTemplate(ctx context.Context, r cluster.Resources) error {
	patch := fmt.Sprintf(`{"spec":{"template":{"spec":{"containers":[%s]}}}}`, p.containerPatch(r))
	_, err := p.d.cs.AppsV1().StatefulSets(p.d.ns).Patch(ctx, statefulSetName(p.i), types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{})
	return p.d.explain(err, "changing party "+strconv.Itoa(p.i)+"'s limits")
}

// lastWords is what a stopped party's container logged as it ended.
type lastWords struct {
	from time.Time
	text string
}

// keepLastWords follows the pod's log from now until its container ends,
// and returns the function that waits for that end (or, with wait false,
// does not) and keeps what was logged: Stop deletes the pod, and its log
// with it, where a Docker container stopped keeps its own. A cluster's
// log shipping keeps it on a real cluster; the backend keeps the last
// stop's, per party.
func (p *partyWorkload) keepLastWords(ctx context.Context) func(wait bool) {
	from := metav1.Now()
	rc, err := p.d.cs.CoreV1().Pods(p.d.ns).GetLogs(p.pod, &corev1.PodLogOptions{Container: partyContainer, Follow: true, SinceTime: &from}).Stream(ctx)
	if err != nil {
		return func(bool) {}
	}
	var text strings.Builder
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(&text, rc)
		close(done)
	}()
	return func(wait bool) {
		if wait {
			select {
			case <-done:
			case <-time.After(fixtures.Intervals.Kube.PodGone):
			}
		}
		rc.Close()
		<-done
		p.d.mu.Lock()
		defer p.d.mu.Unlock()
		if p.d.lastWords == nil {
			p.d.lastWords = map[int]lastWords{}
		}
		p.d.lastWords[p.i] = lastWords{from: from.Time, text: text.String()}
	}
}

// LogsSince reads the pod's log (and its previous container's, across a
// restart) from t on, after what the party logged as it was last stopped
// (Stop) if that was after t: a deleted pod's log is gone.
func (p *partyWorkload) LogsSince(ctx context.Context, t time.Time) (string, error) {
	var out strings.Builder
	p.d.mu.Lock()
	if last, ok := p.d.lastWords[p.i]; ok && !last.from.Before(t.Truncate(time.Second)) {
		out.WriteString(last.text)
	}
	p.d.mu.Unlock()
	for _, previous := range []bool{true, false} {
		o := &corev1.PodLogOptions{Container: partyContainer, Previous: previous}
		if !t.IsZero() {
			o.SinceTime = &metav1.Time{Time: t}
		}
		rc, err := p.d.cs.CoreV1().Pods(p.d.ns).GetLogs(p.pod, o).Stream(ctx)
		if err != nil {
			if previous || apierrors.IsNotFound(err) {
				continue // no previous container, or no pod
			}
			return out.String(), err
		}
		_, err = io.Copy(&out, rc)
		rc.Close()
		if err != nil {
			return out.String(), err
		}
	}
	return out.String(), nil
}

// State maps the pod's status to the backend-neutral State: no pod is an
// exited party, whose exit status is known if Stop saw the kubelet
// report it.
func (p *partyWorkload) State(ctx context.Context) (cluster.State, error) {
	pod, err := p.d.cs.CoreV1().Pods(p.d.ns).Get(ctx, p.pod, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		// No pod: the party's definition is its StatefulSet's template,
		// as a stopped container keeps its own.
		st := cluster.State{Status: "exited"}
		sts, err := p.d.cs.AppsV1().StatefulSets(p.d.ns).Get(ctx, statefulSetName(p.i), metav1.GetOptions{})
		if err != nil {
			return st, err
		}
		if code, err := strconv.Atoi(sts.Annotations[exitAnnotation]); err == nil {
			st.ExitCode, st.ExitKnown = code, true
		}
		definition(&st, sts.Spec.Template.Spec)
		return st, nil
	}
	if err != nil {
		return cluster.State{}, err
	}
	st := cluster.State{Status: "created"}
	definition(&st, pod.Spec)
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name != partyContainer {
			continue
		}
		st.RestartCount = int(cs.RestartCount)
		end := cs.LastTerminationState.Terminated
		if cs.State.Terminated != nil {
			end = cs.State.Terminated // its current end, newer than the last
		}
		st.ExitCode, st.ExitKnown = exitOf(end)
		st.OOMKilled = end != nil && end.Reason == "OOMKilled"
		switch {
		case cs.State.Running != nil:
			st.Status, st.Running, st.StartedAt = "running", true, cs.State.Running.StartedAt.Time
		case cs.State.Waiting != nil && cs.State.Waiting.Reason == "CrashLoopBackOff":
			st.Status, st.Restarting = "restarting", true
		case cs.State.Terminated != nil:
			st.Status = "exited"
		}
	}
	return st, nil
}

// definition reads the party's arguments and limits from a pod spec.
func definition(st *cluster.State, spec corev1.PodSpec) {
	for _, c := range spec.Containers {
		if c.Name == partyContainer {
			st.Cmd = c.Args
			l := limitsOf(c.Resources)
			st.Memory, st.NanoCPUs = l.Memory, l.NanoCPUs
		}
	}
}

// limitsIn is the party container's limits in a pod spec.
func limitsIn(spec corev1.PodSpec) cluster.Resources {
	for _, c := range spec.Containers {
		if c.Name == partyContainer {
			return limitsOf(c.Resources)
		}
	}
	return cluster.Resources{}
}

// limitsOf reads limits as the cluster counts them (bytes, nano-CPUs).
func limitsOf(rr corev1.ResourceRequirements) cluster.Resources {
	var r cluster.Resources
	if m, ok := rr.Limits[corev1.ResourceMemory]; ok {
		r.Memory = m.Value()
	}
	if c, ok := rr.Limits[corev1.ResourceCPU]; ok {
		r.NanoCPUs = c.MilliValue() * 1e6
	}
	return r
}

func (p *partyWorkload) Memory(context.Context) (uint64, uint64, error) {
	return 0, 0, &cluster.Unsupported{Backend: Name, Verb: "reading a party's memory", Why: "needs the metrics API (metrics-server)"}
}

// Address is the pod's IP.
func (p *partyWorkload) Address(ctx context.Context) (string, error) {
	pod, err := p.d.cs.CoreV1().Pods(p.d.ns).Get(ctx, p.pod, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	if pod.Status.PodIP == "" {
		return "", fmt.Errorf("pod %s has no IP", p.pod)
	}
	return pod.Status.PodIP, nil
}

// Remove deletes the party's pod and keeps it from coming back; its
// claims stay. StartParty brings it back.
func (p *partyWorkload) Remove(ctx context.Context) error { return p.Stop(ctx, 0) }
