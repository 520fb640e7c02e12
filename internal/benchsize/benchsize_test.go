package benchsize

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	all := []Size{{4, 1}, {7, 2}, {10, 3}, {13, 4}, {16, 5}}
	for _, c := range []struct {
		in   string
		want []Size
	}{{"", all}, {"  ", all}, {"4 13", []Size{{4, 1}, {13, 4}}}, {"16,7", []Size{{16, 5}, {7, 2}}}} {
		got, err := Parse(c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Fatalf("Parse(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	// Sizes the parties refuse are refused here, naming the offending text.
	for _, c := range []struct{ in, want string }{
		{"4 twelve", `"twelve" is not a number`},
		{"12", "n=12 is not 3t+1"},
		{"1", "n=1 is not 3t+1"},
		{"-2", "n=-2 is not 3t+1"},
	} {
		if _, err := Parse(c.in); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("Parse(%q) = %v, want an error containing %q", c.in, err, c.want)
		}
	}
}
