package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync/atomic"

	"github.com/custoskms/custos/internal/groupcommit"
)

// The daemon submits many transactions at once, each from its own
// goroutine. Each broadcast on its own request costs the daemon and the API
// one HTTP exchange, one authentication and one round of JSON per
// transaction; gathered, the broadcasts that arrive while a batch request is
// in flight go together in the next one (POST /v3/{slug}/broadcast/batch). A
// broadcast arriving when none is in flight is sent at once, alone: nothing
// waits for company.
//
// The API processes a batch's items in order, each as the single route
// would. The daemon hands a transaction to Broadcast only after its sender's
// previous one was submitted (process, place.wait), so two transactions of
// one sender are never in one batch, nor in two batches in flight.

const (
	// maxBatch is the most items the API takes in one batch request.
	maxBatch = 256
	// maxBatchTxData bounds the signed transactions' bytes in one batch
	// request, so that a batch of large transactions stays under the API's
	// body cap; one transaction larger than this goes alone. An API that
	// still answers 413 gets the batch's transactions one at a time.
	maxBatchTxData = 2 << 20
	// batchSenders is how many batch requests of one slug are in flight at
	// once. One would make the largest batches, but the API takes a batch's
	// items in order, waiting for its store and the node on each: with one
	// batch in flight, those waits add up and one core of the API works.
	// Two cost little more CPU per transaction (BENCHMARKS.md).
	batchSenders = 2
)

// errNoBatch tells Broadcast to send its transaction on the single route:
// the API has no batch route (404, 405), or refused the batch as too large.
var errNoBatch = errors.New("batch broadcast not taken")

// broadcastPath is the single broadcast route of slug.
func broadcastPath(slug string) string { return "/v3/" + url.PathEscape(slug) + "/broadcast" }

// Broadcast implements API. Concurrent calls for one slug are gathered into
// batch requests (see above), unless SingleBroadcasts is set or the API has
// no batch route; either way the call answers as the single route would: the
// chain's txId, or the *HTTPError of the API's answer for this transaction.
func (c *Client) Broadcast(ctx context.Context, slug, txData, id string) (string, error) {
	if c.SingleBroadcasts || c.noBatchRoute.Load() {
		return c.broadcastOne(ctx, slug, txData, id)
	}
	b := c.batcher(slug)
	var txID string
	// A failure of the whole batch request was retried by the request
	// itself; one item's temporary failure (a node unavailable: 502) is
	// retried here, as the single route's would be.
	err := c.retrying(ctx, http.MethodPost, broadcastPath(slug), itemTemporary, func() (err error) {
		txID, err = b.submit(ctx, txData, id)
		return err
	})
	if errors.Is(err, errNoBatch) {
		return c.broadcastOne(ctx, slug, txData, id)
	}
	if ie := (itemError{}); errors.As(err, &ie) {
		err = ie.HTTPError // what the single route would have answered
	}
	return txID, err
}

// itemError is the API's error answer for one item of a batch.
type itemError struct{ *HTTPError }

func (e itemError) Unwrap() error { return e.HTTPError }

func itemTemporary(err error) bool {
	ie := itemError{}
	return errors.As(err, &ie) && ie.Temporary()
}

func (c *Client) batcher(slug string) *batcher {
	c.batchMu.Lock()
	defer c.batchMu.Unlock()
	b := c.batchers[slug]
	if b == nil {
		if c.batchers == nil {
			c.batchers = map[string]*batcher{}
		}
		b = &batcher{slug: slug}
		b.sender = groupcommit.NewSender(batchSenders, takeBroadcasts,
			func(group []*broadcastCall) { c.broadcastBatch(slug, group) })
		c.batchers[slug] = b
	}
	return b
}

// batcher gathers the broadcasts of one slug into batch requests, sent by at
// most batchSenders goroutines at once.
type batcher struct {
	slug   string
	sender *groupcommit.Sender[*broadcastCall]
}

// broadcastCall is one Broadcast waiting for its item's answer.
type broadcastCall struct {
	ctx        context.Context
	txData, id string
	done       chan struct{} // closed when txID or err is set
	txID       string
	err        error
}

// submit queues one transaction and waits for its answer.
func (b *batcher) submit(ctx context.Context, txData, id string) (string, error) {
	call := &broadcastCall{ctx: ctx, txData: txData, id: id, done: make(chan struct{})}
	b.sender.Queue(call)
	select {
	case <-call.done:
		return call.txID, call.err
	case <-ctx.Done():
		select {
		case <-call.done:
			return call.txID, call.err
		default:
		}
		return "", fmt.Errorf("%s %s: %w", http.MethodPost, broadcastPath(b.slug), ctx.Err())
	}
}

// takeBroadcasts is the next batch at the head of queue: at most maxBatch
// calls, maxBatchTxData bytes of signed data, and no id twice. A call whose
// caller is gone is consumed without being sent, as a single call would not
// be.
func takeBroadcasts(queue []*broadcastCall) ([]*broadcastCall, int) {
	var (
		group []*broadcastCall
		ids   = map[string]bool{}
		size  int
		n     int
	)
	for ; n < len(queue) && len(group) < maxBatch; n++ {
		call := queue[n]
		if call.ctx.Err() != nil {
			continue
		}
		// The API refuses a batch naming an id twice: the second waits.
		if len(group) > 0 && (size+len(call.txData) > maxBatchTxData || ids[call.id]) {
			break
		}
		group = append(group, call)
		ids[call.id] = true
		size += len(call.txData)
	}
	return group, n
}

// batchItem is one transaction of a batch request.
type batchItem struct {
	TxData      string `json:"txData"`
	SignatureID string `json:"signatureId"`
}

// batchAnswer is the API's answer to a batch request: one result per item,
// in order. Its size is bounded by the number of items asked.
type batchAnswer struct {
	Results []batchResult `json:"results"`
	items   int
}

type batchResult struct {
	SignatureID string     `json:"signatureId"`
	TxID        string     `json:"txId"`
	Completed   bool       `json:"completed"`
	Error       *errorBody `json:"error"`
}

// maxAnswer allows each item as much as an error answer of the single route
// may carry, and as much again for the envelope.
func (a *batchAnswer) maxAnswer() int64 { return int64(a.items+1) * maxErrorBody }

// broadcastBatch sends group in one batch request and answers each call.
func (c *Client) broadcastBatch(slug string, group []*broadcastCall) {
	ctx, stop := anyLeft(group)
	defer stop()
	body := struct {
		Transactions []batchItem `json:"transactions"`
	}{make([]batchItem, len(group))}
	for i, call := range group {
		body.Transactions[i] = batchItem{TxData: call.txData, SignatureID: call.id}
	}
	path := broadcastPath(slug) + "/batch"
	ans := batchAnswer{items: len(group)}
	err := errNoBatch // the API answered an earlier batch that it has no such route
	if !c.noBatchRoute.Load() {
		err = c.do(ctx, http.MethodPost, path, body, &ans)
	}
	if he := (*HTTPError)(nil); errors.As(err, &he) {
		switch he.Status {
		case http.StatusNotFound, http.StatusMethodNotAllowed:
			if !c.noBatchRoute.Swap(true) {
				c.logger().Info("the API has no batch broadcast route: one request per transaction", "path", path)
			}
			err = errNoBatch
		case http.StatusRequestEntityTooLarge:
			err = errNoBatch
		}
	}
	if err == nil {
		err = ans.check(group, path)
	}
	for i, call := range group {
		if err != nil {
			call.err = err
		} else {
			call.txID, call.err = ans.Results[i].result(slug, path)
		}
		close(call.done)
	}
}

// check reports an answer that does not hold exactly one result per item,
// each under its item's id, in the items' order: none of its results is
// trusted then. (The ids of a batch are distinct, so a reordered answer
// fails too.) The error is the single route's for an answer it cannot read:
// no retry of the same answer heals it, and it is never a success.
func (a *batchAnswer) check(group []*broadcastCall, path string) error {
	if len(a.Results) != len(group) {
		return badBatch(path, fmt.Sprintf("%d results for %d transactions", len(a.Results), len(group)))
	}
	for i, r := range a.Results {
		if r.SignatureID != group[i].id {
			return badBatch(path, fmt.Sprintf("result %d is not for transaction %d", i, i))
		}
	}
	return nil
}

// result is one item's txId, or the error the single route would have
// answered for it. A result that is neither a completion nor an API error
// fails as an unreadable answer would.
func (r batchResult) result(slug, path string) (string, error) {
	switch {
	case r.Error != nil && r.Error.StatusCode >= 400 && r.Error.StatusCode <= 599 && r.TxID == "":
		return "", itemError{r.Error.httpError(http.MethodPost, broadcastPath(slug), r.Error.StatusCode)}
	case r.Error != nil || r.TxID == "" || !r.Completed:
		return "", badBatch(path, "a result is neither a completion nor an error")
	}
	return r.TxID, nil
}

func badBatch(path, why string) error {
	return fmt.Errorf("%s %s: %w: %s", http.MethodPost, path, errBadAnswer, why)
}

// anyLeft is the context of a batch request: it ends when every call's
// context has ended, so that the request carries on while any caller waits.
func anyLeft(group []*broadcastCall) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(group[0].ctx))
	var left atomic.Int64
	left.Store(int64(len(group)))
	stops := make([]func() bool, len(group))
	for i, call := range group {
		stops[i] = context.AfterFunc(call.ctx, func() {
			if left.Add(-1) == 0 {
				cancel()
			}
		})
	}
	return ctx, func() {
		for _, s := range stops {
			s()
		}
		cancel()
	}
}
