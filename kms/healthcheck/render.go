package healthcheck

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/kmschaos/kmschaos/kms/health"
)

// RenderJSON writes the result as indented JSON.
func RenderJSON(w io.Writer, r *Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// RenderText writes the result in the real tool's layout, with the PRSS and
// STORAGE sections added after OPERATOR KEY.
func RenderText(w io.Writer, r *Result) error {
	var b strings.Builder
	line := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }

	if info := r.ConfigInfo; info != nil {
		line("\n[INFO]:")
		line("  [OK] Valid %s config", r.ConfigValid.ConfigType)
		line("  [OK] Storage: %s", r.ConfigValid.StorageType)
		line("  [OK] Listen address: %s", info.ListenAddress)
		n := info.Parties
		line("  [OK] Threshold: %d - Node requirements:", info.Threshold)
		line("      - %d of %d nodes minimum for threshold operations (t+1)", info.Threshold+1, n)
		line("      - %d of %d nodes for healthy status (2/3 majority)", health.MinHealthy(n), n)
		line("      - %d of %d nodes for optimal status (all nodes online)", n, n)
		line("      (!!!)  Operational recommendation: All %d nodes should be online for best performance", n)
		line("  [OK] %d peers configured:", len(info.Peers))
		for _, p := range info.Peers {
			line("      - Peer %d at %s", p.PartyID, p.Address)
		}
	}

	line("\n[KMS HEALTH CHECK REPORT]")
	line(strings.Repeat("=", 50))
	switch r.OverallHealth {
	case Optimal:
		line("\n[EXCELLENT] Overall Status: Optimal - All nodes online")
	case Healthy:
		line("\n[OK] Overall Status: Healthy - Sufficient majority")
	case Degraded:
		line("\n[WARN] Overall Status: Degraded - Reduced fault tolerance or missing key material")
	default:
		line("\n[ERROR] Overall Status: Unhealthy - Critical issues")
	}

	if c := r.ConfigValid; c != nil {
		line("\n[CONFIG]:")
		if c.Valid {
			line("  [OK] Valid %s config", c.ConfigType)
			line("  [OK] Storage: %s", c.StorageType)
		} else {
			line("  [FAIL] Invalid configuration:")
			for _, e := range c.Errors {
				line("  [FAIL] %s", e)
			}
		}
	}

	if c := r.Connectivity; c != nil {
		line("\n[CORE SERVICE CONNECTIVITY]:")
		if c.Reachable {
			line("  [OK] Reachable (latency: %dms)", c.LatencyMs)
		} else {
			line("  [FAIL] Cannot connect: %s", c.Error)
		}
	}

	if k := r.KeyMaterial; k != nil {
		line("\n[KEY MATERIAL]:")
		// As the real output.rs prints it: every line [OK] when the party
		// answered, the error itself only under [INFO].
		if !k.Available {
			line("  [FAIL] Key material unavailable")
		} else {
			line("  [OK] FHE Keys: %d", len(k.FheKeyIDs))
			for _, id := range k.FheKeyIDs {
				line("       - %s", id)
			}
			line("  [OK] CRS: %d", len(k.CrsIDs))
			for _, id := range k.CrsIDs {
				line("       - %s", id)
			}
			line("  [OK] Preprocessing: %d", len(k.Preprocessing))
			for _, id := range k.Preprocessing {
				line("       - %s", id)
			}
			line("  [OK] Storage: %s", k.StorageBackend)
		}
	}

	if o := r.OperatorKey; o != nil {
		line("\n[OPERATOR KEY]:")
		if o.Available {
			line("  [OK] Available (%d bytes)", o.PublicKeyLen)
			line("  [OK] Hex: %s", o.PublicKeyHex)
		} else {
			line("  [FAIL] Not available: %s", o.Error)
		}
	}

	for _, c := range r.ContextInfo {
		line("\n[CONTEXT %s]:", c.ContextID)
		line("\n  [NODE INFO]:")
		line("    Type: %s", c.NodeType)
		line("    Party ID: %d", c.MyPartyID)
		line("    Threshold: %d required", c.ThresholdRequired)
		line("    Nodes Reachable: %d", c.NodesReachable)
		line("\n  [PEER STATUS]:")
		up := 0
		for _, p := range c.Peers {
			if p.Reachable {
				up++
			}
		}
		line("    %d of %d peers reachable", up, len(c.Peers))
		for _, p := range c.Peers {
			if p.Reachable {
				line("    [OK] Party %d @ %s (%dms)", p.PeerID, p.Endpoint, p.LatencyMs)
			} else {
				line("    [FAIL] Party %d @ %s", p.PeerID, p.Endpoint)
				e := p.Error
				if e == "" {
					e = "Unreachable"
				}
				line("           Error: %s", e)
			}
		}
		line("\n  %s", c.Recommendation)
	}

	if len(r.Recommendations) > 0 {
		line("\n[INFO]:")
		for _, rec := range r.Recommendations {
			line("  %s", rec)
		}
	}
	line("\n%s", strings.Repeat("=", 50))
	_, err := io.WriteString(w, b.String())
	return err
}
