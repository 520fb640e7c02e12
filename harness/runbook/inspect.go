package runbook

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/docker/go-units"

	"github.com/kmschaos/kmschaos/cluster"
)

// inspect is the engine's view of the parties' containers (docker
// inspect), one line each: what an operator checks for a party that
// crash-loops, is starved or stays down.
func inspect(ctx context.Context, e *Env, g *Engine, v map[string][]string) (string, error) {
	ids, err := parties(g.Parties, e.C.Topology.N, v)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, i := range ids {
		base := e.C.BaselineOf(i)
		st, err := e.C.Party(i).State(ctx)
		if err != nil {
			return b.String(), fmt.Errorf("inspecting party %d: %w", i, err)
		}
		b.WriteString(describe(i, st, base) + "\n")
	}
	return b.String(), nil
}

// describe renders one party's container state and limits, the limits
// compared with the cluster's baseline ("below the baseline" when the
// container has less than the parties start with).
func describe(i int, st cluster.State, base cluster.Resources) string {
	oom := "no"
	if st.OOMKilled {
		oom = "yes"
	}
	mem := func(b int64) string {
		if b == 0 {
			return "none"
		}
		return units.BytesSize(float64(b))
	}
	cpus := func(n int64) string {
		if n == 0 {
			return "none"
		}
		return strconv.FormatFloat(float64(n)/1e9, 'f', -1, 64)
	}
	return fmt.Sprintf("party %d: status %s, exit code %s, restarts %d, OOM-killed %s; memory limit: %s, %s; cpus: %s, %s",
		i, st.Status, st.ExitStatus(), st.RestartCount, oom,
		mem(st.Memory), compare(st.Memory, base.Memory, mem(base.Memory)),
		cpus(st.NanoCPUs), compare(st.NanoCPUs, base.NanoCPUs, cpus(base.NanoCPUs)))
}

// compare places a limit against the baseline's; 0 is no limit.
func compare(got, base int64, baseText string) string {
	switch {
	case got == base:
		return "the baseline"
	case got != 0 && (base == 0 || got < base):
		return "below the baseline (" + baseText + ")"
	}
	return "above the baseline (" + baseText + ")"
}
