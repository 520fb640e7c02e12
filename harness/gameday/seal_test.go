package gameday

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kmschaos/kmschaos/harness/report"
)

// planned is a game day as the runner keeps it mid-way: faults of kinds
// with parameters, one injected, the timeline naming it.
func planned(t *testing.T) *State {
	t.Helper()
	fs, err := Plan(topo13, Options{Seed: 5, Faults: 6, Every: time.Minute, Limit: time.Hour,
		Kinds: []string{"kill", "latency", "cpu", "link-hang", "resets"}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().UTC()
	s := &State{Header: Header{ID: strings.Split(fs[0].Tag, "-")[1], Run: "0badcafe", Started: start, Dir: t.TempDir(), PID: 4242, Heartbeat: start},
		Seed: 5, Every: time.Minute, Limit: time.Hour, Faults: fs}
	s.Faults[0].InjectedAt = start.Add(time.Minute)
	s.Events = []report.Event{{At: time.Minute, Lane: report.LaneFaults, Label: "inject fault 1", Status: report.Warn, Detail: fs[0].Name}}
	return s
}

func key(b byte) []byte { return bytes.Repeat([]byte{b}, keySize) }

func with(k []byte) func(Header) ([]byte, error) {
	return func(Header) ([]byte, error) { return k, nil }
}

// What the players can read — the record's bytes in the keeper — holds
// the header and nothing of the truth; the facilitator's key opens all
// of it again.
func TestSealedRecordHidesTheTruth(t *testing.T) {
	s := planned(t)
	k := key(7)
	rec, err := sealState(k, s)
	if err != nil {
		t.Fatal(err)
	}
	// Every string checked holds a quote, a space or a '-': none can turn
	// up by chance in the base64 of the sealed part.
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	hidden := []string{`"faults"`, `"every_ns"`, `"seed"`, `"events"`, `"kind"`, q(s.Events[0].Label)}
	for _, f := range s.Faults {
		hidden = append(hidden, q(f.Kind), f.Tag, q(f.Name))
		for p, v := range f.Params {
			hidden = append(hidden, q(p), q(v))
		}
	}
	if len(hidden) < 6+3*len(s.Faults)+2 {
		t.Fatalf("the plan drew no fault with parameters: %+v", s.Faults)
	}
	plain, _ := json.Marshal(s)
	for _, h := range hidden {
		if !bytes.Contains(plain, []byte(h)) {
			t.Fatalf("the state's own JSON lacks %q: the check below would prove nothing", h)
		}
		if bytes.Contains(rec, []byte(h)) {
			t.Errorf("the keeper's record shows %q:\n%s", h, rec)
		}
	}
	for _, enc := range []string{hex.EncodeToString(k), base64.StdEncoding.EncodeToString(k), string(k)} {
		if bytes.Contains(rec, []byte(enc)) {
			t.Errorf("the record holds its own key")
		}
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(rec, &fields); err != nil || len(fields) != 3 || fields["header"] == nil || fields["nonce"] == nil || fields["sealed"] == nil {
		t.Errorf("record fields %v (%v), want header, nonce, sealed", keys(fields), err)
	}
	h, _, err := parseRecord(rec)
	if err != nil || !reflect.DeepEqual(h, s.Header) {
		t.Errorf("header %+v (%v), want %+v", h, err, s.Header)
	}
	back, err := openRecord(rec, with(k))
	if err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(back)
	if !bytes.Equal(again, plain) {
		t.Errorf("round trip:\n%s\nwant\n%s", again, plain)
	}
	if !bytes.Equal(back.key, k) {
		t.Error("the opened state does not keep its key to seal it again")
	}
	// A fresh nonce each time: two records of one state differ.
	if rec2, _ := sealState(k, s); bytes.Equal(rec, rec2) {
		t.Error("sealing twice gave the same record: the nonce is not random")
	}
}

func keys(m map[string]json.RawMessage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// A record opens only with its key, unchanged: another key, a flipped
// byte of the sealed part or nonce, a header changed or taken from
// another record, a nonce of another size or garbage are each an error,
// never a panic.
func TestSealedRecordRefusesTampering(t *testing.T) {
	s := planned(t)
	k := key(7)
	rec, err := sealState(k, s)
	if err != nil {
		t.Fatal(err)
	}
	var r sealed
	if err := json.Unmarshal(rec, &r); err != nil {
		t.Fatal(err)
	}
	remarshal := func(f func(r *sealed)) []byte {
		c := sealed{Header: bytes.Clone(r.Header), Nonce: bytes.Clone(r.Nonce), Box: bytes.Clone(r.Box)}
		f(&c)
		b, _ := json.Marshal(c)
		return b
	}
	ended := *s
	ended.Ended = time.Now().UTC()
	other, _ := sealState(k, &ended)
	var or sealed
	_ = json.Unmarshal(other, &or)
	cases := []struct {
		name string
		rec  []byte
		key  []byte
		want string
	}{
		{"wrong key", rec, key(8), "does not open with the key"},
		{"flipped sealed byte", remarshal(func(r *sealed) { r.Box[len(r.Box)/2] ^= 1 }), k, "does not open with the key"},
		{"flipped tag byte", remarshal(func(r *sealed) { r.Box[len(r.Box)-1] ^= 0x80 }), k, "does not open with the key"},
		{"flipped nonce byte", remarshal(func(r *sealed) { r.Nonce[0] ^= 1 }), k, "does not open with the key"},
		{"header's pid changed", remarshal(func(r *sealed) {
			h := bytes.Replace(r.Header, []byte(`"pid":4242`), []byte(`"pid":4243`), 1)
			if bytes.Equal(h, r.Header) {
				t.Fatalf("no pid in the header %s", r.Header)
			}
			r.Header = h
		}), k, "does not open with the key"},
		{"header of another record", remarshal(func(r *sealed) { r.Header = or.Header }), k, "does not open with the key"},
		{"short nonce", remarshal(func(r *sealed) { r.Nonce = r.Nonce[:4] }), k, "damaged"},
		{"no nonce", remarshal(func(r *sealed) { r.Nonce = nil }), k, "damaged"},
		{"garbage", []byte("{not json"), k, "reading the game day's record"},
		{"a plain state", func() []byte { b, _ := json.Marshal(s); return b }(), k, "no sealed state"},
	}
	if _, err := openRecord(rec, with(k)); err != nil {
		t.Fatalf("the untouched record does not open: %v", err)
	}
	if _, err := openRecord(other, with(k)); err != nil {
		t.Fatalf("the other record does not open: %v", err)
	}
	for _, c := range cases {
		got, err := openRecord(c.rec, with(c.key))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v (state %v), want an error saying %q", c.name, err, got != nil, c.want)
		}
	}
}

// The key file is its owner's alone from its creation, never replaced,
// and what Load reads; without it the error names the game day and the
// file.
func TestKeyFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "reports")
	abc, def, bad := Files{Dir: dir, ID: "abc123"}, Files{Dir: dir, ID: "def456"}, Files{Dir: dir, ID: "bad"}
	k, err := newKey(abc)
	if err != nil {
		t.Fatal(err)
	}
	p := abc.Key()
	st, err := os.Stat(p)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file %s: %v, mode %v", p, err, st.Mode())
	}
	if bytes.Equal(k, make([]byte, keySize)) || len(k) != keySize {
		t.Fatalf("key %x is not a drawn AES-256 key", k)
	}
	got, err := readKey(Header{ID: "abc123", Dir: dir})
	if err != nil || !bytes.Equal(got, k) {
		t.Fatalf("read back %x (%v), want %x", got, err, k)
	}
	if _, err := newKey(abc); err == nil {
		t.Error("a second key for the same game day replaced the first")
	}
	if got, _ := readKey(Header{ID: "abc123", Dir: dir}); !bytes.Equal(got, k) {
		t.Error("the key file changed after a refused second key")
	}

	var ke *KeyError
	_, err = readKey(Header{ID: "def456", Dir: dir})
	if !errors.As(err, &ke) || ke.Path != def.Key() || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("no key file: %v", err)
	}
	want := "only the facilitator who started game day def456 can read its truth: " + def.Key() + " is not readable (no such file or directory)"
	if err.Error() != want {
		t.Errorf("error:\n%s\nwant\n%s", err, want)
	}
	_ = os.WriteFile(bad.Key(), []byte("not hex\n"), 0o600)
	if _, err := readKey(Header{ID: "bad", Dir: dir}); !errors.As(err, &ke) || !strings.Contains(err.Error(), "not a game day key") {
		t.Errorf("garbled key file: %v", err)
	}
	// Through the record, as Load opens it: the key is found from the
	// header, and a player without it gets the KeyError.
	s := planned(t)
	s.Dir = dir
	s.ID = "abc123"
	rec, _ := sealState(k, s)
	if back, err := openRecord(rec, readKey); err != nil || back.Faults[0].Tag != s.Faults[0].Tag {
		t.Errorf("opening with the key file: %v", err)
	}
	if os.Geteuid() != 0 {
		_ = os.Chmod(p, 0o200)
		if _, err := openRecord(rec, readKey); !errors.As(err, &ke) || !errors.Is(err, os.ErrPermission) {
			t.Errorf("key file not readable: %v", err)
		}
	}
	os.Remove(p)
	if _, err := openRecord(rec, readKey); !errors.As(err, &ke) {
		t.Errorf("key file gone: %v", err)
	}
}
