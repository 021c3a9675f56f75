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
// signerId the routes answer exactly as DESIGN §2 says.
const (
	// DefaultLeaseSeconds applies when signerId comes without leaseSeconds.
	DefaultLeaseSeconds = 60
	// MaxLeaseSeconds bounds a lease, so a forgotten one frees itself within the hour.
	MaxLeaseSeconds = 3600
	maxSignerIDLen  = 64
)

// OpenAPI descriptions of the claim fields.
var (
	signerIDSchema = obj{"type": "string", "pattern": "^[0-9A-Za-z._:-]{1,64}$"}
	leaseSchema    = obj{"type": "integer", "minimum": 1, "maximum": MaxLeaseSeconds, "default": DefaultLeaseSeconds}
)

const (
	signerIDDoc = "Optional claim by a signer (several daemons holding the same wallets): only transactions that no other " +
		"signer holds a running lease on are returned, and they are leased to this signer atomically, so two signers never " +
		"get the same transaction at once; the signer's own leases are renewed. A dead signer's leases expire and another " +
		"signer's claim then returns those transactions. Without signerId leases are ignored and the answer is Tatum's."
	leaseDoc = "With signerId: how long the returned transactions stay leased to it (default 60)."
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
)

// makeClaim checks a signer id and lease (either may be absent) and returns
// the claim they make, nil when there is none.
func makeClaim(signer *string, lease *int64, bad []string) (*pending.Claim, []string) {
	if signer == nil {
		if lease != nil {
			bad = append(bad, leaseAlone)
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
	if !ok {
		return nil, bad
	}
	return &pending.Claim{Signer: *signer, Lease: time.Duration(secs) * time.Second}, bad
}

// claimFromQuery reads signerId and leaseSeconds of a pending GET.
func claimFromQuery(q url.Values) (*pending.Claim, error) {
	var (
		signer *string
		lease  *int64
		bad    []string
	)
	if vals, ok := q["signerId"]; ok {
		if len(vals) != 1 {
			bad = append(bad, signerIDMsg)
		} else {
			signer = &vals[0]
		}
	}
	if vals, ok := q["leaseSeconds"]; ok {
		n, err := strconv.ParseInt(strings.Join(vals, ","), 10, 64)
		if len(vals) != 1 || err != nil {
			bad = append(bad, leaseMsg)
		} else {
			lease = &n
		}
	}
	claim, bad := makeClaim(signer, lease, bad)
	if len(bad) > 0 {
		return nil, invalid(bad...)
	}
	return claim, nil
}

// decodePendingBody reads a pending POST body: {"signatureIds":[…]} and,
// for a signer's claim, "signerId" and "leaseSeconds". The plain body keeps
// its fast path; a body with a claim goes through scanPendingBody, which
// reads the same shape with the two extra members in any order; anything
// else is decoded by encoding/json, which also describes errors.
func decodePendingBody(body []byte) ([]string, *pending.Claim, error) {
	if ids, ok := scanSignatureIDs(body); ok {
		return ids, nil, nil
	}
	var (
		ids    []string
		signer *string
		lease  *int64
	)
	if r, ok := scanPendingBody(body); ok {
		ids, signer, lease = r.ids, r.signer, r.lease
		if ids == nil {
			return nil, nil, invalid("signatureIds: is required")
		}
	} else {
		var req struct {
			SignatureIDs *[]string       `json:"signatureIds"`
			SignerID     *string         `json:"signerId"`
			LeaseSeconds json.RawMessage `json:"leaseSeconds"`
		}
		if err := decodeJSON(body, &req); err != nil {
			return nil, nil, err
		}
		if req.SignatureIDs == nil {
			return nil, nil, invalid("signatureIds: is required")
		}
		ids, signer = *req.SignatureIDs, req.SignerID
		if ids == nil {
			ids = []string{}
		}
		if len(req.LeaseSeconds) > 0 && string(req.LeaseSeconds) != "null" {
			n, err := strconv.ParseInt(string(req.LeaseSeconds), 10, 64)
			if err != nil {
				return nil, nil, invalid(leaseMsg)
			}
			lease = &n
		}
	}
	claim, bad := makeClaim(signer, lease, nil)
	if len(bad) > 0 {
		return nil, nil, invalid(bad...)
	}
	return ids, claim, nil
}

type scannedBody struct {
	ids    []string
	signer *string
	lease  *int64
}

// scanPendingBody reads an object whose members are signatureIds (an array
// of plain strings), signerId (a plain string) and leaseSeconds (a JSON
// integer without sign, fraction or exponent), each at most once. It reports
// false for anything else, including escapes and non-ASCII, which
// encoding/json then handles.
func scanPendingBody(body []byte) (scannedBody, bool) {
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
		case "signatureIds":
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
			ws()
			start := i
			for i < len(src) && src[i] >= '0' && src[i] <= '9' {
				i++
			}
			digits := src[start:i]
			if out.lease != nil || digits == "" || len(digits) > 1 && digits[0] == '0' || len(digits) > 12 {
				return out, false
			}
			if i < len(src) && (src[i] == '.' || src[i] == 'e' || src[i] == 'E') {
				return out, false
			}
			n, _ := strconv.ParseInt(digits, 10, 64)
			out.lease = &n
		default:
			return out, false
		}
	}
	ws()
	return out, i == len(src)
}
