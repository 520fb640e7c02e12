package cluster

import "testing"

func TestFirstDifferenceNamesThePath(t *testing.T) {
	base := []string{"0600 10001 abc /k/PRIV-p1/FheKeyInfo/x", "0600 10001 def /k/PUB-p1/PublicKey/x"}
	cases := []struct {
		got  []string
		want string
	}{
		{[]string{base[0], "0600 10001 fff /k/PUB-p1/PublicKey/x"}, "changed or missing /k/PUB-p1/PublicKey/x"},
		{[]string{base[0]}, "changed or missing /k/PUB-p1/PublicKey/x"},
		{append(append([]string{}, base...), "0600 10001 123 /k/extra"), "unexpected /k/extra"},
		{[]string{base[1], base[0]}, "order"},
	}
	for _, c := range cases {
		if got := firstDifference(base, c.got); got != c.want {
			t.Errorf("firstDifference(%q) = %q, want %q", c.got, got, c.want)
		}
	}
}
