// Package toxics builds the toxiproxy toxics the harness puts on links, so
// that a caller names a toxic and its parameters rather than toxiproxy's
// type strings and attribute keys. The wire form is the client's
// (github.com/Shopify/toxiproxy/v2/client): Type, Stream, Toxicity and
// Attributes go to toxiproxy as they are here.
package toxics

import (
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2/client"
)

// Stream is the direction a toxic acts on, in toxiproxy's terms: Upstream
// is what the connecting side sends, Downstream what it receives.
type Stream string

const (
	Upstream   Stream = "upstream"
	Downstream Stream = "downstream"
)

// Toxic is one toxic to add to a link. Name finds it again to remove it
// and shows in reports; empty means Type_Stream. Toxicity is the fraction
// of connections hit; zero means all.
type Toxic struct {
	Name       string
	Type       string
	Stream     Stream
	Toxicity   float32
	Attributes toxiproxy.Attributes
}

// Latency delays every byte received by latency ± jitter.
func Latency(latency, jitter time.Duration) Toxic {
	return Toxic{Type: "latency", Stream: Downstream,
		Attributes: toxiproxy.Attributes{"latency": latency.Milliseconds(), "jitter": jitter.Milliseconds()}}
}

// Timeout drops every byte sent and closes the connection after d; zero
// keeps it open forever: a silent hang.
func Timeout(d time.Duration) Toxic {
	return Toxic{Type: "timeout", Stream: Upstream, Attributes: toxiproxy.Attributes{"timeout": d.Milliseconds()}}
}

// ResetPeer resets a connection (TCP RST) after it has been open for after.
func ResetPeer(after time.Duration) Toxic {
	return Toxic{Type: "reset_peer", Stream: Upstream, Attributes: toxiproxy.Attributes{"timeout": after.Milliseconds()}}
}

// Bandwidth caps the bytes received at kbps kilobytes per second.
func Bandwidth(kbps int) Toxic {
	return Toxic{Type: "bandwidth", Stream: Downstream, Attributes: toxiproxy.Attributes{"rate": kbps}}
}

// LimitData closes a connection once it has received bytes bytes.
func LimitData(bytes int) Toxic {
	return Toxic{Type: "limit_data", Stream: Downstream, Attributes: toxiproxy.Attributes{"bytes": bytes}}
}

// Named returns t called name.
func (t Toxic) Named(name string) Toxic { t.Name = name; return t }

// On returns t acting on stream s.
func (t Toxic) On(s Stream) Toxic { t.Stream = s; return t }

// Hitting returns t acting on the given fraction of connections only.
func (t Toxic) Hitting(fraction float32) Toxic { t.Toxicity = fraction; return t }
