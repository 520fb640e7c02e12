package cluster

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"

	toxiproxy "github.com/Shopify/toxiproxy/v2/client"

	"github.com/kmschaos/kmschaos/cluster/toxics"
)

// Mesh is the toxiproxy in front of every link of the cluster.
type Mesh struct {
	Client *toxiproxy.Client
	addr   string

	mu      sync.Mutex
	proxies map[string]*toxiproxy.Proxy
}

func newMesh(addr string) *Mesh {
	return &Mesh{Client: toxiproxy.NewClient(addr), addr: addr, proxies: map[string]*toxiproxy.Proxy{}}
}

// populate creates every proxy in one call.
func (m *Mesh) populate(topo Topology, p Profile) error {
	var all []toxiproxy.Proxy
	any := "0.0.0.0"
	for i := 1; i <= topo.N; i++ {
		for j := 1; j <= topo.N; j++ {
			if i != j {
				all = append(all, toxiproxy.Proxy{Name: peerProxyName(i, j), Enabled: true,
					Listen:   net.JoinHostPort(any, strconv.Itoa(peerProxyPort(i, j))),
					Upstream: net.JoinHostPort(partyAlias(j), strconv.Itoa(p.P2PPort))})
			}
		}
		all = append(all,
			toxiproxy.Proxy{Name: clientProxyName(i), Enabled: true, Listen: net.JoinHostPort(any, strconv.Itoa(clientProxyPort(i))),
				Upstream: net.JoinHostPort(partyAlias(i), strconv.Itoa(p.APIPort))},
			toxiproxy.Proxy{Name: metricsProxyName(i), Enabled: true, Listen: net.JoinHostPort(any, strconv.Itoa(metricsProxyPort(i))),
				Upstream: net.JoinHostPort(partyAlias(i), strconv.Itoa(p.MetricsPort))})
	}
	if _, err := m.Client.Populate(all); err != nil {
		return fmt.Errorf("creating %d proxies: %w", len(all), err)
	}
	return nil
}

// proxy returns the handle of a proxy. It is fetched rather than taken
// from Populate's answer: the client (v2.12.0) does not mark populated
// proxies as existing, so their Disable would try to create them again.
func (m *Mesh) proxy(name string) *Link {
	m.mu.Lock()
	defer m.mu.Unlock()
	px, ok := m.proxies[name]
	if !ok {
		var err error
		if px, err = m.Client.Proxy(name); err != nil {
			return &Link{Name: name, mesh: m, err: fmt.Errorf("link %s: %w", name, err)}
		}
		m.proxies[name] = px
	}
	return &Link{Name: name, mesh: m, proxy: px}
}

// Addr is toxiproxy's control API as the harness reaches it.
func (m *Mesh) Addr() string { return m.addr }

// Reset removes every toxic and enables every proxy.
func (m *Mesh) Reset() error { return m.Client.ResetState() }

// Link is one proxied connection path: a peer link i->j, or the client or
// metrics link of a party.
type Link struct {
	Name  string
	mesh  *Mesh
	proxy *toxiproxy.Proxy
	err   error // the proxy could not be looked up
}

// AddToxic adds t to the link.
func (l *Link) AddToxic(t toxics.Toxic) error {
	if l.err != nil {
		return l.err
	}
	t = filled(t)
	_, err := l.proxy.AddToxic(t.Name, t.Type, string(t.Stream), t.Toxicity, t.Attributes)
	if err != nil {
		return fmt.Errorf("link %s: adding toxic %s: %w", l.Name, t.Name, err)
	}
	return nil
}

// RedrawToxic has toxiproxy draw again, for every open connection, whether
// the toxic t (as added) acts on it (it draws once per connection when the
// toxic meets it; updating a toxic draws anew).
func (l *Link) RedrawToxic(t toxics.Toxic) error {
	if l.err != nil {
		return l.err
	}
	t = filled(t)
	if _, err := l.proxy.UpdateToxic(t.Name, t.Toxicity, t.Attributes); err != nil {
		return fmt.Errorf("link %s: redrawing toxic %s: %w", l.Name, t.Name, err)
	}
	return nil
}

// filled gives t the defaults of a toxic added without them: downstream,
// on every connection, named after its type and stream.
func filled(t toxics.Toxic) toxics.Toxic {
	if t.Stream == "" {
		t.Stream = toxics.Downstream
	}
	if t.Toxicity == 0 {
		t.Toxicity = 1
	}
	if t.Name == "" {
		t.Name = t.Type + "_" + string(t.Stream)
	}
	return t
}

// RemoveToxic removes a toxic; a missing one is not an error.
func (l *Link) RemoveToxic(name string) error {
	if l.err != nil {
		return l.err
	}
	err := l.proxy.RemoveToxic(name)
	if err != nil && isToxiproxyNotFound(err) {
		return nil
	}
	return err
}

// Disable refuses new connections and closes open ones (connection refused).
func (l *Link) Disable() error {
	if l.err != nil {
		return l.err
	}
	l.mesh.mu.Lock() // the cached proxy is shared by every handle of the link
	defer l.mesh.mu.Unlock()
	return l.proxy.Disable()
}

// Enable opens the link again.
func (l *Link) Enable() error {
	if l.err != nil {
		return l.err
	}
	l.mesh.mu.Lock()
	defer l.mesh.mu.Unlock()
	return l.proxy.Enable()
}

func isToxiproxyNotFound(err error) bool {
	var ae *toxiproxy.ApiError
	if errors.As(err, &ae) {
		return ae.Status == 404
	}
	return false
}
