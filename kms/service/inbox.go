package service

import (
	"context"
	"sync"
	"time"

	"github.com/kmschaos/kmschaos/kms/prss"
)

// inboxTTL bounds how long messages for an epoch this party never set up
// are kept.
const inboxTTL = 10 * time.Minute

// prssInbox buffers the PRSS set-up messages of peers: kms-init reaches the
// parties one after another, so a peer's contributions often arrive before
// this party has started its own set-up.
type prssInbox struct {
	mu    sync.Mutex
	boxes map[string]*epochBox
}

type epochBox struct {
	mu            sync.Mutex
	created       time.Time
	contributions map[int]map[prss.Set][prss.KeyLen]byte
	confirms      map[int][]byte
	changed       chan struct{} // closed and replaced on every arrival
	err           error
}

func newPrssInbox() *prssInbox { return &prssInbox{boxes: map[string]*epochBox{}} }

func (in *prssInbox) box(epoch string) *epochBox {
	in.mu.Lock()
	defer in.mu.Unlock()
	for id, b := range in.boxes {
		if time.Since(b.created) > inboxTTL {
			delete(in.boxes, id)
		}
	}
	b, ok := in.boxes[epoch]
	if !ok {
		b = &epochBox{created: time.Now(), contributions: map[int]map[prss.Set][prss.KeyLen]byte{}, confirms: map[int][]byte{}, changed: make(chan struct{})}
		in.boxes[epoch] = b
	}
	return b
}

func (in *prssInbox) open(epoch string) *epochBox { return in.box(epoch) }

func (in *prssInbox) close(epoch string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	delete(in.boxes, epoch)
}

func (in *prssInbox) addContribution(epoch string, from int, c map[prss.Set][prss.KeyLen]byte) {
	b := in.box(epoch)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.contributions[from] = c
	b.notify()
}

func (in *prssInbox) addConfirmation(epoch string, from int, d []byte) {
	b := in.box(epoch)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.confirms[from] = d
	b.notify()
}

func (b *epochBox) notify() {
	close(b.changed)
	b.changed = make(chan struct{})
}

// takeContributions hands over the contributions received so far.
func (b *epochBox) takeContributions() map[int]map[prss.Set][prss.KeyLen]byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.contributions
	b.contributions = map[int]map[prss.Set][prss.KeyLen]byte{}
	return out
}

func (b *epochBox) confirmations() map[int][]byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[int][]byte, len(b.confirms))
	for k, v := range b.confirms {
		out[k] = v
	}
	return out
}

func (b *epochBox) fail(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err == nil {
		b.err = err
	}
}

// wait calls missing after every arrival until it returns nothing, the box
// failed, or ctx ends.
func (b *epochBox) wait(ctx context.Context, missing func() []int) error {
	for {
		b.mu.Lock()
		changed := b.changed
		b.mu.Unlock()
		left := missing()
		b.mu.Lock()
		err := b.err
		b.mu.Unlock()
		if err != nil {
			return err
		}
		if len(left) == 0 {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
