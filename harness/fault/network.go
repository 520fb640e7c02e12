package fault

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/cluster/toxics"
	"github.com/kmschaos/kmschaos/fixtures"
)

// links lists the directed peer links from any party of from to any of to.
func links(from, to []int) [][2]int {
	var out [][2]int
	for _, i := range from {
		for _, j := range to {
			if i != j {
				out = append(out, [2]int{i, j})
			}
		}
	}
	return out
}

func disable(ctx context.Context, c *cluster.Cluster, ls [][2]int) (Heal, error) {
	var hs heals
	for _, l := range ls {
		link := c.Link(l[0], l[1])
		if err := link.Disable(); err != nil {
			return hs.all(), err
		}
		hs.add(func(context.Context) error { return link.Enable() })
	}
	return hs.all(), nil
}

func toxic(ls []*cluster.Link, t toxics.Toxic) (Heal, error) {
	var hs heals
	for _, link := range ls {
		if err := link.AddToxic(t); err != nil {
			return hs.all(), err
		}
		hs.add(func(context.Context) error { return link.RemoveToxic(t.Name) })
	}
	return hs.all(), nil
}

// LinkRefused disables the proxy of link i->j: party i's connections to j
// are refused, j's to i are not. Like OneWay, it counts the party that
// loses its peer (i) against the budget; so do the other faults of link
// i->j.
func LinkRefused(i, j int) Fault {
	return New(fmt.Sprintf("link %d->%d refused", i, j), Network, []int{i}, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
		return disable(ctx, c, [][2]int{{i, j}})
	})
}

// LinkHang makes link i->j accept connections and drop every byte: a
// silent hang (toxiproxy timeout toxic with timeout 0).
func LinkHang(i, j int) Fault {
	return New(fmt.Sprintf("link %d->%d hangs silently", i, j), Network, []int{i}, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
		return toxic([]*cluster.Link{c.Link(i, j)}, hang("link_hang"))
	})
}

func hang(name string) toxics.Toxic { return toxics.Timeout(0).Named(name) }

// ClientRefused disables the client link of party i: clients get
// connection refused, the party itself is fine.
func ClientRefused(i int) Fault {
	return New(fmt.Sprintf("client link of party %d refused", i), Network, []int{i}, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
		link := c.Party(i).ClientLink()
		if err := link.Disable(); err != nil {
			return nil, err
		}
		return func(context.Context) error { return link.Enable() }, nil
	})
}

// ClientHang makes the client link of party i accept connections and
// answer nothing.
func ClientHang(i int) Fault {
	return New(fmt.Sprintf("client link of party %d hangs silently", i), Network, []int{i}, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
		return toxic([]*cluster.Link{c.Party(i).ClientLink()}, hang("client_hang"))
	})
}

// Partition cuts every link between different groups, both ways. The
// parties outside the largest group count against the budget.
func Partition(groups ...[]int) Fault {
	largest := 0
	for k, g := range groups {
		if len(g) > len(groups[largest]) {
			largest = k
		}
	}
	var touched []int
	name := "partition"
	for k, g := range groups {
		sep := " | "
		if k == 0 {
			sep = " "
		}
		name += sep + fmt.Sprint(g)
		if k != largest {
			touched = append(touched, g...)
		}
	}
	sort.Ints(touched)
	return New(name, Network, touched, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
		var ls [][2]int
		for a := range groups {
			for b := range groups {
				if a != b {
					ls = append(ls, links(groups[a], groups[b])...)
				}
			}
		}
		return disable(ctx, c, ls)
	})
}

// OneWay cuts the links from every party of from to every party of to, and
// only that direction: from sees to unreachable, to sees from fine.
func OneWay(from, to []int) Fault {
	return New(fmt.Sprintf("one-way partition %v -> %v", from, to), Network, from, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
		return disable(ctx, c, links(from, to))
	})
}

// Cut cuts the given pairs of parties from each other, both ways, and
// nothing else: a partition that is not transitive (a-b cut while both
// still reach c).
func Cut(pairs ...[2]int) Fault {
	set := map[int]bool{}
	var ls [][2]int
	for _, p := range pairs {
		set[p[0]], set[p[1]] = true, true
		ls = append(ls, p, [2]int{p[1], p[0]})
	}
	var touched []int
	for p := range set {
		touched = append(touched, p)
	}
	sort.Ints(touched)
	return New(fmt.Sprintf("non-transitive cut of %v", pairs), Network, touched, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
		return disable(ctx, c, ls)
	})
}

// Isolate cuts party i from every peer, both ways.
func Isolate(i int) Fault {
	return New(fmt.Sprintf("party %d isolated from every peer", i), Network, []int{i}, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
		others := []int{}
		for k := 1; k <= c.Topology.N; k++ {
			if k != i {
				others = append(others, k)
			}
		}
		return disable(ctx, c, append(links([]int{i}, others), links(others, []int{i})...))
	})
}

// peerLinksOf lists every link into and out of the given parties.
func peerLinksOf(c *cluster.Cluster, parties []int) []*cluster.Link {
	in := map[int]bool{}
	for _, p := range parties {
		in[p] = true
	}
	var out []*cluster.Link
	for i := 1; i <= c.Topology.N; i++ {
		for j := 1; j <= c.Topology.N; j++ {
			if i != j && (in[i] || in[j]) {
				out = append(out, c.Link(i, j))
			}
		}
	}
	return out
}

// Latency delays every byte on every link into and out of the given
// parties by latency ± jitter.
func Latency(parties []int, latency, jitter time.Duration) Fault {
	return New(fmt.Sprintf("latency %s ± %s on the links of parties %v", latency, jitter, parties), Network, parties, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
		return toxic(peerLinksOf(c, parties), toxics.Latency(latency, jitter).Named("latency"))
	})
}

// Bandwidth caps the client link of party i at kbps kilobytes per second,
// both ways: small requests pass, large ones time out.
func Bandwidth(i int, kbps int) Fault {
	return New(fmt.Sprintf("client link of party %d capped at %d KB/s", i, kbps), Network, []int{i}, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
		link := c.Party(i).ClientLink()
		var hs heals
		for _, stream := range []toxics.Stream{toxics.Upstream, toxics.Downstream} {
			h, err := toxic([]*cluster.Link{link}, toxics.Bandwidth(kbps).On(stream).Named("bandwidth_"+string(stream)))
			if h != nil {
				hs.add(h)
			}
			if err != nil {
				return hs.all(), err
			}
		}
		return hs.all(), nil
	})
}

// Resets resets a fraction of the connections into party i (toxiproxy
// reset_peer): its peers' calls fail now and then.
func Resets(i int, fraction float32) Fault {
	return New(fmt.Sprintf("%.0f%% of connections into party %d reset", 100*fraction, i), Network, []int{i}, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
		ls := intoParty(c, i)
		// A hit connection is reset shortly after its next bytes, sooner
		// than a coordinator stops waiting for a straggler, so the call
		// it carried fails inside its session. Toxiproxy draws once per
		// connection whether it is hit: the connections that escape the
		// draw would carry every later call and the fault would pass in
		// seconds, so the harness has it drawn again every period.
		t := toxics.ResetPeer(fixtures.Intervals.Fault.ResetPeerAfter).Hitting(fraction).Named("reset_peer")
		var hs heals
		heal, err := toxic(ls, t)
		hs.add(heal)
		if err != nil {
			return hs.all(), err
		}
		hs.add(every(fixtures.Intervals.Fault.ResetPeerRedraw, func() {
			for _, l := range ls {
				_ = l.RedrawToxic(t)
			}
		}))
		return hs.all(), nil
	})
}

// LimitData closes every connection into party i after bytes bytes: long
// lived connections break over and over.
func LimitData(i int, bytes int) Fault {
	return New(fmt.Sprintf("connections into party %d closed after %d bytes", i, bytes), Network, []int{i}, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
		var ls []*cluster.Link
		for k := 1; k <= c.Topology.N; k++ {
			if k != i {
				ls = append(ls, c.Link(k, i))
			}
		}
		return toxic(ls, toxics.LimitData(bytes).Named("limit_data"))
	})
}

// Flapping takes link i->j down and up every period until healed.
func Flapping(i, j int, period time.Duration) Fault {
	return New(fmt.Sprintf("link %d->%d flapping every %s", i, j, period), Network, []int{i}, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
		link := c.Link(i, j)
		up := true
		flip := func() {
			if up = !up; up {
				_ = link.Enable()
			} else {
				_ = link.Disable()
			}
		}
		flip()
		// Two heals, so a retry after a failed Enable does not stop the
		// flapping twice; the last added runs first.
		var hs heals
		hs.add(func(context.Context) error { return link.Enable() })
		hs.add(every(period, flip))
		return hs.all(), nil
	})
}

// every runs f every period until the returned heal stops it; the heal
// returns once f is no longer running.
func every(period time.Duration, f func()) Heal {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				f()
			}
		}
	}()
	return func(context.Context) error { close(stop); wg.Wait(); return nil }
}

// DNSLoss removes the name of peer j from party i's /etc/hosts, as a
// deleted DNS record would, and cuts the link until the party fails to
// look the name up (the Go resolver reads /etc/hosts again only every
// 5 s): its connection to j is then down for want of the name alone.
func DNSLoss(i, j int) Fault {
	host := "kms-peer-" + strconv.Itoa(j)
	return New(fmt.Sprintf("name %s does not resolve on party %d", host, i), Network, []int{i}, func(ctx context.Context, c *cluster.Cluster) (Heal, error) {
		p := c.Party(i)
		heal := func(ctx context.Context) error {
			res, err := p.ExecAs(ctx, "0:0", c.Profile.AdminCmd("hosts", "add", host, c.ToxiproxyIP())...)
			return res.Check(err, "restoring "+host)
		}
		res, err := p.ExecAs(ctx, "0:0", c.Profile.AdminCmd("hosts", "remove", host)...)
		if err := res.Check(err, "removing "+host); err != nil {
			return nil, err // nothing removed, nothing to add back
		}
		link := c.Link(i, j)
		if err := link.Disable(); err != nil {
			return heal, err
		}
		waitErr := awaitPeerError(ctx, c, i, j, "no such host", fixtures.Intervals.Fault.DNSErrorWithin)
		if err := link.Enable(); err != nil {
			return heal, err
		}
		return heal, waitErr
	})
}

// awaitPeerError polls party i's health status until its error for peer j
// contains substr.
func awaitPeerError(ctx context.Context, c *cluster.Cluster, i, j int, substr string, within time.Duration) error {
	deadline := time.Now().Add(within)
	last := ""
	for time.Now().Before(deadline) {
		if pc, err := c.Health(ctx, i); err == nil {
			for _, p := range pc.GetPeers() {
				if int(p.GetPeerId()) == j {
					last = p.GetError()
					if strings.Contains(last, substr) {
						return nil
					}
				}
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(fixtures.Intervals.Fault.DNSErrorPoll):
		}
	}
	return fmt.Errorf("party %d never failed to resolve peer %d within %s (last error %q)", i, j, within, last)
}
