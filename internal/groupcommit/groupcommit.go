// Package groupcommit gathers the requests of many goroutines into groups:
// for one writer goroutine (Gatherer), which then pays one commit (one fsync)
// per group instead of one per request, or into batches that a Sender sends
// from a few goroutines (one HTTP exchange per batch).
package groupcommit

import "time"

// Gatherer hands its writer the requests queued on a channel, a group at a
// time. Only the writer goroutine may call Next.
type Gatherer[T any] struct {
	reqs <-chan T
	max  int
	wait time.Duration
	// timer bounds a wait; kept so that a wait allocates nothing.
	timer *time.Timer
	// busy is set when the last group held several requests: requests are
	// arriving together, and more are likely on their way.
	busy bool
}

// New gathers the requests of reqs into groups of at most max. With wait > 0,
// a group is held open for up to wait for more requests when the group
// before held several: a writer under a steady stream of requests then
// commits fewer, larger groups, while a lone request is never held.
func New[T any](reqs <-chan T, max int, wait time.Duration) *Gatherer[T] {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &Gatherer[T]{reqs: reqs, max: max, wait: wait, timer: t}
}

// Next blocks until a request arrives and returns it with those queued behind
// it (and, when busy, those arriving within the wait). ok is false once reqs
// is closed and drained. The wait delays the answers to the group's
// requests, never what the writer promises each of them.
func (g *Gatherer[T]) Next() (group []T, ok bool) {
	r, ok := <-g.reqs
	if !ok {
		return nil, false
	}
	group = append(group, r)
	for len(group) < g.max {
		select {
		case r, ok := <-g.reqs:
			if !ok {
				return group, true
			}
			group = append(group, r)
			continue
		default:
		}
		break
	}
	if g.busy && g.wait > 0 && len(group) < g.max {
		g.timer.Reset(g.wait)
	wait:
		for len(group) < g.max {
			select {
			case r, ok := <-g.reqs:
				if !ok {
					break wait
				}
				group = append(group, r)
			case <-g.timer.C:
				break wait
			}
		}
		g.timer.Stop()
	}
	g.busy = len(group) > 1
	return group, true
}
