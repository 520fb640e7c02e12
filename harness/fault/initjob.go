package fault

import (
	"context"
	"fmt"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
)

// InitJobName is the chart's PRSS init Job of party k's release, as the
// real chart names it (kmsInitJobName: <release>-threshold-init).
func InitJobName(k int) string { return cluster.ReleaseName(k) + "-threshold-init" }

// InitJob is an operator running the operations pages' PRSS
// initialisation on party k's release (zama-ai/kms
// docs/operations/production-deployment.md, Step 2: Initialize PRSS):
// helm upgrade of the release from the chart's folder with
// --set kmsInit.enabled=true --wait, bounded by timeout (the pages give
// none: helm's default is 5 minutes). The chart's post-upgrade hook Job
// runs; helm returns when it completed, failed or the timeout passed,
// and its exit is not judged here: the scenario's probes read what an
// operator has afterwards (helm history, the Job, its logs). The heal
// deletes the Job and turns kmsInit off again. Kubernetes only: on
// another backend helm is unsupported and the scenario skipped.
func InitJob(k int, timeout time.Duration) Fault {
	release := cluster.ReleaseName(k)
	f := New(fmt.Sprintf("the pages' PRSS init Job run on party %d's release (helm upgrade --set kmsInit.enabled=true --wait --timeout %s)", k, timeout),
		PRSS, []int{k}, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
			// helm's exit and message are not judged: helm history keeps
			// them, and the probes read it.
			if _, err := c.Operate(ctx, "helm", "upgrade", release, ".", "--reuse-values",
				"--set", "kmsInit.enabled=true", "--wait", "--timeout", timeout.String()); err != nil {
				return nil, err
			}
			return func(ctx context.Context) error { return DisableInitJob(context.WithoutCancel(ctx), c, k) }, nil
		})
	return requiring{f, func(c *cluster.Cluster) error { return c.OperateUnsupported("helm") }}
}

// DisableInitJob deletes party k's init Job and turns kmsInit off in its
// release's values, so that no later upgrade of the release runs it.
func DisableInitJob(ctx context.Context, c *cluster.Cluster, k int) error {
	res, err := c.Operate(ctx, "kubectl", "delete", "job", InitJobName(k), "--ignore-not-found", "--wait=true")
	if err := res.Check(err, "kubectl delete job "+InitJobName(k)); err != nil {
		return err
	}
	res, err = c.Operate(ctx, "helm", "upgrade", cluster.ReleaseName(k), ".", "--reuse-values", "--set", "kmsInit.enabled=false")
	return res.Check(err, "helm upgrade --set kmsInit.enabled=false")
}

// RemoveEverywhere removes one stored object of every party at once and
// restarts them: for the PRSS epoch, a cluster that was never
// initialised, the state the pages' init step starts from. The heal puts
// every party's bytes back.
func RemoveEverywhere(n int, o Object) Fault {
	removes := make([]Fault, n)
	for i := range removes {
		removes[i] = Remove(i+1, o)
	}
	all := AtOnce(removes...)
	return New(fmt.Sprintf("%s removed from every party", o), all.Kind(), all.Parties(), all.Inject)
}
