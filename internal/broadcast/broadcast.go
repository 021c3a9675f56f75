// Package broadcast owns the server's side of the chain nodes: the Client a
// chain's node client implements, the constructors (Dialers) the chain table
// (internal/chain/chains) pairs each chain with, and the per-chain, per-network
// node configuration (--node CHAIN[:testnet]=URL, CUSTOS_NODE_<CHAIN>[_TESTNET]).
package broadcast

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/custoskms/custos/internal/chain"
)

// Client submits a signed transaction to a chain's node and returns the
// transaction id the chain assigns. A node that refuses the transaction is
// reported by wrapping ErrRejected; a node that cannot be reached (or answers
// garbage) by wrapping ErrUnavailable.
type Client interface {
	Broadcast(ctx context.Context, txData string) (txID string, err error)
}

// Result is one transaction's outcome in a BatchBroadcaster's answer: what
// Broadcast would have returned for that transaction alone.
type Result struct {
	TxID string
	Err  error
}

// BatchBroadcaster is a Client's optional capability to submit several
// signed transactions in one exchange with the node (the EVM client's
// JSON-RPC batch). BroadcastBatch answers one Result per transaction, in
// order, and submits them in that order: one sender's sequences go to the
// node lowest first, as single calls would.
type BatchBroadcaster interface {
	Client
	BroadcastBatch(ctx context.Context, txData []string) []Result
}

// Dialer builds a Client for one node URL. It must not contact the node: it
// runs at start-up, and a node that is down at that moment is not a
// configuration error.
type Dialer func(nodeURL string) (Client, error)

// DialerOf makes a Dialer of a node client's own constructor (DialEVM, …),
// for the chain table's rows.
func DialerOf[C Client](dial func(nodeURL string) (C, error)) Dialer {
	return func(nodeURL string) (Client, error) {
		c, err := dial(nodeURL)
		if err != nil {
			// Not c: a nil *EVMClient in a Client would not be a nil Client.
			return nil, err
		}
		return c, nil
	}
}

// NodeSpec is one configured node: the chain, its network and the URL.
type NodeSpec struct {
	Chain   string
	Testnet bool
	URL     string
}

// String names the node with its URL redacted, safe for logs.
func (n NodeSpec) String() string {
	net := chain.NetworkName(n.Testnet)
	return n.Chain + ":" + net + "=" + RedactURL(n.URL)
}

// ParseNode parses a --node flag value: CHAIN=URL or CHAIN:testnet=URL
// (CHAIN:mainnet=URL is accepted too). Errors never contain the URL, which may
// carry credentials.
func ParseNode(s string) (NodeSpec, error) {
	name, u, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(u) == "" {
		return NodeSpec{}, fmt.Errorf("%w: want CHAIN=URL or CHAIN:testnet=URL", ErrBadNode)
	}
	code, network, hasNet := strings.Cut(name, ":")
	spec := NodeSpec{Chain: strings.ToUpper(strings.TrimSpace(code)), URL: strings.TrimSpace(u)}
	if hasNet {
		switch strings.ToLower(network) {
		case "testnet":
			spec.Testnet = true
		case "mainnet":
		default:
			return NodeSpec{}, fmt.Errorf("%w: network %q is not mainnet or testnet", ErrBadNode, network)
		}
	}
	if spec.Chain == "" {
		return NodeSpec{}, fmt.Errorf("%w: missing chain before '='", ErrBadNode)
	}
	if err := checkURL(spec.URL); err != nil {
		return NodeSpec{}, fmt.Errorf("%w for %s: %w", ErrBadNode, spec.Chain, err)
	}
	return spec, nil
}

func checkURL(raw string) error {
	p, err := url.Parse(raw)
	if err != nil || p.Scheme == "" || p.Host == "" {
		return fmt.Errorf("node URL is not an absolute URL")
	}
	return nil
}

// NodesFromEnv reads CUSTOS_NODE_<CHAIN> and CUSTOS_NODE_<CHAIN>_TESTNET from
// environ (os.Environ() form), for the chain codes given.
func NodesFromEnv(environ []string, chains []string) ([]NodeSpec, error) {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	var out []NodeSpec
	for _, c := range chains {
		for _, testnet := range []bool{false, true} {
			name := "CUSTOS_NODE_" + strings.ToUpper(c)
			if testnet {
				name += "_TESTNET"
			}
			v, ok := env[name]
			if !ok || strings.TrimSpace(v) == "" {
				continue
			}
			if err := checkURL(strings.TrimSpace(v)); err != nil {
				return nil, fmt.Errorf("%w: %s: %w", ErrBadNode, name, err)
			}
			out = append(out, NodeSpec{Chain: strings.ToUpper(c), Testnet: testnet, URL: strings.TrimSpace(v)})
		}
	}
	return out, nil
}

// RedactURL hides the user information and query of a node URL (API keys sit
// in either), keeping scheme, host and path for diagnostics.
func RedactURL(raw string) string {
	p, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	if p.User != nil {
		p.User = url.User("xxxxx")
	}
	if p.RawQuery != "" {
		p.RawQuery = "xxxxx"
	}
	p.Fragment = ""
	return p.String()
}

type netKey struct {
	chain   string
	testnet bool
}

// Nodes is the set of node clients the server broadcasts through.
type Nodes struct {
	clients map[netKey]Client
}

// Dial builds a client for each spec with the dialer dialerFor gives for its
// chain code (the chain table's chains.Dialer). Later specs for the same chain
// and network replace earlier ones, so flags given after the environment win.
// A chain without a node client is an error naming the chain.
func Dial(specs []NodeSpec, dialerFor func(code string) (Dialer, bool)) (*Nodes, error) {
	n := &Nodes{clients: map[netKey]Client{}}
	for _, s := range specs {
		d, ok := dialerFor(s.Chain)
		if !ok {
			return nil, fmt.Errorf("%w: %s", ErrNoDialer, s.Chain)
		}
		c, err := d(s.URL)
		if err != nil {
			// Dialer errors may quote the URL; name only the redacted node.
			return nil, fmt.Errorf("%w: %s: %s", ErrBadNode, s, redactIn(err.Error(), s.URL))
		}
		n.clients[netKey{s.Chain, s.Testnet}] = c
	}
	return n, nil
}

// redactIn removes a node URL's secrets from msg: the URL as configured and
// as net/http quotes it (without user information, or with the password
// masked) becomes RedactURL's form, and then the password, the user
// information, the query and each query value are masked wherever they still
// stand. Every error text a node client produces passes through it.
func redactIn(msg, raw string) string {
	if raw == "" {
		return msg
	}
	p, err := url.Parse(raw)
	if err != nil {
		return strings.ReplaceAll(msg, raw, RedactURL(raw))
	}
	red := RedactURL(raw)
	forms := []string{raw}
	if p.User != nil {
		bare := *p
		bare.User = nil
		masked := *p
		masked.User = url.UserPassword(p.User.Username(), "***") // net/http's form in its errors
		forms = append(forms, bare.String(), p.Redacted(), masked.String())
	}
	for _, f := range forms {
		msg = strings.ReplaceAll(msg, f, red)
	}
	var secrets []string
	if p.User != nil {
		pw, hasPW := p.User.Password()
		secrets = append(secrets, p.User.String(), pw, url.QueryEscape(pw))
		if name := p.User.Username(); !hasPW && len(name) >= 4 {
			// A user name without a password is how some providers pass an API key.
			secrets = append(secrets, name)
		}
	}
	if p.RawQuery != "" {
		secrets = append(secrets, p.RawQuery)
		q, _ := url.ParseQuery(p.RawQuery)
		for _, vs := range q {
			for _, v := range vs {
				// Short values (?v=1) are not secrets, and masking them would garble numbers.
				if len(v) >= 4 {
					secrets = append(secrets, v, url.QueryEscape(v))
				}
			}
		}
	}
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "xxxxx")
		}
	}
	return msg
}

// redactedError is an error whose text had a node URL's secrets removed. It
// unwraps to the sentinels the original matched, not to the original, whose
// text (and that of the errors it wraps) may still hold them.
type redactedError struct {
	msg  string
	errs []error
}

func (e *redactedError) Error() string   { return e.msg }
func (e *redactedError) Unwrap() []error { return e.errs }

// redactErr is the one redaction every node client's errors pass through on
// the way out: an error whose text quotes a secret of raw is replaced by one
// with the text redacted that still matches the package's sentinels and the
// context's errors.
func redactErr(err error, raw string) error {
	if err == nil {
		return nil
	}
	msg := redactIn(err.Error(), raw)
	if msg == err.Error() {
		return err
	}
	r := &redactedError{msg: msg}
	for _, s := range []error{ErrRejected, ErrPermanent, ErrUnavailable, ErrBadNode, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, s) {
			r.errs = append(r.errs, s)
		}
	}
	return r
}

// scrub runs a node client's outgoing error through redactErr; clients defer
// it in each exported method that talks to the node.
func scrub(err *error, raw string) { *err = redactErr(*err, raw) }

// NewNodes makes a Nodes from ready clients; tests and embedders use it.
func NewNodes() *Nodes { return &Nodes{clients: map[netKey]Client{}} }

// Set installs c as the node client of chain on a network.
func (n *Nodes) Set(chain string, testnet bool, c Client) {
	n.clients[netKey{strings.ToUpper(chain), testnet}] = c
}

// Client returns the node client for chain on a network, or ErrNoNode.
func (n *Nodes) Client(code string, testnet bool) (Client, error) {
	if n != nil {
		if c, ok := n.clients[netKey{strings.ToUpper(code), testnet}]; ok {
			return c, nil
		}
	}
	return nil, &NoNodeError{Chain: strings.ToUpper(code), Network: chain.NetworkName(testnet)}
}

// Configured lists "CHAIN:network" for each configured node, sorted.
func (n *Nodes) Configured() []string {
	var out []string
	for k := range n.clients {
		net := chain.NetworkName(k.testnet)
		out = append(out, k.chain+":"+net)
	}
	sort.Strings(out)
	return out
}
