package approval

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custoskms/custos/intent"
)

var (
	secret = []byte("shared approval secret")
	now    = time.Unix(1700000000, 0)
)

const id = "65f1c0de0000000000000001"

func hmacHex(key []byte, s string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(s))
	return hex.EncodeToString(m.Sum(nil))
}

// Both MACs recomputed by hand from the documented canonical bytes.
func TestCanonicalBytes(t *testing.T) {
	got := RequestMAC([]byte("k"), "POST", "/approve/abc?x=1", "1700000000", []byte(`{"id":"abc"}`))
	if want := "sha256=" + hmacHex([]byte("k"), "POST\n/approve/abc?x=1\n1700000000\n"+`{"id":"abc"}`); got != want {
		t.Fatalf("request mac %s, want %s", got, want)
	}
	got = ResponseMAC([]byte("k"), id, "sha256:00", Refuse, 1700000000)
	if want := "sha256=" + hmacHex([]byte("k"), "custos-approval-response-v2\n"+id+"\nsha256:00\nrefuse\n1700000000"); got != want {
		t.Fatalf("response mac %s, want %s", got, want)
	}
	if d := Digest("abc"); d != "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("digest %s", d)
	}
}

// signedRequest builds a request as the daemon sends it; edit changes the
// body before it is signed.
func signedRequest(t *testing.T, path string, edit func(*Request)) *http.Request {
	req := Request{Version: Version, ID: id, Chain: "ETH", Network: "testnet", SignatureIDs: []string{"w"},
		Indexes: []uint32{}, SerializedTransaction: `{"to":"0xaa"}`, Digest: Digest(`{"to":"0xaa"}`),
		Intent: intent.Intent{Chain: "ETH", Network: "testnet"}, Timestamp: now.Unix()}
	if edit != nil {
		edit(&req)
	}
	body, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return rawRequest(path, body)
}

// validBody is the body of signedRequest's request.
func validBody(t *testing.T) []byte {
	b, err := io.ReadAll(signedRequest(t, "/approve/"+id, nil).Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func rawRequest(path string, body []byte) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	ts := strconv.FormatInt(now.Unix(), 10)
	r.Header.Set(HeaderTimestamp, ts)
	r.Header.Set(HeaderSignature, RequestMAC(secret, http.MethodPost, r.URL.RequestURI(), ts, body))
	return r
}

func TestParseRequest(t *testing.T) {
	req, err := ParseRequest(secret, signedRequest(t, "/approve/"+id, nil), now, time.Minute)
	if err != nil || req.ID != id || req.Intent.Chain != "ETH" {
		t.Fatalf("%+v %v", req, err)
	}
	for name, tc := range map[string]struct {
		r    *http.Request
		want error
	}{
		"another id than the path": {signedRequest(t, "/approve/65f1c0de0000000000000002", nil), ErrBadRequest},
		"digest of other bytes":    {signedRequest(t, "/approve/"+id, func(r *Request) { r.Digest = Digest("other") }), ErrBadRequest},
		"version 1":                {signedRequest(t, "/approve/"+id, func(r *Request) { r.Version = 1 }), ErrBadRequest},
		"body timestamp differs":   {signedRequest(t, "/approve/"+id, func(r *Request) { r.Timestamp++ }), ErrBadRequest},
		// Valid but for the key Go's decoder reads case-insensitively: the
		// digest is that of "b", which Go keeps, while a reader keeping the
		// first key shows "a".
		"duplicate keys": {rawRequest("/approve/"+id, []byte(`{"version":2,"id":"`+id+`","serializedTransaction":"a","SerializedTransaction":"b","digest":"`+
			Digest("b")+`","timestamp":`+strconv.FormatInt(now.Unix(), 10)+`}`)), ErrBadRequest},
		"oversize": {rawRequest("/approve/"+id, append(validBody(t), bytes.Repeat([]byte(" "), MaxRequestBytes)...)), ErrBadRequest},
	} {
		if _, err := ParseRequest(secret, tc.r, now, time.Minute); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	r := signedRequest(t, "/approve/"+id, nil)
	r.Header.Set(HeaderSignature, "sha256=00")
	if _, err := ParseRequest(secret, r, now, time.Minute); !errors.Is(err, ErrBadSignature) {
		t.Errorf("wrong MAC: %v", err)
	}
	if _, err := ParseRequest(secret, signedRequest(t, "/approve/"+id, nil), now.Add(2*time.Minute), time.Minute); !errors.Is(err, ErrBadSignature) {
		t.Errorf("stale request: %v", err)
	}
}

// answer runs Respond (or raw when set) and returns what a client receives.
func answer(t *testing.T, req Request, d Decision, at time.Time, edit func(*httptest.ResponseRecorder)) *http.Response {
	rec := httptest.NewRecorder()
	if err := Respond(rec, secret, req, d, "over the limit", at); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(rec)
	}
	return rec.Result()
}

func TestReadResponse(t *testing.T) {
	req := Request{ID: id, Digest: Digest("tx")}
	got, err := ReadResponse(secret, answer(t, req, Approve, now, nil), req, now, DefaultMaxAge)
	if err != nil || got.Decision != Approve {
		t.Fatalf("%+v %v", got, err)
	}
	got, err = ReadResponse(secret, answer(t, req, Refuse, now.Add(-59*time.Second), nil), req, now, DefaultMaxAge)
	if err != nil || got.Decision != Refuse || got.Reason != "over the limit" {
		t.Fatalf("refusal: %+v %v", got, err)
	}
	// Pending is a valid, signed answer that approves nothing: the caller
	// branches on the decision.
	got, err = ReadResponse(secret, answer(t, req, Pending, now, nil), req, now, DefaultMaxAge)
	if err != nil || got.Decision != Pending {
		t.Fatalf("pending: %+v %v", got, err)
	}
	other := Request{ID: id, Digest: Digest("other tx")}
	for name, resp := range map[string]*http.Response{
		"unsigned": answer(t, req, Approve, now, func(r *httptest.ResponseRecorder) { r.Result().Header.Del(HeaderSignature) }),
		"stale":    answer(t, req, Approve, now.Add(-61*time.Second), nil),
		"future":   answer(t, req, Approve, now.Add(61*time.Second), nil),
		"other digest": func() *http.Response {
			return answer(t, other, Approve, now, nil)
		}(),
		"other id": answer(t, Request{ID: "65f1c0de0000000000000002", Digest: req.Digest}, Approve, now, nil),
		"403":      {StatusCode: 403, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(""))},
	} {
		if _, err := ReadResponse(secret, resp, req, now, DefaultMaxAge); !errors.Is(err, ErrBadResponse) {
			t.Errorf("%s: %v, want ErrBadResponse", name, err)
		}
	}
	unsigned := answer(t, req, Approve, now, func(r *httptest.ResponseRecorder) { r.Result().Header.Del(HeaderSignature) })
	if _, err := ReadResponse(secret, unsigned, req, now, DefaultMaxAge); err == nil || !strings.Contains(err.Error(), "unsigned") {
		t.Errorf("unsigned: %v", err)
	}
	if _, err := ReadResponse([]byte("another secret"), answer(t, req, Approve, now, nil), req, now, DefaultMaxAge); !errors.Is(err, ErrBadResponse) {
		t.Errorf("wrong secret: %v", err)
	}
}
