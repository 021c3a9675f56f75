package api

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/custoskms/custos/internal/strictjson"
)

// POST /v3/kms/lease (not Tatum's, docs/design.md §4.7) renews the leases a
// signer holds. A signer with many transactions in flight can hold one past
// its lease, and another signer would then claim and sign it again; claiming
// again by signature IDs would also lease new, unrelated transactions, so the
// renewal names exactly the pending ids it holds.
const (
	// MaxLeaseBody bounds a renewal: MaxRenewIDs ids take 2.7 MB as JSON.
	MaxLeaseBody = 4 << 20
	// MaxRenewIDs bounds the ids of one renewal, as limit bounds a claim.
	MaxRenewIDs = MaxClaimLimit
)

const (
	renewIDsMsg = "ids: must be an array of 1 to 100000 pending ids"
	renewIDMsg  = "must be exactly 24 characters of [0-9a-zA-Z]"
)

// renewal is a checked POST /v3/kms/lease body.
type renewal struct {
	signer string
	lease  time.Duration
	ids    []string
}

// parseRenewal reads {"signerId","leaseSeconds"?,"ids":[…]} and lists every
// problem. An id given twice is allowed (Renew renews it once).
func parseRenewal(body []byte) (renewal, error) {
	var (
		f        claimFields
		ids      []string
		bad      []string
		leaseErr error
	)
	// The plain body a signer sends is scanned directly (kms_claim.go), as a
	// claim's is: decoding 100,000 ids with encoding/json and checking its
	// keys take about 50 ms each. Anything else goes through decodeRenewal.
	if r, ok := scanPendingBody(body, "ids"); ok && r.ids != nil && r.limit == nil {
		f, ids = r.claimFields, r.ids
	} else {
		var err error
		if f, ids, leaseErr, bad, err = decodeRenewal(body); err != nil {
			return renewal{}, err
		}
	}
	if f.signer == nil {
		f.signer = new(string) // "", which makeClaim refuses
	}
	claim, bad := makeClaim(f, bad)
	if leaseErr != nil { // not an integer: listed after signerId, as makeClaim lists a lease out of range
		bad = append(bad, leaseMsg)
	}
	if len(ids) == 0 || len(ids) > MaxRenewIDs {
		bad = append(bad, renewIDsMsg)
	} else {
		bad = badEntries("ids", ids, isTxID, renewIDMsg, bad)
	}
	if len(bad) > 0 {
		return renewal{}, invalid(bad...)
	}
	return renewal{signer: claim.Signer, lease: claim.Lease, ids: ids}, nil
}

// decodeRenewal reads a renewal body with encoding/json. The route is not
// Tatum's, so no client written for another server sends more than its
// members: one it does not know is listed in bad rather than ignored, and a
// key given twice or in another letter case, which encoding/json would read
// as the same member, refuses the body. A member of the wrong type is left
// absent (ids) or empty (signerId) for parseRenewal to describe; leaseErr
// is set when leaseSeconds is not an integer.
func decodeRenewal(body []byte) (f claimFields, ids []string, leaseErr error, bad []string, err error) {
	var members map[string]json.RawMessage
	if err := decodeJSON(body, &members); err != nil {
		return f, nil, nil, nil, err
	}
	if members == nil {
		return f, nil, nil, nil, invalid("body: must be a JSON object")
	}
	if err := strictjson.Check(body); err != nil {
		return f, nil, nil, nil, invalid("body: " + err.Error())
	}
	for _, k := range slices.Sorted(maps.Keys(members)) {
		switch k {
		case "signerId", "leaseSeconds", "ids":
			continue
		}
		if len(bad) == 10 { // a body of a million members answers in a few lines
			bad = append(bad, "body: further unknown members not listed")
			break
		}
		bad = append(bad, quote(k)+": is not a member of a renewal (signerId, leaseSeconds, ids)")
	}
	if raw, ok := members["signerId"]; ok {
		f.signer = new(string)
		_ = json.Unmarshal(raw, f.signer)
	}
	f.lease, leaseErr = jsonInt(members["leaseSeconds"], leaseMsg)
	if raw, ok := members["ids"]; ok && json.Unmarshal(raw, &ids) != nil {
		ids = nil
	}
	return f, ids, leaseErr, bad, nil
}

// renewLeases is POST /v3/kms/lease. It answers the ids renewed, in the
// request's order; the others (completed, deleted, failed, unknown, another
// tenant's, never leased or leased to another signer) are left out, which is
// no error: the signer stops working on them.
func (s *Server) renewLeases(w http.ResponseWriter, r *http.Request) error {
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	req, err := parseRenewal(body)
	if err != nil {
		return err
	}
	renewed, err := s.store.Renew(r.Context(), keyFrom(r.Context()).ID, req.signer, req.ids, req.lease)
	if err != nil {
		return err
	}
	s.charge(r, idCredits(len(req.ids)))
	writeJSON(w, http.StatusOK, struct {
		Renewed []string `json:"renewed"`
	}{renewed})
	return nil
}
