package cluster

import (
	"errors"
	"fmt"
	"sync"
)

// Parallel runs fn for each of the parties at once and returns their
// errors joined in the order of parties, each prefixed with its party:
// on 13 parties a sequential loop over containers is 13 times slower.
func Parallel(parties []int, fn func(i int) error) error {
	errs := make([]error, len(parties))
	var wg sync.WaitGroup
	for k, i := range parties {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(i); err != nil {
				errs[k] = fmt.Errorf("party %d: %w", i, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// EachParty runs fn for every party of the cluster at once (see Parallel).
func (c *Cluster) EachParty(fn func(i int) error) error {
	return Parallel(c.Topology.Parties(), fn)
}
