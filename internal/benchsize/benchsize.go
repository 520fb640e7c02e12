// Package benchsize reads which cluster sizes the benchmarks run at, so
// that `make bench` can measure cost as n grows and still be run at one
// size while working: BENCH_N="4 13" runs n=4 and n=13 only.
package benchsize

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Env is the variable that selects the sizes.
const Env = "BENCH_N"

// Default is every size the table of docs/performance.md reports.
var Default = []int{4, 7, 10, 13, 16}

// Size is one cluster size with its threshold, t = (n-1)/3.
type Size struct{ N, T int }

// Name is the sub-benchmark's name, "n=13".
func (s Size) Name() string { return fmt.Sprintf("n=%d", s.N) }

// Sizes returns the sizes BENCH_N names (spaces or commas between them),
// or Default when it is unset or blank. A size that is not a number, or
// not of the form 3t+1 with t ≥ 1 that the parties accept, is an error
// naming it.
func Sizes() ([]Size, error) { return Parse(os.Getenv(Env)) }

// Parse is Sizes for a given value of BENCH_N.
func Parse(v string) ([]Size, error) {
	fields := strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' })
	if len(fields) == 0 {
		out := make([]Size, len(Default))
		for k, n := range Default {
			out[k] = Size{n, (n - 1) / 3}
		}
		return out, nil
	}
	var out []Size
	for _, f := range fields {
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%s=%q: %q is not a number of parties", Env, v, f)
		}
		if n < 4 || (n-1)%3 != 0 {
			return nil, fmt.Errorf("%s=%q: n=%d is not 3t+1 for a threshold t ≥ 1 (4, 7, 10, 13, 16, ...)", Env, v, n)
		}
		out = append(out, Size{n, (n - 1) / 3})
	}
	return out, nil
}
