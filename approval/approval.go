// Package approval is the wire protocol between the custos signer daemon
// and an operator's approval service: the request the daemon sends before it
// signs a transaction, the signed answer it needs, and the helpers a service
// written in Go uses to check one and write the other.
//
// Protocol v2 (the daemon's default) sends POST {url}/{id} with a JSON
// Request: the exact bytes the daemon will sign, their digest, and the
// transaction's intent decoded from those bytes by the daemon's own codec,
// so that the service decides on what is signed and not on what an API
// says. The service answers 200 with a JSON Response naming the request's id
// and digest and its decision, authenticated by an HMAC over those fields
// and a timestamp. Anything else (no signature, a wrong one, a stale
// timestamp, another id or digest, another status) is not an approval: the
// daemon asks again later. A signed "refuse" is final.
//
// Protocol v1 (Tatum KMS's, behind --approval-protocol v1) sends GET
// {url}/{id}, or POST with the pending transaction's JSON, and takes any 2xx
// as approval; its requests carry the same HMAC headers as v2's.
//
// A minimal v2 service:
//
//	func handle(w http.ResponseWriter, r *http.Request) {
//		req, err := approval.ParseRequest(secret, r, time.Now(), time.Minute)
//		if err != nil {
//			http.Error(w, "bad request", http.StatusBadRequest)
//			return
//		}
//		d, reason := decide(req.Intent) // the service's own rules
//		_ = approval.Respond(w, secret, req, d, reason, time.Now())
//	}
package approval

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/custoskms/custos/intent"
)

// Requests and v2 responses carry their authentication in headers:
//
//	X-Custos-Timestamp: <Unix time in seconds, decimal>            (requests)
//	X-Custos-Signature: sha256=<lowercase hex of HMAC-SHA256(secret, canonical)>
//
// A request's canonical bytes are RequestMAC's, a response's ResponseMAC's.
// The secret is the daemon's CUSTOS_APPROVAL_SECRET.
const (
	HeaderSignature = "X-Custos-Signature"
	HeaderTimestamp = "X-Custos-Timestamp"
)

// Version is the protocol version of Request.
const Version = 2

// Limits of the protocol.
const (
	// DefaultMaxAge is how far a response's timestamp may be from the
	// daemon's clock (either way) by default.
	DefaultMaxAge = 60 * time.Second
	// MaxResponseBytes caps a response body: a longer one is not approval.
	MaxResponseBytes = 64 << 10
	// MaxRequestBytes caps the request body ParseRequest reads: the pending
	// transaction (at most 8 MiB) and its intent.
	MaxRequestBytes = 16 << 20
	// DigestPrefix starts Digest's value.
	DigestPrefix = "sha256:"
)

// Request is the body of a v2 approval request (POST {url}/{id}).
type Request struct {
	// Version is 2.
	Version int `json:"version"`
	// ID is the pending transaction's id (24 characters of [0-9a-zA-Z]),
	// also the last segment of the request's path.
	ID string `json:"id"`
	// Chain is the currency code (ETH, BTC…), Network "mainnet" or "testnet".
	Chain   string `json:"chain"`
	Network string `json:"network"`
	// SignatureIDs are the wallets the transaction names (hashes[], then
	// signatures[] ids); the daemon signs only with wallets it manages.
	SignatureIDs []string `json:"signatureIds"`
	// Indexes are the derivation indexes the keys come from (the
	// transaction's index, or each signatures[] index); empty for
	// private-key wallets.
	Indexes []uint32 `json:"indexes"`
	// SerializedTransaction is the transaction exactly as the daemon will
	// sign it, verbatim.
	SerializedTransaction string `json:"serializedTransaction"`
	// Digest is Digest(SerializedTransaction); the response must repeat it.
	Digest string `json:"digest"`
	// Intent is what the transaction does, decoded from
	// SerializedTransaction by the daemon's codec for the chain.
	Intent intent.Intent `json:"intent"`
	// Timestamp is the X-Custos-Timestamp header's value, as a number.
	Timestamp int64 `json:"timestamp"`
	// QueuedBy is who queued the transaction, when the daemon knows it (the
	// API names the key in its pending answer); nil otherwise. Added to v2
	// without a version change: a service that predates it ignores it.
	QueuedBy *QueuedBy `json:"queuedBy,omitempty"`
}

// HeaderAPIKeyID is the header in which the API's pending answers
// (GET and POST /v3/kms/pending/{chain}) name the calling API key's id.
// Every transaction of a key's answer was queued by that key (a key is its
// own tenant), so the daemon copies it into each request's QueuedBy.
const HeaderAPIKeyID = "X-Custos-Api-Key-Id"

// QueuedBy names the API key that queued a transaction.
type QueuedBy struct {
	// APIKeyID is the key's id as `custos apikey create` and `apikey list`
	// show it (a key's name is a free label, neither unique nor required,
	// so the id is what a service can match on).
	APIKeyID string `json:"apiKeyId"`
}

// Decision is a service's answer.
type Decision string

// The decisions a Response carries.
const (
	Approve Decision = "approve"
	// Refuse is final: the daemon ends the transaction, reports Reason to
	// the API as its error, and never asks about it again.
	Refuse Decision = "refuse"
	// Pending says the service has not decided yet (its operators have not
	// all answered): the daemon leaves the transaction pending and asks
	// again at its next period, as it does for any answer that is not an
	// approval, but can tell a waiting service from a broken one. A daemon
	// that predates it takes it as an unknown decision, which ends the same
	// way.
	Pending Decision = "pending"
)

// Response is the body of a v2 answer (HTTP 200, application/json), with
// the X-Custos-Signature header ResponseMAC gives.
type Response struct {
	ID       string   `json:"id"`
	Digest   string   `json:"digest"`
	Decision Decision `json:"decision"`
	// Reason is shown with a refusal (with "pending", what the service is
	// waiting for); not covered by the signature.
	Reason string `json:"reason,omitempty"`
	// Timestamp is the service's Unix time in seconds when it answered.
	Timestamp int64 `json:"timestamp"`
}

// Digest is "sha256:" and the lowercase hex SHA-256 of serialized's bytes.
func Digest(serialized string) string {
	h := sha256.Sum256([]byte(serialized))
	return DigestPrefix + hex.EncodeToString(h[:])
}

// RequestMAC returns the X-Custos-Signature value of a request (both
// protocols). The canonical bytes are four fields joined by a line feed:
//
//	METHOD "\n" REQUEST-URI "\n" TIMESTAMP "\n" BODY
//
// METHOD is "GET" or "POST"; REQUEST-URI the path as sent on the wire,
// escaped, with the query if any (Go: r.URL.RequestURI(), e.g.
// "/approve/65f1c0de0000000000000001"); TIMESTAMP the X-Custos-Timestamp
// value; BODY the exact body bytes (empty for a GET).
func RequestMAC(secret []byte, method, requestURI, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(method))
	m.Write([]byte{'\n'})
	m.Write([]byte(requestURI))
	m.Write([]byte{'\n'})
	m.Write([]byte(timestamp))
	m.Write([]byte{'\n'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// responseDomain starts a response's canonical bytes, so that no request's
// MAC (which starts with its method) can pass for a response's.
const responseDomain = "custos-approval-response-v2"

// ResponseMAC returns the X-Custos-Signature value of a v2 response. The
// canonical bytes are five fields joined by a line feed:
//
//	"custos-approval-response-v2" "\n" ID "\n" DIGEST "\n" DECISION "\n" TIMESTAMP
//
// ID, DIGEST and DECISION are the response's fields as sent, TIMESTAMP its
// timestamp in decimal without sign or leading zeros. None may hold a line
// feed (an id, a digest and a decision cannot).
func ResponseMAC(secret []byte, id, digest string, decision Decision, timestamp int64) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(responseDomain + "\n" + id + "\n" + digest + "\n" + string(decision) + "\n" + strconv.FormatInt(timestamp, 10)))
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// SignResponse returns the X-Custos-Signature value of resp.
func SignResponse(secret []byte, resp Response) string {
	return ResponseMAC(secret, resp.ID, resp.Digest, resp.Decision, resp.Timestamp)
}

// ValidID reports whether id has a pending transaction id's form: exactly
// 24 characters of [0-9a-zA-Z]. Only such an id goes into an approval URL.
func ValidID(id string) bool {
	if len(id) != 24 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// fresh reports whether a Unix timestamp is within maxAge of now, either way.
func fresh(ts int64, now time.Time, maxAge time.Duration) bool {
	d := now.Sub(time.Unix(ts, 0))
	return d <= maxAge && d >= -maxAge
}
