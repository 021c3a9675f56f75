package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/custoskms/custos/approval"
	"github.com/custoskms/custos/internal/groupcommit"
)

// errAskAlone tells a waiting request to ask the service alone: its batch
// was answered with a status other than 200 (docs/design.md §6.3).
var errAskAlone = errors.New("approval: ask alone")

// approvalBatcher gathers the v2 requests of the daemon's workers into batch
// requests (POST {url}/batch) through a groupcommit.Sender: while fewer than
// inFlight requests are in flight a request goes at once (alone, as a single
// request), and the requests asked meanwhile wait to go together in the next
// one. A lone request is never held, and a busy daemon pays the service's
// per-request cost (its HTTP exchange, its MAC, its store write and audit
// append) once per batch.
type approvalBatcher struct {
	a      *Approver
	sender *groupcommit.Sender[*asking]

	mu sync.Mutex // guards alone
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
	b := &approvalBatcher{a: a}
	b.sender = groupcommit.NewSender(inFlight, takeApprovals, b.send)
	return b
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
	c := newAsking(ctx, req)
	b.sender.Queue(c)
	select {
	case <-c.done:
		return c.resp, c.err
	case <-ctx.Done():
		// Its batch may still be answered: the answer is dropped.
		return approval.Response{}, fmt.Errorf("%w: %v", ErrNotApproved, ctx.Err())
	}
}

// newAsking is req waiting to be asked, with its body as sent alone.
func newAsking(ctx context.Context, req approval.Request) *asking {
	// Room for the transaction (a few escapes) and the rest of the request
	// (its intent: a few hundred bytes), so that the body grows once.
	body := make([]byte, 0, len(req.SerializedTransaction)*9/8+768)
	return &asking{ctx: ctx, req: req, body: approval.AppendRequest(body, &req), done: make(chan struct{})}
}

// takeApprovals is the next batch at the head of queue: at most
// approval.MaxBatch requests whose bodies fit approval.MaxBatchRequestBytes
// (a first request too large to share it goes alone).
func takeApprovals(queue []*asking) ([]*asking, int) {
	n, size := 0, len(`{"version":2,"requests":[]}`)
	for n < len(queue) && n < approval.MaxBatch {
		size += len(queue[n].body) + 1
		if n > 0 && size > approval.MaxBatchRequestBytes {
			break
		}
		n++
	}
	return append([]*asking(nil), queue[:n]...), n
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
	size := len(`{"version":2,"requests":[]}`)
	for _, c := range live {
		size += len(c.body) + 1
	}
	body := make([]byte, 0, size)
	body = append(body, `{"version":2,"requests":[`...)
	for i, c := range live {
		if i > 0 {
			body = append(body, ',')
		}
		if c.req.Timestamp != ts {
			c.req.Timestamp = ts
			// Encoded into the batch's body directly, and kept as sent.
			start := len(body)
			body = approval.AppendRequest(body, &c.req)
			c.body = body[start:len(body):len(body)]
		} else {
			body = append(body, c.body...)
		}
		reqs[i] = c.req
	}
	body = append(body, "]}"...)
	resp, err := b.a.send(live[0].ctx, approval.BatchSegment, http.MethodPost, ts, body)
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
