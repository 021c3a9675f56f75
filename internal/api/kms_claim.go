package api

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/custoskms/custos/internal/pending"
)

// Signer leases on the pending routes. A signer that sends signerId (and
// optionally leaseSeconds) gets only the transactions no other signer holds a
// running lease on, and they are leased to it in the same step; without
// signerId the routes answer exactly as Tatum's do (docs/design.md §4.7).
const (
	// DefaultLeaseSeconds applies when signerId comes without leaseSeconds.
	DefaultLeaseSeconds = 60
	// MaxLeaseSeconds bounds a lease, so a forgotten one frees itself within the hour.
	MaxLeaseSeconds = 3600
	maxSignerIDLen  = 64
	// MaxClaimLimit bounds limit; a larger backlog is claimed in several requests.
	MaxClaimLimit = 100000
)

// OpenAPI descriptions of the claim fields.
var (
	signerIDSchema = obj{"type": "string", "pattern": "^[0-9A-Za-z._:-]{1,64}$"}
	leaseSchema    = obj{"type": "integer", "minimum": 1, "maximum": MaxLeaseSeconds, "default": DefaultLeaseSeconds}
	limitSchema    = obj{"type": "integer", "minimum": 1, "maximum": MaxClaimLimit}
)

const (
	signerIDDoc = "Optional claim by a signer (several daemons holding the same wallets): only transactions that no other " +
		"signer holds a running lease on are returned, and they are leased to this signer atomically, so two signers never " +
		"get the same transaction at once; the signer's own leases are renewed. A dead signer's leases expire and another " +
		"signer's claim then returns those transactions. Without signerId leases are ignored and the answer is Tatum's."
	leaseDoc = "With signerId: how long the returned transactions stay leased to it (default 60)."
	limitDoc = "With signerId: claim at most this many transactions, the oldest free for this signer (its own running " +
		"leases included), so that signers sharing wallets each take a share of a backlog; absent means every free one. " +
		"A signer that gets exactly limit transactions should ask again once it has processed them."
)

func validSignerID(s string) bool {
	if s == "" || len(s) > maxSignerIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

const (
	signerIDMsg = "signerId: must be 1 to 64 characters of [0-9A-Za-z._:-]"
	leaseMsg    = "leaseSeconds: must be an integer from 1 to 3600"
	leaseAlone  = "leaseSeconds: is only allowed with signerId"
	limitMsg    = "limit: must be an integer from 1 to 100000"
	limitAlone  = "limit: is only allowed with signerId"
)

// claimFields are the claim members of a pending request, each nil when absent.
type claimFields struct {
	signer       *string
	lease, limit *int64
}

// makeClaim checks a signer id, lease and limit (any may be absent) and
// returns the claim they make, nil when there is none.
func makeClaim(f claimFields, bad []string) (*pending.Claim, []string) {
	signer, lease := f.signer, f.lease
	if signer == nil {
		if lease != nil {
			bad = append(bad, leaseAlone)
		}
		if f.limit != nil {
			bad = append(bad, limitAlone)
		}
		return nil, bad
	}
	ok := true
	if !validSignerID(*signer) {
		bad, ok = append(bad, signerIDMsg), false
	}
	secs := int64(DefaultLeaseSeconds)
	if lease != nil {
		if *lease < 1 || *lease > MaxLeaseSeconds {
			bad, ok = append(bad, leaseMsg), false
		}
		secs = *lease
	}
	limit := int64(0)
	if f.limit != nil {
		if *f.limit < 1 || *f.limit > MaxClaimLimit {
			bad, ok = append(bad, limitMsg), false
		}
		limit = *f.limit
	}
	if !ok {
		return nil, bad
	}
	return &pending.Claim{Signer: *signer, Lease: time.Duration(secs) * time.Second, Max: int(limit)}, bad
}

// queryInt reads an integer query parameter given once; a malformed one adds msg to bad.
func queryInt(q url.Values, name, msg string, bad []string) (*int64, []string) {
	vals, ok := q[name]
	if !ok {
		return nil, bad
	}
	n, err := strconv.ParseInt(strings.Join(vals, ","), 10, 64)
	if len(vals) != 1 || err != nil {
		return nil, append(bad, msg)
	}
	return &n, bad
}

// claimFromQuery reads signerId, leaseSeconds and limit of a pending GET.
func claimFromQuery(q url.Values) (*pending.Claim, error) {
	var (
		f   claimFields
		bad []string
	)
	if vals, ok := q["signerId"]; ok {
		if len(vals) != 1 {
			bad = append(bad, signerIDMsg)
		} else {
			f.signer = &vals[0]
		}
	}
	f.lease, bad = queryInt(q, "leaseSeconds", leaseMsg, bad)
	f.limit, bad = queryInt(q, "limit", limitMsg, bad)
	claim, bad := makeClaim(f, bad)
	if len(bad) > 0 {
		return nil, invalid(bad...)
	}
	return claim, nil
}

// decodePendingBody reads a pending POST body: {"signatureIds":[…]} and,
// for a signer's claim, "signerId", "leaseSeconds" and "limit". The plain body keeps
// its fast path; a body with a claim goes through scanPendingBody, which
// reads the same shape with the extra members in any order; anything
// else is decoded by encoding/json, which also describes errors.
func decodePendingBody(body []byte) ([]string, *pending.Claim, error) {
	if ids, ok := scanSignatureIDs(body); ok {
		return ids, nil, nil
	}
	var (
		ids []string
		f   claimFields
	)
	if r, ok := scanPendingBody(body, "signatureIds"); ok {
		ids, f = r.ids, r.claimFields
		if ids == nil {
			return nil, nil, invalid("signatureIds: is required")
		}
	} else {
		var req struct {
			SignatureIDs *[]string       `json:"signatureIds"`
			SignerID     *string         `json:"signerId"`
			LeaseSeconds json.RawMessage `json:"leaseSeconds"`
			Limit        json.RawMessage `json:"limit"`
		}
		if err := decodeJSON(body, &req); err != nil {
			return nil, nil, err
		}
		if req.SignatureIDs == nil {
			return nil, nil, invalid("signatureIds: is required")
		}
		ids, f.signer = *req.SignatureIDs, req.SignerID
		if ids == nil {
			ids = []string{}
		}
		var err error
		if f.lease, err = jsonInt(req.LeaseSeconds, leaseMsg); err != nil {
			return nil, nil, err
		}
		if f.limit, err = jsonInt(req.Limit, limitMsg); err != nil {
			return nil, nil, err
		}
	}
	claim, bad := makeClaim(f, nil)
	if len(bad) > 0 {
		return nil, nil, invalid(bad...)
	}
	return ids, claim, nil
}

// jsonInt reads an optional JSON integer member (nil when absent or null).
func jsonInt(raw json.RawMessage, msg string) (*int64, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return nil, invalid(msg)
	}
	return &n, nil
}

type scannedBody struct {
	ids []string
	claimFields
}

// scanPendingBody reads an object whose members are list (an array of plain
// strings: signatureIds of a pending POST, ids of a lease renewal), signerId
// (a plain string), leaseSeconds and limit (JSON integers without sign,
// fraction or exponent), each at most once. It reports false for anything
// else, including escapes and non-ASCII, which encoding/json then handles.
func scanPendingBody(body []byte, list string) (scannedBody, bool) {
	var out scannedBody
	src := string(body)
	i := 0
	ws := func() {
		for i < len(src) && (src[i] == ' ' || src[i] == '\t' || src[i] == '\n' || src[i] == '\r') {
			i++
		}
	}
	// plain reads a string without escapes, control or non-ASCII bytes.
	plain := func() (string, bool) {
		ws()
		if i >= len(src) || src[i] != '"' {
			return "", false
		}
		end := strings.IndexByte(src[i+1:], '"')
		if end < 0 {
			return "", false
		}
		s := src[i+1 : i+1+end]
		for j := 0; j < len(s); j++ {
			if c := s[j]; c == '\\' || c < 0x20 || c >= 0x80 {
				return "", false
			}
		}
		i += end + 2
		return s, true
	}
	// integer reads a JSON integer without sign, fraction or exponent into *dst (once).
	integer := func(dst **int64) bool {
		ws()
		start := i
		for i < len(src) && src[i] >= '0' && src[i] <= '9' {
			i++
		}
		digits := src[start:i]
		if *dst != nil || digits == "" || len(digits) > 1 && digits[0] == '0' || len(digits) > 12 {
			return false
		}
		if i < len(src) && (src[i] == '.' || src[i] == 'e' || src[i] == 'E') {
			return false
		}
		n, _ := strconv.ParseInt(digits, 10, 64)
		*dst = &n
		return true
	}
	punct := func(c byte) bool {
		ws()
		if i < len(src) && src[i] == c {
			i++
			return true
		}
		return false
	}
	if !punct('{') {
		return out, false
	}
	for first := true; ; first = false {
		if punct('}') {
			if first {
				return out, false
			}
			break
		}
		if !first && !punct(',') {
			return out, false
		}
		key, ok := plain()
		if !ok || !punct(':') {
			return out, false
		}
		switch key {
		case list:
			if out.ids != nil || !punct('[') {
				return out, false
			}
			out.ids = make([]string, 0, len(src)/39+1)
			if !punct(']') {
				for {
					s, ok := plain()
					if !ok {
						return out, false
					}
					out.ids = append(out.ids, s)
					if punct(']') {
						break
					}
					if !punct(',') {
						return out, false
					}
				}
			}
		case "signerId":
			s, ok := plain()
			if out.signer != nil || !ok {
				return out, false
			}
			out.signer = &s
		case "leaseSeconds":
			if !integer(&out.lease) {
				return out, false
			}
		case "limit":
			if !integer(&out.limit) {
				return out, false
			}
		default:
			return out, false
		}
	}
	ws()
	return out, i == len(src)
}
