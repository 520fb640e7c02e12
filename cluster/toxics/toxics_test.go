package toxics

import (
	"encoding/json"
	"testing"
	"time"
)

// The constructors must send toxiproxy what the harness sent before they
// existed: toxics are found by name and compared in reports.
func TestWireForm(t *testing.T) {
	for _, c := range []struct {
		got  Toxic
		want string
	}{
		{Latency(300*time.Millisecond, 50*time.Millisecond).Named("x"),
			`{"Name":"x","Type":"latency","Stream":"downstream","Toxicity":0,"Attributes":{"jitter":50,"latency":300}}`},
		{Timeout(0).Named("link_hang"),
			`{"Name":"link_hang","Type":"timeout","Stream":"upstream","Toxicity":0,"Attributes":{"timeout":0}}`},
		{ResetPeer(1500 * time.Millisecond).Hitting(0.7),
			`{"Name":"","Type":"reset_peer","Stream":"upstream","Toxicity":0.7,"Attributes":{"timeout":1500}}`},
		{Bandwidth(64).On(Upstream),
			`{"Name":"","Type":"bandwidth","Stream":"upstream","Toxicity":0,"Attributes":{"rate":64}}`},
		{LimitData(4096),
			`{"Name":"","Type":"limit_data","Stream":"downstream","Toxicity":0,"Attributes":{"bytes":4096}}`},
	} {
		b, err := json.Marshal(c.got)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != c.want {
			t.Errorf("got  %s\nwant %s", b, c.want)
		}
	}
}
