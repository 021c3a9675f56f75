package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/custoskms/custos/approval"
)

// errAskAlone tells a waiting request to ask the service alone: its batch
// was answered with a status other than 200 (docs/design.md §6.3).
var errAskAlone = errors.New("approval: ask alone")

// approvalBatcher gathers the v2 requests of the daemon's workers into batch
// requests (POST {url}/batch), the way groupcommit gathers writes: while
// fewer than inFlight requests are in flight a request goes at once (alone,
// as a single request), and the requests asked meanwhile wait to go
// together in the next one. A lone request is never held, and a busy daemon
// pays the service's per-request cost (its HTTP exchange, its MAC, its
// store write and audit append) once per batch.
type approvalBatcher struct {
	a        *Approver
	inFlight int

	mu sync.Mutex // guards the fields below
	// queue holds the requests waiting for a batch. It is empty unless
	// inFlight requests are in flight: the one to end hands it on.
	queue []*asking
	busy  int // requests in flight
	// alone is set once the service answered a batch 404 or 405: it has no
	// batch form, and every request goes alone for the life of the process.
	alone bool
}

// asking is one request waiting for its answer.
type asking struct {
	ctx  context.Context
	req  approval.Request
	body []byte // req as sent alone
	// Set before done is closed.
	resp approval.Response
	err  error
	done chan struct{}
}

func newApprovalBatcher(a *Approver, inFlight int) *approvalBatcher {
	if inFlight <= 0 {
		inFlight = DefaultApprovalsInFlight
	}
	return &approvalBatcher{a: a, inFlight: inFlight}
}

// ask returns the service's signed answer to req, or an error wrapping
// ErrNotApproved; errAskAlone when req must be asked alone (single).
func (b *approvalBatcher) ask(ctx context.Context, req approval.Request) (approval.Response, error) {
	b.mu.Lock()
	alone := b.alone
	b.mu.Unlock()
	if alone {
		return approval.Response{}, errAskAlone
	}
	body, err := json.Marshal(req)
	if err != nil {
		return approval.Response{}, fmt.Errorf("%w: %v", ErrNotApproved, err)
	}
	c := &asking{ctx: ctx, req: req, body: body, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, c)
	var group []*asking
	if b.busy < b.inFlight {
		// The queue was empty: the group is c alone.
		b.busy++
		group = b.take()
	}
	b.mu.Unlock()
	if group != nil {
		b.run(group)
	}
	select {
	case <-c.done:
		return c.resp, c.err
	case <-ctx.Done():
		// Its batch may still be answered: the answer is dropped.
		return approval.Response{}, fmt.Errorf("%w: %v", ErrNotApproved, ctx.Err())
	}
}

// take removes the next batch from the queue: at most approval.MaxBatch
// requests whose bodies fit approval.MaxBatchRequestBytes (a first
// request too large to share it goes alone). b.mu is held.
func (b *approvalBatcher) take() []*asking {
	n, size := 0, len(`{"version":2,"requests":[]}`)
	for n < len(b.queue) && n < approval.MaxBatch {
		size += len(b.queue[n].body) + 1
		if n > 0 && size > approval.MaxBatchRequestBytes {
			break
		}
		n++
	}
	group := make([]*asking, n)
	copy(group, b.queue)
	old := len(b.queue)
	b.queue = append(b.queue[:0], b.queue[n:]...)
	clear(b.queue[len(b.queue):old]) // no answered request kept reachable
	return group
}

// run sends group, then hands the requests queued meanwhile to a new
// goroutine, or ends its turn in flight: the caller that ran it has its
// answer and goes on with its transaction.
func (b *approvalBatcher) run(group []*asking) {
	b.send(group)
	b.mu.Lock()
	var next []*asking
	if len(b.queue) > 0 {
		next = b.take()
	} else {
		b.busy--
	}
	b.mu.Unlock()
	if next != nil {
		go b.run(next)
	}
}

// send asks about group, alone or as a batch, and closes each one's done.
func (b *approvalBatcher) send(group []*asking) {
	defer func() {
		for _, c := range group {
			close(c.done)
		}
	}()
	// Those that have given up are not asked about; the batch goes with the
	// context of one still waiting.
	live := group[:0:0]
	for _, c := range group {
		if err := c.ctx.Err(); err != nil {
			c.err = fmt.Errorf("%w: %v", ErrNotApproved, err)
		} else {
			live = append(live, c)
		}
	}
	b.mu.Lock()
	alone := b.alone
	b.mu.Unlock()
	switch {
	case len(live) == 0:
		return
	case alone:
		for _, c := range live {
			c.err = errAskAlone
		}
		return
	case len(live) == 1:
		c := live[0]
		c.resp, c.err = b.a.single(c.ctx, c.req, c.body)
		return
	}
	// Every item carries the header's timestamp: one asked in an earlier
	// second is stamped again.
	ts := b.a.Now().Unix()
	reqs := make([]approval.Request, len(live))
	body := bytes.NewBufferString(`{"version":2,"requests":[`)
	for i, c := range live {
		if c.req.Timestamp != ts {
			c.req.Timestamp = ts
			var err error
			if c.body, err = json.Marshal(c.req); err != nil {
				for _, c := range live {
					c.err = fmt.Errorf("%w: %v", ErrNotApproved, err)
				}
				return
			}
		}
		if i > 0 {
			body.WriteByte(',')
		}
		body.Write(c.body)
		reqs[i] = c.req
	}
	body.WriteString("]}")
	resp, err := b.a.send(live[0].ctx, approval.BatchSegment, http.MethodPost, ts, body.Bytes())
	if err != nil {
		for _, c := range live {
			c.err = err
		}
		return
	}
	res, err := approval.ReadBatchResponse(b.a.secret, resp, reqs, b.a.Now(), b.a.maxAge)
	var se *approval.StatusError
	if errors.As(err, &se) {
		// Not an answer to the batch: each asks alone, as before batches.
		if se.NoBatch() {
			b.mu.Lock()
			b.alone = true
			b.mu.Unlock()
		}
		for _, c := range live {
			c.err = errAskAlone
		}
		return
	}
	for i, c := range live {
		switch {
		case err != nil:
			c.err = fmt.Errorf("%w: %w", ErrNotApproved, err)
		case res[i].Err != nil:
			c.err = fmt.Errorf("%w: %w", ErrNotApproved, res[i].Err)
		default:
			c.resp = res[i].Response
		}
	}
}
