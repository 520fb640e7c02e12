package kube

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
)

// forward opens local ports on 127.0.0.1 forwarding to ports of a pod,
// as `kubectl port-forward` does: the harness reaches the mesh's control
// API and the client and metrics links this way on any cluster, with no
// Service exposed outside it. It returns the local port of each, and runs
// until ctx ends.
func (d *Driver) forward(ctx context.Context, pod string, ports []int) (map[int]int, error) {
	u := d.cs.CoreV1().RESTClient().Post().Resource("pods").Namespace(d.ns).Name(pod).SubResource("portforward").URL()
	transport, upgrader, err := spdy.RoundTripperFor(d.rc)
	if err != nil {
		return nil, err
	}
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, u)
	ws, err := portforward.NewSPDYOverWebsocketDialer(u, d.rc)
	if err != nil {
		return nil, err
	}
	dialer = portforward.NewFallbackDialer(ws, dialer, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
	specs := make([]string, len(ports))
	for k, p := range ports {
		specs[k] = "0:" + strconv.Itoa(p)
	}
	ready := make(chan struct{})
	fw, err := portforward.NewOnAddressesWithContext(ctx, dialer, []string{"127.0.0.1"}, specs, ready, io.Discard, io.Discard)
	if err != nil {
		return nil, err
	}
	failed := make(chan error, 1)
	go func() { failed <- fw.ForwardPorts() }()
	select {
	case <-ready:
	case err := <-failed:
		return nil, fmt.Errorf("forwarding ports of pod %s: %w", pod, err)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	got, err := fw.GetPorts()
	if err != nil {
		return nil, err
	}
	out := map[int]int{}
	for _, p := range got {
		out[int(p.Remote)] = int(p.Local)
	}
	return out, nil
}
