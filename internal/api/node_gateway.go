package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chains"
)

// maxNodeGatewayBody bounds a request to a node gateway: a TRON constant
// call or an EGLD cost estimate carries a transaction's data, far under it.
const maxNodeGatewayBody = 256 << 10

// nodeSegment says whether seg may stand for a "*" of a relayed path: one
// address-like segment (a bech32 or base58 address, a hex id, a number), so
// that nothing but the listed endpoints can be reached on the node.
func nodeSegment(seg string) bool {
	if seg == "" || len(seg) > 128 {
		return false
	}
	for _, c := range seg {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// nodeGatewayChains are the table's chains whose Tatum signers read their
// node through Tatum's API.
var nodeGatewayChains = func() []chain.NodeGateway {
	var out []chain.NodeGateway
	for _, c := range chains.All() {
		if g, ok := c.(chain.NodeGateway); ok {
			out = append(out, g)
		}
	}
	return out
}()

// nodeGatewayPath is the route of a chain's node gateway: Tatum's SDK
// appends the node's own path to {TATUM_API_URL}/v3/{slug}/node/{apiKey}.
func nodeGatewayPath(slug string) string {
	return "/v3/" + slug + "/node/{" + pathKeyParam + "}/{path...}"
}

// restRelayer is a node client that relays reads to a REST node
// (broadcast.TronClient, broadcast.MultiversXClient).
type restRelayer interface {
	RelayREST(ctx context.Context, method, path string, body []byte) (int, []byte, error)
	// Redact removes the node URL's secrets from text the node wrote.
	Redact(text string) string
}

// nodeRelayed says whether method path is one of reads.
func nodeRelayed(reads []string, method, path string) bool {
	segs := strings.Split(path, "/")
	for _, r := range reads {
		m, p, _ := strings.Cut(r, " ")
		want := strings.Split(p, "/")
		if m != method || len(want) != len(segs) {
			continue
		}
		ok := true
		for i, w := range want {
			if w == "*" && !nodeSegment(segs[i]) || w != "*" && w != segs[i] {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// nodeGateway serves GET and POST /v3/{slug}/node/{apiKey}/{path...} for the
// chain of that slug: Tatum's node gateway, which Tatum's SDK v1 signers for TRON
// (TronWeb's full and solidity node) and EGLD read the chain through. The key
// in the path authenticates (see wrap) and is masked in logs. Only the
// chain's NodeReads are relayed to the configured node of the key's network,
// with the request's JSON body and without its query; anything else is 404
// and never reaches the node. The node's answer is untrusted: it must be JSON
// within broadcast.MaxRelayAnswer bytes with a 2xx or 4xx status, which is
// relayed; otherwise the request fails as a node failure (502).
func (s *Server) nodeGateway(c chain.NodeGateway) func(w http.ResponseWriter, r *http.Request) error {
	code, slug, reads := c.Info().Code, c.Info().Slug, c.NodeReads()
	return func(w http.ResponseWriter, r *http.Request) error {
		var body []byte
		if r.Method == http.MethodPost {
			// TronWeb posts some reads (wallet/getnodeinfo) without a body,
			// which the node takes as {}.
			b, err := s.readMaybeEmpty(r) // wrap capped it at maxNodeGatewayBody
			if err != nil {
				return err
			}
			if b = bytes.TrimSpace(b); len(b) == 0 {
				b = []byte("{}")
			}
			if !json.Valid(b) {
				return invalid("body: must be JSON")
			}
			body = b
		}
		path := r.PathValue("path")
		if !nodeRelayed(reads, r.Method, path) {
			return &Error{ErrorCode: CodeRouteNotFound, StatusCode: http.StatusNotFound, Message: fmt.Sprintf(
				"%s %s is not relayed: the %s node gateway answers only %s; a signed transaction goes through POST /v3/%s/broadcast",
				r.Method, quote(path), code, strings.Join(reads, ", "), slug)}
		}
		key := keyFrom(r.Context())
		node, err := s.nodeClient(code, key.Testnet)
		if err != nil {
			return err
		}
		rl, ok := node.(restRelayer)
		if !ok {
			return forbidden(CodeNoNode, fmt.Sprintf("The %s %s node client cannot relay reads.", code, chain.NetworkName(key.Testnet)))
		}
		ctx, cancel := context.WithTimeout(r.Context(), s.broadcastTimeout)
		defer cancel()
		status, ans, err := rl.RelayREST(ctx, r.Method, path, body)
		if err == nil {
			ans = bytes.TrimSpace([]byte(rl.Redact(string(ans))))
			if !json.Valid(ans) {
				err = fmt.Errorf("%w: %s /%s: the node's answer is not JSON", broadcast.ErrUnavailable, r.Method, path)
			}
		}
		if err != nil {
			return s.nodeFailed(ctx, code, key.Testnet, "relaying "+r.Method+" /"+path, err)
		}
		s.charge(r, 1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(ans)
		return nil
	}
}

// nodeGatewayOp documents one method of a chain's node gateway.
func nodeGatewayOp(c chain.NodeGateway, post bool) obj {
	code, slug := c.Info().Code, c.Info().Slug
	responses := obj{
		"200": obj{"description": "The node's answer, as it is.", "content": jsonContent(obj{})},
		"400": obj{"description": "The node's own 4xx answer (other than 401, 403 and 429), relayed as it is with its status.",
			"content": jsonContent(obj{})},
		"401": errResp("Missing, unknown or revoked API key in the path (apikey.invalid)."),
		"403": errResp("No node configured for the chain and the key's network (broadcast.nodeNotConfigured)."),
		"404": errResp("A path or method the gateway does not relay (route.notFound); the node is not asked. " +
			"(A 404 the node answers is relayed as it is.)"),
		"502": errResp(fmt.Sprintf("The chain's node could not be reached, timed out, refused the server's credentials, "+
			"answered 5xx, something other than JSON or %d bytes or more (broadcast.nodeUnavailable); safe to retry.", broadcast.MaxRelayAnswer)),
	}
	var body obj
	if post {
		body = obj{"description": "JSON, relayed to the node as it is; an empty body is sent as {}."}
		responses["400"] = obj{"description": "A body that is not JSON (validation.failed), or the node's own 4xx answer " +
			"(other than 401, 403 and 429), relayed as it is with its status.", "content": jsonContent(obj{})}
	}
	o := op(fmt.Sprintf("%s node gateway (Tatum's %s)", code, nodeGatewayPath(slug)),
		[]obj{{"name": "apiKey", "in": "path", "required": true, "schema": obj{"type": "string"},
			"description": "The API key, instead of X-API-Key; never logged."},
			{"name": "path", "in": "path", "required": true, "schema": obj{"type": "string"},
				"description": "The node's own path, one of: " + strings.Join(c.NodeReads(), ", ") + " (* is one segment of letters and digits)."}},
		body, responses)
	if post {
		o["requestBody"].(obj)["required"] = false
	}
	return withDescription(o, fmt.Sprintf("Tatum's SDK v1 reads the %s chain through %s{apiKey} while signing. The API key is the path segment after "+
		"node/ instead of X-API-Key; it authenticates exactly as the header does and is masked in every log line. Only the reads "+
		"listed for path are relayed, with the request's JSON body and without its query, to the chain's node for the key's "+
		"network; nothing that submits a transaction is: signed transactions go through POST /v3/%s/broadcast. 1 credit per "+
		"request relayed.", code, strings.TrimSuffix(nodeGatewayPath(slug), "{"+pathKeyParam+"}/{path...}"), slug))
}
