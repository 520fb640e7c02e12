package env

import (
	"hash/fnv"
	mrand "math/rand/v2"
)

// Rand returns a generator for one named use, derived from the run's seed:
// the same seed gives every spec the same choices, whatever runs before it.
func Rand(name string) *mrand.Rand { return RandFor(Current().Seed, name) }

// RandFor is Rand for a given seed: what the command line uses to make
// the suite's choices for the same seed.
func RandFor(seed uint64, name string) *mrand.Rand {
	h := fnv.New64a()
	h.Write([]byte(name))
	return mrand.New(mrand.NewPCG(seed, h.Sum64()))
}
