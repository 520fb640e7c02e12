package service

import "sync"

// job is one asynchronous piece of work: Start returns at once, Get*Result
// waits for done.
type job[T any] struct {
	done chan struct{}
	res  T
	err  error

	collected chan struct{} // closed once a client has read the result
	collect   sync.Once
}

// taken marks the finished result as read by a client.
func (j *job[T]) taken() { j.collect.Do(func() { close(j.collected) }) }

func (j *job[T]) finish(res T, err error) {
	j.res, j.err = res, err
	close(j.done)
}

func (j *job[T]) finished() bool {
	select {
	case <-j.done:
		return true
	default:
		return false
	}
}

// jobTable keeps the most recent jobs by request id, evicting the oldest
// finished ones beyond its capacity.
type jobTable[T any] struct {
	mu    sync.Mutex
	cap   int
	jobs  map[string]*job[T]
	order []string
}

func newJobTable[T any](capacity int) *jobTable[T] {
	return &jobTable[T]{cap: capacity, jobs: map[string]*job[T]{}}
}

// add registers a new job under id; false if the id is taken (unless
// replace says the existing job may be replaced).
func (t *jobTable[T]) add(id string, replace func(*job[T]) bool) (*job[T], bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if old, ok := t.jobs[id]; ok && (replace == nil || !replace(old)) {
		return old, false
	}
	j := &job[T]{done: make(chan struct{}), collected: make(chan struct{})}
	if _, ok := t.jobs[id]; !ok {
		t.order = append(t.order, id)
	}
	t.jobs[id] = j
	for len(t.order) > t.cap {
		oldest := t.jobs[t.order[0]]
		if !oldest.finished() {
			break
		}
		delete(t.jobs, t.order[0])
		t.order = t.order[1:]
	}
	return j, true
}

func (t *jobTable[T]) get(id string) (*job[T], bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	j, ok := t.jobs[id]
	return j, ok
}

// unfinished lists the jobs still running.
func (t *jobTable[T]) unfinished() []*job[T] {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []*job[T]
	for _, j := range t.jobs {
		if !j.finished() {
			out = append(out, j)
		}
	}
	return out
}
