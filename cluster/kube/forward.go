package kube

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"

	"github.com/kmschaos/kmschaos/fixtures"
)

// reachable tells whether this process reaches addr directly: on the
// local cluster the host routes to Service addresses, and the mesh is
// then reached without a port-forward in between.
func reachable(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, fixtures.Intervals.Kube.DialCheck)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// forward opens local ports on 127.0.0.1 forwarding to ports of the
// mesh's pod, as `kubectl port-forward` does: how the harness reaches the
// mesh's control API and the client and metrics links on a cluster whose
// Service addresses it cannot route to. It returns the local port of
// each. Every local connection gets a forwarding connection of its own:
// client-go's PortForwarder ends every connection when one fails (a link
// the fault refuses, say), which would cut the harness off the cluster.
func (d *Driver) forward(ctx context.Context, ports []int) (map[int]int, error) {
	local := map[int]int{}
	for _, remote := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		local[remote] = l.Addr().(*net.TCPAddr).Port
		go func() {
			<-ctx.Done()
			l.Close()
		}()
		go func() {
			for {
				conn, err := l.Accept()
				if err != nil {
					return
				}
				go d.forwardConn(ctx, conn, remote)
			}
		}()
	}
	return local, nil
}

// forwardConn carries one local connection to port of the mesh's pod over
// a port-forward connection of its own.
func (d *Driver) forwardConn(ctx context.Context, conn net.Conn, port int) {
	defer conn.Close()
	sc, err := d.dialMesh(ctx)
	if err != nil {
		return
	}
	defer sc.Close()
	h := http.Header{}
	h.Set(corev1.StreamType, corev1.StreamTypeError)
	h.Set(corev1.PortHeader, strconv.Itoa(port))
	h.Set(corev1.PortForwardRequestIDHeader, "0")
	errStream, err := sc.CreateStream(h)
	if err != nil {
		return
	}
	errStream.Close() // nothing to send on it
	go func() { _, _ = io.Copy(io.Discard, errStream) }()
	h.Set(corev1.StreamType, corev1.StreamTypeData)
	data, err := sc.CreateStream(h)
	if err != nil {
		return
	}
	remoteDone := make(chan struct{})
	go func() {
		_, _ = io.Copy(conn, data)
		close(remoteDone)
	}()
	go func() {
		_, _ = io.Copy(data, conn)
		data.Close() // no more from this side
	}()
	select {
	case <-remoteDone:
	case <-ctx.Done():
	}
}

// dialMesh opens a port-forward connection to the mesh's pod. The pod
// and its dialer are kept from one connection to the next; they are
// looked up again only when the pod no longer answers (a new mesh pod),
// so a connection costs no API list.
func (d *Driver) dialMesh(ctx context.Context) (httpstream.Connection, error) {
	d.fwd.Lock()
	dialer := d.fwd.dialer
	d.fwd.Unlock()
	if dialer != nil {
		if sc, _, err := dialer.Dial(portforward.PortForwardProtocolV1Name); err == nil {
			return sc, nil
		}
	}
	pod, err := d.meshPod(ctx)
	if err != nil {
		return nil, err
	}
	if dialer, err = d.forwardDialer(pod); err != nil {
		return nil, err
	}
	d.fwd.Lock()
	d.fwd.dialer = dialer
	d.fwd.Unlock()
	sc, _, err := dialer.Dial(portforward.PortForwardProtocolV1Name)
	return sc, err
}

// forwardDialer speaks to the pod's portforward subresource over
// WebSocket, falling back to SPDY, as kubectl does.
func (d *Driver) forwardDialer(pod string) (httpstream.Dialer, error) {
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
	return portforward.NewFallbackDialer(ws, dialer, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	}), nil
}
