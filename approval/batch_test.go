package approval

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custoskms/custos/intent"
)

// batchOf returns n requests as the daemon builds them, with distinct ids.
func batchOf(n int) []Request {
	out := make([]Request, n)
	for i := range out {
		tx := fmt.Sprintf(`{"to":"0xaa","nonce":%d}`, i)
		out[i] = Request{Version: Version, ID: fmt.Sprintf("65f1c0de%016d", i), Chain: "ETH", Network: "testnet",
			SignatureIDs: []string{"w"}, Indexes: []uint32{}, SerializedTransaction: tx, Digest: Digest(tx),
			Intent: intent.Intent{Chain: "ETH", Network: "testnet"}, Timestamp: now.Unix()}
	}
	return out
}

func batchBody(t testing.TB, reqs []Request) []byte {
	b, err := json.Marshal(BatchRequest{Version: Version, Requests: reqs})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseBatchRequest(t *testing.T) {
	reqs := batchOf(3)
	got, err := ParseBatchRequest(secret, rawRequest("/approve/batch", batchBody(t, reqs)), now, time.Minute)
	if err != nil || len(got) != 3 || got[2].ID != reqs[2].ID || got[1].Digest != reqs[1].Digest {
		t.Fatalf("%+v %v", got, err)
	}
	edited := func(i int, edit func(*Request)) []byte {
		rs := batchOf(3)
		edit(&rs[i])
		return batchBody(t, rs)
	}
	for name, tc := range map[string]struct {
		r    *http.Request
		want error
	}{
		"not the batch path": {rawRequest("/approve/"+id, batchBody(t, reqs)), ErrBadRequest},
		"empty":              {rawRequest("/approve/batch", batchBody(t, []Request{})), ErrBadRequest},
		"too many":           {rawRequest("/approve/batch", batchBody(t, batchOf(MaxBatch+1))), ErrBadRequest},
		"batch version 1": {rawRequest("/approve/batch", []byte(strings.Replace(string(batchBody(t, reqs)),
			`{"version":2,`, `{"version":1,`, 1))), ErrBadRequest},
		"item version 1":       {rawRequest("/approve/batch", edited(1, func(r *Request) { r.Version = 1 })), ErrBadRequest},
		"item digest":          {rawRequest("/approve/batch", edited(2, func(r *Request) { r.Digest = Digest("other") })), ErrBadRequest},
		"item timestamp":       {rawRequest("/approve/batch", edited(0, func(r *Request) { r.Timestamp-- })), ErrBadRequest},
		"item id form":         {rawRequest("/approve/batch", edited(0, func(r *Request) { r.ID = "batch" })), ErrBadRequest},
		"same id twice":        {rawRequest("/approve/batch", edited(0, func(r *Request) { r.ID = reqs[1].ID })), ErrBadRequest},
		"duplicate batch keys": {rawRequest("/approve/batch", []byte(`{"version":2,"requests":[],"Requests":[]}`)), ErrBadRequest},
		"oversize": {rawRequest("/approve/batch", append(batchBody(t, reqs),
			bytes.Repeat([]byte(" "), MaxBatchRequestBytes)...)), ErrBadRequest},
	} {
		if _, err := ParseBatchRequest(secret, tc.r, now, time.Minute); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	r := rawRequest("/approve/batch", batchBody(t, reqs))
	r.Header.Set(HeaderSignature, "sha256=00")
	if _, err := ParseBatchRequest(secret, r, now, time.Minute); !errors.Is(err, ErrBadSignature) {
		t.Errorf("wrong MAC: %v", err)
	}
	if _, err := ParseBatchRequest(secret, rawRequest("/approve/batch", batchBody(t, reqs)), now.Add(2*time.Minute), time.Minute); !errors.Is(err, ErrBadSignature) {
		t.Errorf("stale request: %v", err)
	}
}

// batchAnswer is RespondBatch's answer to reqs, each decided d, at at;
// edit changes the decoded body before it is sent.
func batchAnswer(t testing.TB, reqs []Request, d Decision, at time.Time, edit func(*BatchResponse)) *http.Response {
	rec := httptest.NewRecorder()
	answers := make([]Answer, len(reqs))
	for i := range answers {
		answers[i] = Answer{Decision: d, Reason: "over the limit"}
	}
	if err := RespondBatch(rec, secret, reqs, answers, at); err != nil {
		t.Fatal(err)
	}
	body := rec.Body.Bytes()
	if edit != nil {
		var b BatchResponse
		if err := json.Unmarshal(body, &b); err != nil {
			t.Fatal(err)
		}
		edit(&b)
		var err error
		if body, err = json.Marshal(b); err != nil {
			t.Fatal(err)
		}
	}
	return &http.Response{StatusCode: rec.Code, Header: rec.Header(), Body: io.NopCloser(bytes.NewReader(body))}
}

// Each item's signature is exactly a single answer's X-Custos-Signature.
func TestBatchItemMAC(t *testing.T) {
	reqs := batchOf(2)
	res, err := ReadBatchResponse(secret, batchAnswer(t, reqs, Refuse, now, nil), reqs, now, DefaultMaxAge)
	if err != nil {
		t.Fatal(err)
	}
	var b BatchResponse
	_ = json.Unmarshal(must(io.ReadAll(batchAnswer(t, reqs, Refuse, now, nil).Body)), &b)
	for i, it := range b.Responses {
		single := answer(t, reqs[i], Refuse, now, nil)
		if want := single.Header.Get(HeaderSignature); it.Signature != want {
			t.Errorf("item %d signature %s, a single answer's %s", i, it.Signature, want)
		}
		want := "sha256=" + hmacHex(secret, "custos-approval-response-v2\n"+reqs[i].ID+"\n"+reqs[i].Digest+"\nrefuse\n"+strconv.FormatInt(now.Unix(), 10))
		if it.Signature != want {
			t.Errorf("item %d signature %s, canonical bytes give %s", i, it.Signature, want)
		}
		if res[i].Err != nil || res[i].Response.Decision != Refuse || res[i].Response.Reason != "over the limit" {
			t.Errorf("item %d: %+v", i, res[i])
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestReadBatchResponse(t *testing.T) {
	reqs := batchOf(3)
	// Reordered items are found by id.
	res, err := ReadBatchResponse(secret, batchAnswer(t, reqs, Approve, now, func(b *BatchResponse) {
		b.Responses[0], b.Responses[2] = b.Responses[2], b.Responses[0]
	}), reqs, now, DefaultMaxAge)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil || r.Response.Decision != Approve || r.Response.ID != reqs[i].ID {
			t.Errorf("reordered, item %d: %+v", i, r)
		}
	}
	// Per item: the hostile items answer nothing; the others stand.
	for name, tc := range map[string]struct {
		edit func(*BatchResponse)
		bad  int // the request left without a valid answer
	}{
		"missing":          {func(b *BatchResponse) { b.Responses = b.Responses[:2] }, 2},
		"duplicated":       {func(b *BatchResponse) { b.Responses = append(b.Responses, b.Responses[1]) }, 1},
		"wrong digest":     {func(b *BatchResponse) { b.Responses[0].Digest = Digest("other") }, 0},
		"decision changed": {func(b *BatchResponse) { b.Responses[2].Decision = Approve }, 2},
		"unsigned":         {func(b *BatchResponse) { b.Responses[1].Signature = "" }, 1},
		"another's signature": {func(b *BatchResponse) {
			b.Responses[1].Signature = b.Responses[0].Signature
		}, 1},
		"stale": {func(b *BatchResponse) {
			b.Responses[0].Timestamp = now.Add(-61 * time.Second).Unix()
			b.Responses[0].Signature = SignResponse(secret, b.Responses[0].Response)
		}, 0},
		"unknown decision": {func(b *BatchResponse) {
			b.Responses[1].Decision = "maybe"
			b.Responses[1].Signature = SignResponse(secret, b.Responses[1].Response)
		}, 1},
		"extra, not asked": {func(b *BatchResponse) {
			x := b.Responses[0]
			x.ID = "65f1c0de9999999999999999"
			b.Responses = append(b.Responses, x)
			b.Responses[1].ID = "65f1c0de9999999999999998"
		}, 1},
	} {
		// "decision changed" refuses item 2, then says approve unsigned.
		d := Pending
		if name == "decision changed" {
			d = Refuse
		}
		res, err := ReadBatchResponse(secret, batchAnswer(t, reqs, d, now, tc.edit), reqs, now, DefaultMaxAge)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for i, r := range res {
			if i == tc.bad {
				if !errors.Is(r.Err, ErrBadResponse) || r.Response.Decision != "" {
					t.Errorf("%s: item %d taken: %+v", name, i, r)
				}
			} else if r.Err != nil {
				t.Errorf("%s: item %d: %v", name, i, r.Err)
			}
		}
	}
	// The whole answer.
	wrong := []Request{reqs[0], reqs[1], batchOf(4)[3]}
	for name, resp := range map[string]*http.Response{
		"oversize": batchAnswer(t, reqs, Approve, now, func(b *BatchResponse) {
			b.Responses[0].Reason = strings.Repeat("x", 3*MaxBatchItemBytes)
		}),
		"duplicate keys": {StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`{"responses":[],"Responses":[]}`))},
		"not json":       {StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`<html>`))},
	} {
		if res, err := ReadBatchResponse(secret, resp, reqs, now, DefaultMaxAge); !errors.Is(err, ErrBadResponse) || res != nil {
			t.Errorf("%s: %v %v", name, res, err)
		}
	}
	res, err = ReadBatchResponse(secret, batchAnswer(t, reqs, Approve, now, nil), wrong, now, DefaultMaxAge)
	if err != nil || res[2].Err == nil || res[0].Err != nil {
		t.Errorf("answer to other requests: %+v %v", res, err)
	}
	for status, noBatch := range map[int]bool{404: true, 405: true, 500: false, 401: false, 204: false} {
		_, err := ReadBatchResponse(secret, &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(""))}, reqs, now, DefaultMaxAge)
		var se *StatusError
		if !errors.As(err, &se) || !errors.Is(err, ErrBadResponse) || se.NoBatch() != noBatch {
			t.Errorf("HTTP %d: %v", status, err)
		}
	}
	if _, err := ReadBatchResponse([]byte("another secret"), batchAnswer(t, reqs, Approve, now, nil), reqs, now, DefaultMaxAge); err != nil {
		t.Fatal(err)
	} else if res, _ := ReadBatchResponse([]byte("another secret"), batchAnswer(t, reqs, Approve, now, nil), reqs, now, DefaultMaxAge); res[0].Err == nil {
		t.Errorf("wrong secret approved")
	}
}

// RespondBatch keeps every answer within its bound whatever the reason.
func TestRespondBatchShortensReasons(t *testing.T) {
	reqs := batchOf(MaxBatch)
	rec := httptest.NewRecorder()
	answers := make([]Answer, len(reqs))
	for i := range answers {
		answers[i] = Answer{Decision: Refuse, Reason: strings.Repeat("é", 10_000)}
	}
	if err := RespondBatch(rec, secret, reqs, answers, now); err != nil {
		t.Fatal(err)
	}
	if rec.Body.Len() > MaxBatch*MaxBatchItemBytes {
		t.Fatalf("answer of %d bytes", rec.Body.Len())
	}
	res, err := ReadBatchResponse(secret, rec.Result(), reqs, now, DefaultMaxAge)
	if err != nil || res[0].Err != nil || len(res[0].Response.Reason) != MaxBatchReasonBytes {
		t.Fatalf("%v %+v", err, res[0])
	}
	if err := RespondBatch(httptest.NewRecorder(), secret, reqs, answers[1:], now); err == nil {
		t.Fatal("answers of another length written")
	}
}

func FuzzParseBatchRequest(f *testing.F) {
	f.Add(batchBody(f, batchOf(2)))
	f.Add([]byte(`{"version":2,"requests":[{}]}`))
	f.Add([]byte(`{"version":2,"requests":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		reqs, err := ParseBatchRequest(secret, rawRequest("/approve/batch", body), now, time.Minute)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, r := range reqs {
			if !ValidID(r.ID) || seen[r.ID] || r.Digest != Digest(r.SerializedTransaction) || r.Timestamp != now.Unix() {
				t.Fatalf("accepted %+v", r)
			}
			seen[r.ID] = true
		}
		if len(reqs) == 0 || len(reqs) > MaxBatch {
			t.Fatalf("accepted %d requests", len(reqs))
		}
	})
}

func FuzzReadBatchResponse(f *testing.F) {
	reqs := batchOf(3)
	f.Add(must(io.ReadAll(batchAnswer(f, reqs, Approve, now, nil).Body)))
	f.Add([]byte(`{"responses":[{"id":"65f1c0de0000000000000000"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := ReadBatchResponse(secret, &http.Response{StatusCode: 200, Header: http.Header{},
			Body: io.NopCloser(bytes.NewReader(body))}, reqs, now, DefaultMaxAge)
		if err != nil {
			return
		}
		if len(res) != len(reqs) {
			t.Fatalf("%d results for %d requests", len(res), len(reqs))
		}
		for i, r := range res {
			if r.Err != nil {
				continue
			}
			// Whatever is taken is a signed answer to that very request.
			if r.Response.ID != reqs[i].ID || r.Response.Digest != reqs[i].Digest ||
				VerifyResponse(secret, r.Response, SignResponse(secret, r.Response), reqs[i], now, DefaultMaxAge) != nil {
				t.Fatalf("took %+v for %s", r.Response, reqs[i].ID)
			}
		}
	})
}
