package gameday

import "testing"

// The files are named as docs/gameday.md and the commands' output tell the
// facilitator, all in the game day's directory.
func TestFiles(t *testing.T) {
	f := (&Header{ID: "abc123", Dir: "/r"}).Files()
	for got, want := range map[string]string{
		f.Key(): "/r/gameday-abc123.key", f.Sealed(): "/r/gameday-abc123.sealed.json", f.Log(): "/r/gameday-abc123.log",
		f.Text(): "/r/gameday-abc123.txt", f.JSON(): "/r/gameday-abc123.json", f.HTML(): "/r/gameday-abc123.html",
	} {
		if got != want {
			t.Errorf("%s, want %s", got, want)
		}
	}
}
