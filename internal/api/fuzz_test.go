package api

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// The fast signatureIds scanner must agree with encoding/json whenever it
// accepts a body, and decoding must never panic.
func FuzzDecodeSignatureIDs(f *testing.F) {
	for _, s := range []string{
		`{"signatureIds":["` + sigA + `"]}`,
		` { "signatureIds" : [ "a" , "b" ] } `,
		`{"signatureIds":[]}`,
		`{"signatureIds":["a\"b"]}`,
		`{"signatureIds":["é"]}`,
		`{"signatureIds":["a",]}`,
		`{"signatureIds":["a"]}x`,
		`{"signatureIds":null}`,
		`{"x":1,"signatureIds":["a"]}`,
		`[`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, ok := scanSignatureIDs(body)
		ids, err := decodeSignatureIDs(body)
		if err != nil {
			if _, isAPI := err.(*Error); !isAPI {
				t.Fatalf("non-API error %T %v", err, err)
			}
		}
		if !ok {
			return
		}
		var ref struct {
			SignatureIDs []string `json:"signatureIds"`
		}
		if jerr := json.Unmarshal(body, &ref); jerr != nil {
			t.Fatalf("scanner accepted %q that encoding/json refuses: %v", body, jerr)
		}
		if ref.SignatureIDs == nil {
			ref.SignatureIDs = []string{}
		}
		if !reflect.DeepEqual(fast, ref.SignatureIDs) || !reflect.DeepEqual(ids, fast) {
			t.Fatalf("scanner %q, encoding/json %q for %q", fast, ref.SignatureIDs, body)
		}
	})
}

// Whatever a client sends, the answer is a success or the error body with a
// 4xx status; never a 500 or a panic.
func fuzzRoute(f *testing.F, method, path string, seeds ...string) {
	for _, s := range seeds {
		f.Add(s)
	}
	e := newEnv(f) // one server and SQLite file for all inputs
	f.Fuzz(func(t *testing.T, body string) {
		e.t = t
		r := e.do(method, path, e.keyA, body)
		if r.status >= 200 && r.status < 300 {
			return
		}
		if r.status >= 500 {
			t.Fatalf("%s %s %q answered %d %s", method, path, body, r.status, r.body)
		}
		var er Error
		if err := json.Unmarshal(r.body, &er); err != nil || er.StatusCode != r.status || er.ErrorCode == "" {
			t.Fatalf("%q answered %d with %s", body, r.status, r.body)
		}
	})
}

func FuzzCreateRequest(f *testing.F) {
	fuzzRoute(f, "POST", "/v3/kms",
		`{"chain":"ETH","serializedTransaction":"x","hashes":["`+sigA+`"]}`,
		`{"chain":"BTC","serializedTransaction":"x","signatures":[{"id":"`+sigB+`","index":4294967296}]}`,
		`{"chain":"ETH","serializedTransaction":"x","hashes":["`+sigA+`"],"withdrawalResponses":[1,{"a":null}]}`,
		`{"chain":null,"hashes":[null]}`, `{"index":1e400}`, `"str"`, `null`, `{}`)
}

func FuzzPendingRequest(f *testing.F) {
	fuzzRoute(f, "POST", "/v3/kms/pending/ETH",
		`{"signatureIds":["`+sigA+`"]}`, `{"signatureIds":["\u0030"]}`, `{"signatureIds":[null]}`, `{"signatureIds":[]}`, `0`)
}

func FuzzLeaseRequest(f *testing.F) {
	fuzzRoute(f, "POST", "/v3/kms/lease",
		`{"signerId":"d1","ids":["ffffffffffffffffffffffff"]}`, `{"signerId":"d1","leaseSeconds":3600,"ids":["ffffffffffffffffffffffff"]}`,
		`{"signerId":null,"ids":[null]}`, `{"ids":{}}`, `{"signerId":"d1","signerId":"d2"}`, `0`)
}

// The renewal body parser never panics, answers only the API's errors, and
// accepts only what encoding/json, refusing unknown members, reads the same:
// a valid signer, a lease of whole seconds in range, 1 to MaxRenewIDs ids of
// the pending id's shape.
func FuzzParseRenewal(f *testing.F) {
	for _, s := range []string{
		`{"signerId":"d1","ids":["ffffffffffffffffffffffff"]}`,
		`{"signerId":"a.b:c-d_e","leaseSeconds":1,"ids":["ffffffffffffffffffffffff","ffffffffffffffffffffffff"]}`,
		`{"ids":["fffffffffffffffffffffff\u0066"],"leaseSeconds":null,"signerId":"\u0064"}`,
		`{"signerId":"d1","leaseSeconds":1e3,"ids":["ffffffffffffffffffffffff"]}`,
		`{"signerId":"d1","SignerId":"d2","ids":[]}`,
		`{"signerId":"d1","ids":["ffffffffffffffffffffffff"],"x":1}`,
		`{"ids":null}`, `[]`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := parseRenewal(body)
		if err != nil {
			if _, isAPI := err.(*Error); !isAPI {
				t.Fatalf("non-API error %T %v", err, err)
			}
			return
		}
		if !validSignerID(req.signer) || req.lease < time.Second || req.lease > MaxLeaseSeconds*time.Second ||
			req.lease%time.Second != 0 || len(req.ids) == 0 || len(req.ids) > MaxRenewIDs || slices.ContainsFunc(req.ids, func(id string) bool { return !isTxID(id) }) {
			t.Fatalf("accepted %+v from %q", req, body)
		}
		var ref struct {
			SignerID     string   `json:"signerId"`
			LeaseSeconds *int64   `json:"leaseSeconds"`
			IDs          []string `json:"ids"`
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&ref); err != nil {
			t.Fatalf("accepted %q, which encoding/json refuses: %v", body, err)
		}
		secs := int64(DefaultLeaseSeconds)
		if ref.LeaseSeconds != nil {
			secs = *ref.LeaseSeconds
		}
		if ref.SignerID != req.signer || time.Duration(secs)*time.Second != req.lease || !slices.Equal(ref.IDs, req.ids) {
			t.Fatalf("parsed %+v, encoding/json %+v from %q", req, ref, body)
		}
	})
}

func FuzzBroadcastRequest(f *testing.F) {
	fuzzRoute(f, "POST", "/v3/ethereum/broadcast",
		`{"txData":"0x01","signatureId":"ffffffffffffffffffffffff"}`, `{"txData":"0x01"}`, `{"signatureId":7}`)
}

func FuzzBroadcastBatchRequest(f *testing.F) {
	fuzzRoute(f, "POST", "/v3/ethereum/broadcast/batch",
		`{"transactions":[{"txData":"0x01","signatureId":"ffffffffffffffffffffffff"}]}`,
		`{"transactions":[{"txData":"0x01","signatureId":"ffffffffffffffffffffffff"},{"txData":"0x01","signatureId":"ffffffffffffffffffffffff"}]}`,
		`{"transactions":[null]}`, `{"transactions":[{}]}`, `{"transactions":{}}`)
}

// The batch body parser never panics, answers only the API's errors, and
// accepts only 1 to MaxBroadcastBatch items, each with a non-empty txData
// and a well-formed signatureId of its own.
func FuzzParseBroadcastBatch(f *testing.F) {
	for _, s := range []string{
		`{"transactions":[{"txData":"0x01","signatureId":"ffffffffffffffffffffffff"}]}`,
		`{"transactions":[{"txData":"0x01","signatureId":"ffffffffffffffffffffffff"},{"txData":"0x02","signatureId":"ffffffffffffffffffffffff"}]}`,
		`{"transactions":[{"txData":"\u0030","signatureId":"fffffffffffffffffffffff\u0066"}],"x":1}`,
		`{"transactions":[null]}`, `{"transactions":[]}`, `[]`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		items, err := parseBroadcastBatch(body, true)
		if err != nil {
			if _, isAPI := err.(*Error); !isAPI {
				t.Fatalf("non-API error %T %v", err, err)
			}
			return
		}
		if len(items) == 0 || len(items) > MaxBroadcastBatch {
			t.Fatalf("accepted %d items from %q", len(items), body)
		}
		seen := map[string]bool{}
		for _, it := range items {
			if !isTxID(it.id) || seen[it.id] || strings.TrimSpace(it.txData) == "" || len(it.txData) > MaxTxBody {
				t.Fatalf("accepted item %+v from %q", it, body)
			}
			seen[it.id] = true
		}
	})
}

func FuzzBatchRequest(f *testing.F) {
	fuzzRoute(f, "POST", "/v3/tatum/kms/batch",
		`{"errors":[{"signatureId":"ffffffffffffffffffffffff","error":"x"}]}`, `{"errors":[null]}`, `{"errors":[{}]}`)
}

func FuzzPendingQuery(f *testing.F) {
	for _, s := range []string{"signatures=" + sigA, "signatures=", "signatures=%zz", "signatures=a,,b&signatures=c", ""} {
		f.Add(s)
	}
	e := newEnv(f)
	f.Fuzz(func(t *testing.T, query string) {
		e.t = t
		defer func() {
			// httptest.NewRequest panics on a target it cannot parse: not our input.
			if p := recover(); p != nil && !isRequestBuildPanic(p) {
				panic(p)
			}
		}()
		r := e.do("GET", "/v3/kms/pending/ETH?"+query, e.keyA, nil)
		if r.status != 200 && r.status != 400 {
			t.Fatalf("query %q answered %d %s", query, r.status, r.body)
		}
	})
}

func isRequestBuildPanic(p any) bool {
	s, ok := p.(string)
	return ok && strings.Contains(s, "invalid NewRequest arguments")
}

// The subscription body parser never panics, answers only the API's errors,
// and accepts only a known type with a non-empty URL.
func FuzzParseSubscription(f *testing.F) {
	for _, s := range []string{
		`{"type":"KMS_COMPLETED_TX","attr":{"url":"https://8.8.8.8/"}}`,
		`{"type":"KMS_FAILED_TX","attr":{"url":"http://x"},"x":1}`,
		`{"type":"KMS_FAILED_TX","attr":null}`,
		`{"type":"KMS_FAILED_TX","attr":{"url":"a","URL":"b"}}`,
		`{"type":"KMS_FAILED_TX","attr":{"url":"\u0000"}}`,
		`{"type":"X"}`, `[]`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		typ, url, err := parseSubscription(body)
		if err != nil {
			if _, isAPI := err.(*Error); !isAPI {
				t.Fatalf("non-API error %T %v", err, err)
			}
			return
		}
		if typ != "KMS_COMPLETED_TX" && typ != "KMS_FAILED_TX" || url == "" {
			t.Fatalf("accepted type %q url %q from %q", typ, url, body)
		}
	})
}
