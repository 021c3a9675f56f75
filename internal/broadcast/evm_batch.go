package broadcast

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/ethereum/go-ethereum/common"
)

var _ BatchBroadcaster = (*EVMClient)(nil)

// BroadcastBatch submits the signed transactions as one JSON-RPC batch (a
// JSON array of eth_sendRawTransaction calls, which geth, its forks and
// ganache take) and answers for each what Broadcast would have. One HTTP
// exchange instead of one per transaction is most of what a broadcast costs
// the server and the node.
//
// The node's answer is untrusted: answers are matched to calls by id, an
// item whose answer is missing, repeated or garbled is ErrUnavailable (never
// a success), and an answer with more entries than calls, or that is cut or
// not JSON, leaves every item ErrUnavailable. A node that answers the array
// with something else than an array (one error object: nodes and gateways
// that take no batches) is asked once per transaction instead, in order.
func (c *EVMClient) BroadcastBatch(ctx context.Context, txData []string) []Result {
	out := make([]Result, len(txData))
	hashes := make([]common.Hash, len(txData))
	// sent[k] is the index in txData of the batch's k-th call; its JSON-RPC
	// id is k.
	sent := make([]int, 0, len(txData))
	var req bytes.Buffer
	req.WriteByte('[')
	for i, d := range txData {
		body, want, err := signedHash(d)
		if err != nil {
			out[i].Err = err
			continue
		}
		hashes[i] = want
		if len(sent) > 0 {
			req.WriteByte(',')
		}
		// The id and the hex need no escaping.
		fmt.Fprintf(&req, `{"jsonrpc":"2.0","id":%d,"method":"eth_sendRawTransaction","params":["0x%s"]}`, len(sent), body)
		sent = append(sent, i)
	}
	req.WriteByte(']')
	if len(sent) == 0 {
		return out
	}
	status, ans, err := c.relay.post(ctx, "eth_sendRawTransaction batch", "", "application/json", req.Bytes())
	if err == nil && len(ans) >= maxAnswer {
		err = fmt.Errorf("%w: eth_sendRawTransaction batch: the answer is %d bytes or more", ErrUnavailable, maxAnswer)
	}
	if err == nil && !isJSONArray(ans) && batchRefused(status) {
		c.eachAlone(ctx, txData, sent, out)
		return out
	}
	if err == nil && status/100 != 2 {
		err = fmt.Errorf("%w: eth_sendRawTransaction batch: HTTP %d from %s", ErrUnavailable, status, RedactURL(c.url))
	}
	if err != nil {
		err = redactErr(err, c.url)
		for _, i := range sent {
			out[i].Err = err
		}
		return out
	}
	answers := parseBatchAnswer(ans, len(sent))
	for k, i := range sent {
		out[i].TxID, out[i].Err = c.settle(ctx, hashes[i], answers[k])
	}
	return out
}

// batchRefused reports whether an answer that is no JSON array, with HTTP
// status, is the node refusing batches (so each transaction is sent alone)
// rather than the node failing: a 2xx or a client error other than refused
// credentials or throttling. A failing node asked once per transaction
// would only fail as many times.
func batchRefused(status int) bool {
	switch {
	case status/100 == 2:
		return true
	case status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusTooManyRequests:
		return false
	}
	return status/100 == 4
}

// eachAlone sends the transactions of sent one call each, in order, for a
// node that takes no batches.
func (c *EVMClient) eachAlone(ctx context.Context, txData []string, sent []int, out []Result) {
	for _, i := range sent {
		out[i].TxID, out[i].Err = c.Broadcast(ctx, txData[i])
	}
}

// settle is Broadcast's verdict on one call's answer in a batch.
func (c *EVMClient) settle(ctx context.Context, want common.Hash, a batchAnswer) (_ string, err error) {
	defer scrub(&err, c.url)
	switch {
	case !a.ok:
		return "", fmt.Errorf("%w: eth_sendRawTransaction batch: no usable answer for transaction %s", ErrUnavailable, want.Hex())
	case a.refusal != nil:
		return c.refused(ctx, want, *a.refusal)
	case a.hash != want:
		return "", fmt.Errorf("%w: node answered hash %s for transaction %s", ErrUnavailable, a.hash.Hex(), want.Hex())
	}
	return want.Hex(), nil
}

// batchAnswer is the node's answer to one call of a batch: ok with either a
// hash or a refusal (the JSON-RPC error's message).
type batchAnswer struct {
	ok      bool
	hash    common.Hash
	refusal *string
}

// parseBatchAnswer reads a JSON-RPC batch answer to n calls with ids 0…n-1
// and returns the answer to each call, in id order. A call without exactly
// one well-formed answer of its id (exactly one of result and error) is not
// ok. More entries than calls, a cut array or anything that is not a JSON
// array of objects makes every call not ok: nothing of such an answer is
// trusted. The decoder stops at the n+1-th entry, so a hostile answer costs
// no more than n entries' worth of memory beyond its bytes.
func parseBatchAnswer(body []byte, n int) []batchAnswer {
	out := make([]batchAnswer, n)
	none := func() []batchAnswer { return make([]batchAnswer, n) }
	if !isJSONArray(body) {
		return none()
	}
	seen := make([]int, n)
	dec := json.NewDecoder(bytes.NewReader(body))
	if _, err := dec.Token(); err != nil {
		return none()
	}
	for count := 0; dec.More(); count++ {
		if count == n {
			return none()
		}
		var e struct {
			ID     json.RawMessage `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := dec.Decode(&e); err != nil {
			return none()
		}
		k, err := strconv.Atoi(string(e.ID))
		if err != nil || k < 0 || k >= n || strconv.Itoa(k) != string(e.ID) {
			continue // an id of no call: its call, if any, stays unanswered
		}
		seen[k]++
		hasResult := len(e.Result) > 0 && string(e.Result) != "null"
		switch {
		case e.Error != nil && !hasResult:
			// go-ethereum's rpc.Error text for the same answer to one call.
			msg := e.Error.Message
			if msg == "" {
				msg = "json-rpc error " + strconv.Itoa(e.Error.Code)
			}
			out[k] = batchAnswer{ok: true, refusal: &msg}
		case e.Error == nil && hasResult:
			var h common.Hash
			if json.Unmarshal(e.Result, &h) == nil {
				out[k] = batchAnswer{ok: true, hash: h}
			}
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim(']') {
		return none()
	}
	if _, err := dec.Token(); err != io.EOF {
		return none() // data after the array
	}
	for k, c := range seen {
		if c != 1 {
			out[k] = batchAnswer{} // an id answered twice is trusted neither time
		}
	}
	return out
}

// isJSONArray reports whether b starts, after JSON whitespace, with '['.
func isJSONArray(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '['
}
