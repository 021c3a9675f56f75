package groupcommit

import "sync"

// Sender sends what many goroutines queue in batches, from at most inFlight
// goroutines at once: an item queued while fewer are sending starts one at
// once, so a lone item is never held; the items queued while they are all
// busy go together in a next batch. Unlike a Gatherer's writer, several
// batches may be on their way at once, and send answers each item itself
// (the daemon's approval requests and broadcasts: one HTTP exchange per
// batch instead of one per item).
type Sender[T any] struct {
	inFlight int
	take     func(queue []T) (batch []T, n int)
	send     func(batch []T)

	mu      sync.Mutex // guards queue and sending
	queue   []T
	sending int
}

// NewSender returns a Sender whose batches are sent by send. take chooses the
// next batch from the head of the queue: it returns the batch, in a slice of
// its own, and how many of the queue's first items it consumed (at least
// one; an item it consumed without putting it in the batch is dropped, as
// one whose caller has gone).
func NewSender[T any](inFlight int, take func(queue []T) (batch []T, n int), send func(batch []T)) *Sender[T] {
	return &Sender[T]{inFlight: max(1, inFlight), take: take, send: send}
}

// Queue adds item to the next batch; send answers it.
func (s *Sender[T]) Queue(item T) {
	s.mu.Lock()
	s.queue = append(s.queue, item)
	start := s.sending < s.inFlight
	if start {
		s.sending++
	}
	s.mu.Unlock()
	if start {
		go s.run()
	}
}

// run sends batches until the queue is empty.
func (s *Sender[T]) run() {
	for {
		batch := s.next()
		if batch == nil {
			return
		}
		s.send(batch)
	}
}

// next takes the next batch off the queue; when there is none, this sender
// stops, under the lock, so that an item queued meanwhile starts another.
func (s *Sender[T]) next() []T {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.queue) > 0 {
		batch, n := s.take(s.queue)
		n = min(max(n, 1), len(s.queue))
		old := len(s.queue)
		s.queue = append(s.queue[:0], s.queue[n:]...)
		clear(s.queue[len(s.queue):old]) // nothing taken is kept reachable
		if len(batch) > 0 {
			return batch
		}
	}
	s.sending--
	return nil
}

// Queued is how many items wait for a batch.
func (s *Sender[T]) Queued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}
