// Package healthcheck is kms-health-check: it validates a config, checks a
// running party over its API, and reports in the real tool's text layout (so
// runbooks that grep it keep working) or as JSON. Unlike the real tool,
// every peer ping is bounded. Like the real tool (tools/kms-health-check), the
// overall status of a live check ignores the party's grade of its peers
// (shown per context) and the exit status is 0 for any report; and
// unlike what the guide asks of it, it reports no PRSS and no storage
// state: key material is the ids the party lists.
package healthcheck

// Status is the overall verdict.
type Status string

// The four levels, best first.
const (
	Optimal   Status = "Optimal"
	Healthy   Status = "Healthy"
	Degraded  Status = "Degraded"
	Unhealthy Status = "Unhealthy"
)

func (s Status) rank() int {
	switch s {
	case Optimal:
		return 0
	case Healthy:
		return 1
	case Degraded:
		return 2
	}
	return 3
}

// worse returns the worse of two statuses.
func worse(a, b Status) Status {
	if b.rank() > a.rank() {
		return b
	}
	return a
}

// Result is everything one run found.
type Result struct {
	ConfigValid     *ConfigValidation `json:"config_valid"`
	ConfigInfo      *ConfigInfo       `json:"config_info,omitempty"`
	Connectivity    *Connectivity     `json:"connectivity"`
	KeyMaterial     *KeyMaterial      `json:"key_material"`
	OperatorKey     *OperatorKey      `json:"operator_key"`
	ContextInfo     []Context         `json:"context_info"`
	OverallHealth   Status            `json:"overall_health"`
	Recommendations []string          `json:"recommendations"`
}

// ConfigValidation is the outcome of parsing and validating a config.
type ConfigValidation struct {
	Valid       bool     `json:"valid"`
	ConfigType  string   `json:"config_type"`
	StorageType string   `json:"storage_type"`
	Errors      []string `json:"errors"`
}

// ConfigInfo is what a valid config says about the cluster.
type ConfigInfo struct {
	ListenAddress string `json:"listen_address"`
	Threshold     int    `json:"threshold"`
	Parties       int    `json:"parties"`
	Peers         []Peer `json:"peers"`
}

// Peer is one configured peer.
type Peer struct {
	PartyID int    `json:"party_id"`
	Address string `json:"address"`
}

// Connectivity is the reachability of the party's API.
type Connectivity struct {
	Reachable bool   `json:"reachable"`
	LatencyMs int64  `json:"latency_ms"`
	Error     string `json:"error,omitempty"`
}

// KeyMaterial lists the stored keys and what is wrong with them.
type KeyMaterial struct {
	Available      bool     `json:"available"`
	FheKeyIDs      []string `json:"fhe_key_ids"`
	CrsIDs         []string `json:"crs_ids"`
	Preprocessing  []string `json:"preprocessing_key_ids"`
	StorageBackend string   `json:"storage_backend"`
	Error          string   `json:"error,omitempty"`
}

// OperatorKey is the party's signature verification key.
type OperatorKey struct {
	Available    bool   `json:"available"`
	PublicKeyLen int    `json:"public_key_len"`
	PublicKeyHex string `json:"public_key_hex,omitempty"`
	Error        string `json:"error,omitempty"`
}

// Context is the party's view of one MPC context.
type Context struct {
	ContextID         string       `json:"context_id"`
	NodeType          string       `json:"node_type"`
	MyPartyID         uint32       `json:"my_party_id"`
	ThresholdRequired uint32       `json:"threshold_required"`
	NodesReachable    uint32       `json:"nodes_reachable"`
	Health            Status       `json:"context_health"`
	Peers             []PeerStatus `json:"peers_status"`
	Recommendation    string       `json:"recommendation"`
}

// PeerStatus is one peer as the party sees it.
type PeerStatus struct {
	PeerID    uint32 `json:"peer_id"`
	Endpoint  string `json:"endpoint"`
	Reachable bool   `json:"reachable"`
	LatencyMs uint32 `json:"latency_ms"`
	Error     string `json:"error,omitempty"`
}
