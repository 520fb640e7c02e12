package kube_test

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/cluster/kube"
	"github.com/kmschaos/kmschaos/fixtures"
	"github.com/kmschaos/kmschaos/harness/oracle"
	"github.com/kmschaos/kmschaos/internal/benchsize"
	"github.com/kmschaos/kmschaos/internal/clusterbench"
)

// BenchmarkKubernetesCluster is docker.BenchmarkCluster's lifecycle on
// the Kubernetes backend, with the same metric names, so the two read
// side by side (make bench-k8s): bring-up and its phases, decryption
// latency through the mesh, memory as the kubelet counts it (working
// set), Reset and the audit of a clean cluster, Reset of a used one,
// teardown.
func BenchmarkKubernetesCluster(b *testing.B) {
	kubeconfig := onCluster(b)
	sizes, err := benchsize.Sizes()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	im := images(b, ctx)
	for _, sz := range sizes {
		b.Run(sz.Name(), func(b *testing.B) {
			for b.Loop() {
				lifecycle(b, kubeconfig, sz.N, sz.T, im)
			}
		})
	}
}

func lifecycle(b *testing.B, kubeconfig string, n, t int, im cluster.Images) {
	b.Helper()
	ctx := context.Background()
	c, err := kube.Start(ctx, kube.Config{Kubeconfig: kubeconfig}, im, cluster.WithTopology(n, t), cluster.WithKeptImages())
	if err != nil {
		b.Fatal(err)
	}
	terminated := false
	defer func() {
		if !terminated {
			_ = c.Terminate(context.Background())
		}
	}()
	clusterbench.BringUp(b, c)

	var lat []time.Duration
	for range 50 {
		r, err := oracle.Decrypt(ctx, c, oracle.Request{Party: 1, By: "bench", Mode: oracle.Sync})
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, r.Took)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "decrypt-p50-ms")
	b.ReportMetric(float64(lat[len(lat)*9/10].Microseconds())/1000, "decrypt-p90-ms")

	total, party, mesh := workingSets(b, kubeconfig, "kmschaos-"+c.RunID, n+2)
	clusterbench.Memory(b, total, party, mesh)

	clusterbench.ResetAndAudit(ctx, b, c)
	start := time.Now()
	terminated = true
	if err := c.Terminate(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(time.Since(start).Seconds(), "teardown-s")
}

// workingSets reads the run's pods' memory from the kubelet's summary
// (what `kubectl top` shows, without metrics-server): the whole run, the
// largest party, the mesh. The kubelet lists a new pod's memory some
// seconds after it starts: it waits until every pod of the run (n
// parties, the mesh, the keeper) has a figure, rather than report zero.
func workingSets(b *testing.B, kubeconfig, ns string, pods int) (total, party, mesh uint64) {
	b.Helper()
	rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		b.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		b.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(context.Background(), fixtures.Intervals.Kube.Poll, fixtures.Intervals.Kube.PodReady, true, func(ctx context.Context) (bool, error) {
		total, party, mesh = 0, 0, 0
		seen := 0
		nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, node := range nodes.Items {
			raw, err := cs.CoreV1().RESTClient().Get().Resource("nodes").Name(node.Name).SubResource("proxy", "stats", "summary").DoRaw(ctx)
			if err != nil {
				return false, err
			}
			var sum struct {
				Pods []struct {
					PodRef struct{ Name, Namespace string }
					Memory struct {
						WorkingSetBytes uint64
					}
				}
			}
			if err := json.Unmarshal(raw, &sum); err != nil {
				return false, err
			}
			for _, p := range sum.Pods {
				ws := p.Memory.WorkingSetBytes
				if p.PodRef.Namespace != ns || ws == 0 {
					continue
				}
				seen++
				total += ws
				switch {
				case strings.HasPrefix(p.PodRef.Name, "toxiproxy"):
					mesh = ws
				case strings.HasPrefix(p.PodRef.Name, "kms-threshold-"):
					party = max(party, ws)
				}
			}
		}
		return seen >= pods, nil
	})
	if err != nil {
		b.Fatalf("the kubelet's memory figures for the %d pods of %s: %v", pods, ns, err)
	}
	return total, party, mesh
}
