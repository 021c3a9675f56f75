package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/chain"
)

// Bounds of the web3 gateway.
const (
	// maxWeb3Body bounds a gateway request. Gas estimation of a contract
	// deployment carries its code (at most 48 KiB, 96 KiB as hex), well
	// under it.
	maxWeb3Body = 256 << 10
	// maxWeb3Batch bounds the calls of one batch; Tatum's SDK sends one at a time.
	maxWeb3Batch = 20
	// maxRPCID bounds a client's call id, which is echoed back.
	maxRPCID = 128
	// maxRPCErrorMessage bounds a node's error message as relayed.
	maxRPCErrorMessage = 1024
)

// JSON-RPC 2.0 error codes the gateway answers with.
const (
	rpcParseError     = -32700
	rpcInvalidRequest = -32600
	rpcMethodNotFound = -32601
	rpcInternalError  = -32603
)

// relayer is a node client that posts JSON-RPC requests as they are
// (broadcast.EVMClient).
type relayer interface {
	Relay(ctx context.Context, body []byte) ([]byte, error)
	// Redact removes the node URL's secrets from text the node wrote.
	Redact(text string) string
}

type rpcError struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

type rpcResponse struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *rpcError       `json:"error,omitempty"`
}

type rpcRequest struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      int             `json:"id"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params,omitempty"`
}

// rpcCall is one call of a client's request, or why it is not one.
type rpcCall struct {
	id     json.RawMessage
	method string
	params json.RawMessage
	err    *rpcError
}

var rpcNull = json.RawMessage("null")

// web3 is POST /v3/{slug}/web3/{apiKey}, Tatum's web3 gateway: Tatum's SDK
// estimates gas (and reads nonces and fees) through it before signing. The
// key in the path authenticates (see wrap); every JSON-RPC call whose method
// the chain lists (chain.Web3's Web3Methods: reads and gas estimation) is
// relayed to the configured node of the key's network, one node request
// for the whole request; any other method, eth_sendRawTransaction included,
// is answered with a JSON-RPC error and never reaches the node. The node's
// answer is untrusted: it must be JSON-RPC answering exactly the calls sent
// (ids are the gateway's own), within broadcast.MaxRelayAnswer bytes, or the
// request fails as a node failure (502).
func (s *Server) web3(w http.ResponseWriter, r *http.Request) error {
	c, err := web3Chain(r.PathValue("slug"))
	if err != nil {
		return err
	}
	body, err := s.readBody(w, r) // wrap capped it at maxWeb3Body
	if err != nil {
		return err
	}
	key := keyFrom(r.Context())
	code := c.Info().Code
	node, err := s.nodeClient(code, key.Testnet)
	if err != nil {
		return err
	}
	rl, ok := node.(relayer)
	if !ok {
		return forbidden(CodeNoNode, fmt.Sprintf("The %s %s node client cannot relay JSON-RPC.", code, chain.NetworkName(key.Testnet)))
	}
	calls, batch, perr := parseRPC(body)
	if perr != nil {
		writeJSON(w, http.StatusOK, rpcResponse{JSONRPC: "2.0", ID: rpcNull, Error: perr})
		return nil
	}
	out := make([]rpcResponse, len(calls))
	allowed := c.Web3Methods()
	var relay []int
	for i, call := range calls {
		out[i] = rpcResponse{JSONRPC: "2.0", ID: call.id, Error: call.err}
		switch {
		case call.err != nil:
		case !slices.Contains(allowed, call.method):
			out[i].Error = &rpcError{Code: rpcMethodNotFound, Message: fmt.Sprintf("method %s is not relayed: the gateway answers reads and gas estimation "+
				"only (%s); a signed transaction goes through POST /v3/%s/broadcast", quote(call.method), strings.Join(allowed, ", "), c.Info().Slug)}
		default:
			relay = append(relay, i)
		}
	}
	if len(relay) > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), s.broadcastTimeout)
		defer cancel()
		if err := relayCalls(ctx, rl, calls, relay, out); err != nil {
			return s.nodeFailed(ctx, code, key.Testnet, "relaying JSON-RPC", err)
		}
		s.charge(r, int64(len(relay)))
	}
	if batch {
		writeJSON(w, http.StatusOK, out)
	} else {
		writeJSON(w, http.StatusOK, out[0])
	}
	return nil
}

func invalidCall(msg string) *rpcError {
	return &rpcError{Code: rpcInvalidRequest, Message: "Invalid request: " + msg}
}

// parseRPC reads a JSON-RPC 2.0 request: one call, or a batch (batch true)
// of 1 to maxWeb3Batch. perr answers a body that is no request at all.
func parseRPC(body []byte) (calls []rpcCall, batch bool, perr *rpcError) {
	body = bytes.TrimSpace(body)
	if !json.Valid(body) {
		return nil, false, &rpcError{Code: rpcParseError, Message: "Parse error: the body is not JSON"}
	}
	if body[0] != '[' {
		return []rpcCall{parseCall(body)}, false, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(body, &items); err != nil {
		return nil, true, &rpcError{Code: rpcParseError, Message: "Parse error: the batch is not JSON"}
	}
	switch {
	case len(items) == 0:
		return nil, true, invalidCall("an empty batch")
	case len(items) > maxWeb3Batch:
		return nil, true, invalidCall(fmt.Sprintf("a batch of %d calls; at most %d", len(items), maxWeb3Batch))
	}
	calls = make([]rpcCall, len(items))
	for i, it := range items {
		calls[i] = parseCall(it)
	}
	return calls, true, nil
}

// parseCall reads one call; a malformed one carries its error and, where it
// has a usable one, its id.
func parseCall(raw json.RawMessage) rpcCall {
	c := rpcCall{id: rpcNull}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		c.err = invalidCall("a call must be a JSON object")
		return c
	}
	id, ok := m["id"]
	switch {
	case !ok:
		c.err = invalidCall("id is required: the gateway relays no notifications")
		return c
	case len(id) > maxRPCID || !(id[0] == '"' || id[0] == '-' || (id[0] >= '0' && id[0] <= '9')):
		c.err = invalidCall(fmt.Sprintf("id must be a string or a number of at most %d bytes", maxRPCID))
		return c
	}
	c.id = id
	var version string
	if json.Unmarshal(m["jsonrpc"], &version) != nil || version != "2.0" {
		c.err = invalidCall(`jsonrpc must be "2.0"`)
		return c
	}
	if json.Unmarshal(m["method"], &c.method) != nil || c.method == "" {
		c.err = invalidCall("method must be a non-empty string")
		return c
	}
	if p, ok := m["params"]; ok {
		if p[0] != '[' && p[0] != '{' {
			c.err = invalidCall("params must be an array or an object")
			return c
		}
		c.params = p
	}
	return c
}

// relayCalls sends the calls at the indexes relay to the node in one
// request, numbered by their position in it, and puts each answer in out.
func relayCalls(ctx context.Context, rl relayer, calls []rpcCall, relay []int, out []rpcResponse) error {
	reqs := make([]rpcRequest, len(relay))
	for j, i := range relay {
		reqs[j] = rpcRequest{JSONRPC: "2.0", ID: j, Method: calls[i].method, Params: calls[i].params}
	}
	var v any = reqs
	if len(reqs) == 1 {
		v = reqs[0]
	}
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	ans, err := rl.Relay(ctx, body)
	if err != nil {
		return err
	}
	answers, err := nodeAnswers(ans, len(reqs), rl.Redact)
	if err != nil {
		return err
	}
	for j, i := range relay {
		out[i].Result, out[i].Error = answers[j].Result, answers[j].Error
	}
	return nil
}

// nodeAnswers checks a node's answer to n calls numbered 0..n-1 and returns
// them by number. An error object without one of the ids (a node refusing
// the whole request) answers every call it left unanswered; a call left
// without any answer gets an error of its own.
func nodeAnswers(ans []byte, n int, redact func(string) string) ([]rpcResponse, error) {
	garbage := func(why string) error {
		return fmt.Errorf("%w: the node's JSON-RPC answer %s", broadcast.ErrUnavailable, why)
	}
	ans = bytes.TrimSpace(ans)
	if !json.Valid(ans) {
		return nil, garbage("is not JSON")
	}
	items := []json.RawMessage{ans}
	if ans[0] == '[' {
		if err := json.Unmarshal(ans, &items); err != nil {
			return nil, garbage("is not an array of answers")
		}
	}
	out := make([]rpcResponse, n)
	var whole *rpcError
	for _, it := range items {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(it, &m); err != nil || m == nil {
			return nil, garbage("holds something other than an object")
		}
		res, hasRes := m["result"]
		rawErr, hasErr := m["error"]
		if hasRes == hasErr {
			return nil, garbage("must hold exactly one of result and error")
		}
		var e *rpcError
		if hasErr {
			var err error
			if e, err = nodeError(rawErr, redact); err != nil {
				return nil, garbage(err.Error())
			}
		}
		id, err := strconv.Atoi(string(m["id"]))
		switch {
		case err != nil || id < 0 || id >= n:
			if !hasErr {
				return nil, garbage("answers a call that was not sent")
			}
			whole = e
			continue
		case out[id].Result != nil || out[id].Error != nil:
			return nil, garbage("answers a call twice")
		}
		out[id].Result, out[id].Error = res, e
	}
	for j := range out {
		if out[j].Result == nil && out[j].Error == nil {
			out[j].Error = whole
			if whole == nil {
				out[j].Error = &rpcError{Code: rpcInternalError, Message: "the node gave no answer to this call"}
			}
		}
	}
	return out, nil
}

// nodeError reads a node's JSON-RPC error object; its message, relayed to
// the client, is cut to a bounded size and stripped of the node URL's secrets.
func nodeError(raw json.RawMessage, redact func(string) string) (*rpcError, error) {
	var e struct {
		Code    *int            `json:"code"`
		Message *string         `json:"message"`
		Data    json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &e); err != nil || e.Code == nil || e.Message == nil {
		return nil, fmt.Errorf("holds an error without an integer code and a message")
	}
	msg := redact(*e.Message)
	if len(msg) > maxRPCErrorMessage {
		msg = msg[:maxRPCErrorMessage]
	}
	out := &rpcError{Code: *e.Code, Message: strings.ToValidUTF8(msg, "?")}
	if len(e.Data) > 0 && string(e.Data) != "null" {
		out.Data = json.RawMessage(redact(string(e.Data)))
		if !json.Valid(out.Data) {
			out.Data = nil
		}
	}
	return out, nil
}
