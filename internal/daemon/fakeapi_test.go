package daemon

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

const testAPIKey = "test-api-key-0123456789"

// fakeAPI is an in-process double of the pending-transaction API: the four
// routes the daemon and its tests use, over an in-memory list. The real server
// and its store are tested in their own packages; the end-to-end test wires
// the daemon to them.
type fakeAPI struct {
	t   testing.TB
	srv *httptest.Server

	mu         sync.Mutex
	txs        []*fakeTx
	chunks     []int               // sizes of the signature-ID lists asked for
	limits     []int               // the claim limit of each pending request (0: none)
	broadcasts map[string][]string // pending id → txData submitted, in order
	order      []string            // every txData submitted, in the order received
	reported   []TxError
	// failBroadcast, when set, answers a broadcast with this status (0 =
	// success) and the API's code for it: broadcast.rejected for 403 (a node
	// refusal that may heal), broadcast.nodeUnavailable for 502.
	failBroadcast func(id string) int
	// endBroadcast, when set and true, answers a broadcast as the API does
	// for a node refusal no retry heals: 403 broadcast.failed. The
	// transaction stays pending here, as it does on an API that does not end
	// such transactions itself.
	endBroadcast func(id string) bool
	// failBatch answers error reports with 400 while > 0 reports remain
	// (a 4xx, so that the client does not retry).
	failBatch int
	// failPending answers pending requests with this status while > 0 requests remain.
	failPending, failPendingStatus int
	pendingCalls                   int
	// rewrite, when set, edits each pending answer's JSON before it is sent
	// (to serve what json.Encoder cannot write, such as duplicate keys).
	rewrite func([]byte) []byte
	// noBatchRoute, when set, answers the batch broadcast route with this
	// status, as an API without it does: 404 or 405 (Tatum's API, an
	// older Custos).
	noBatchRoute int
	// gate, when set, is called as each batch request arrives, before it
	// is taken: a test holds a batch in flight with it.
	gate func()
	// batchAsks counts batch requests, those refused included.
	batchAsks int
	// rewriteBatch, when set, edits each batch broadcast answer's JSON
	// before it is sent (a hostile or broken API).
	rewriteBatch func([]byte) []byte
	// singles and batches count the broadcast requests of each route;
	// batchSizes holds the items of each batch request.
	singles, batches int
	batchSizes       []int
	// renews serves POST /v3/kms/lease (an API without it answers 404):
	// every asked id that is pending is renewed, but those in lostLease.
	renews    bool
	lostLease map[string]bool
	// renewals holds the ids of each renewal request.
	renewals [][]string
}

type fakeTx struct {
	PendingTx
	completed string
}

func newFakeAPI(t testing.TB) *fakeAPI {
	f := &fakeAPI{t: t, broadcasts: map[string][]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v3/kms/pending/{chain}", f.pending)
	mux.HandleFunc("POST /v3/{slug}/broadcast", f.broadcast)
	mux.HandleFunc("POST /v3/{slug}/broadcast/batch", f.broadcastBatch)
	mux.HandleFunc("POST /v3/tatum/kms/batch", f.batch)
	mux.HandleFunc("GET /v3/kms/{id}", f.get)
	mux.HandleFunc("POST /v3/kms/lease", f.renew)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-API-Key") != testAPIKey {
			writeErr(w, 401, "auth.missing")
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func writeErr(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errorCode": code, "message": "fake " + code, "statusCode": status})
}

func (f *fakeAPI) add(tx PendingTx) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if tx.Hashes == nil {
		tx.Hashes = []string{}
	}
	f.txs = append(f.txs, &fakeTx{PendingTx: tx})
}

func (f *fakeAPI) client() *Client {
	c, err := NewClient(f.srv.URL, testAPIKey)
	if err != nil {
		f.t.Fatal(err)
	}
	c.Backoff, c.MaxBackoff = 1, 2 // nanoseconds: tests do not wait
	return c
}

func (f *fakeAPI) pending(w http.ResponseWriter, r *http.Request) {
	var body struct {
		SignatureIDs []string `json:"signatureIds"`
		Limit        int      `json:"limit"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeErr(w, 400, "validation.failed")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pendingCalls++
	if f.failPending > 0 {
		f.failPending--
		writeErr(w, f.failPendingStatus, "fake.failure")
		return
	}
	f.chunks = append(f.chunks, len(body.SignatureIDs))
	f.limits = append(f.limits, body.Limit)
	want := map[string]bool{}
	for _, id := range body.SignatureIDs {
		want[id] = true
	}
	out := []PendingTx{}
	for _, tx := range f.txs {
		if tx.Chain != r.PathValue("chain") || tx.completed != "" {
			continue
		}
		match := slices.ContainsFunc(tx.Hashes, func(h string) bool { return want[h] }) ||
			slices.ContainsFunc(tx.Signatures, func(s Signature) bool { return want[s.ID] })
		if match && (body.Limit <= 0 || len(out) < body.Limit) {
			out = append(out, tx.PendingTx)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	b, _ := json.Marshal(out)
	if f.rewrite != nil {
		b = f.rewrite(b)
	}
	_, _ = w.Write(b)
}

func (f *fakeAPI) find(id string) *fakeTx {
	for _, tx := range f.txs {
		if tx.ID == id {
			return tx
		}
	}
	return nil
}

func (f *fakeAPI) broadcast(w http.ResponseWriter, r *http.Request) {
	var body struct {
		TxData      string `json:"txData"`
		SignatureID string `json:"signatureId"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.TxData == "" {
		writeErr(w, 400, "validation.failed")
		return
	}
	f.mu.Lock()
	f.singles++
	status, answer := f.submit(body.TxData, body.SignatureID)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(answer)
}

// submit is one broadcast, answered as the single route answers it: its
// status and body. f.mu is held.
func (f *fakeAPI) submit(txData, id string) (int, map[string]any) {
	fail := func(status int, code string) (int, map[string]any) {
		return status, map[string]any{"errorCode": code, "message": "fake " + code, "statusCode": status}
	}
	tx := f.find(id)
	if tx == nil {
		return fail(403, "kms.not.found")
	}
	f.broadcasts[tx.ID] = append(f.broadcasts[tx.ID], txData)
	f.order = append(f.order, txData)
	if f.endBroadcast != nil && f.endBroadcast(tx.ID) {
		return fail(http.StatusForbidden, codeTxFailed)
	}
	if f.failBroadcast != nil {
		if st := f.failBroadcast(tx.ID); st != 0 {
			code := map[int]string{403: "broadcast.rejected", 502: "broadcast.nodeUnavailable"}[st]
			if code == "" {
				code = "fake.failure"
			}
			return fail(st, code)
		}
	}
	txID := "0x" + strings.Repeat("ab", 32)
	if len(txData) >= 10 {
		txID = "tx-" + txData[len(txData)-10:]
	}
	tx.completed = txID
	return 200, map[string]any{"txId": txID, "completed": true}
}

// broadcastBatch is POST /v3/{slug}/broadcast/batch: each item as the
// single route would take it, in order, and its answer (an error under
// "error") in the results.
func (f *fakeAPI) broadcastBatch(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.batchAsks++
	gate, noRoute := f.gate, f.noBatchRoute
	f.mu.Unlock()
	if gate != nil {
		gate()
	}
	if noRoute != 0 {
		writeErr(w, noRoute, "route.notFound")
		return
	}
	var body struct {
		Transactions []struct {
			TxData      string `json:"txData"`
			SignatureID string `json:"signatureId"`
		} `json:"transactions"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body.Transactions) == 0 || len(body.Transactions) > 256 {
		writeErr(w, 400, "validation.failed")
		return
	}
	seen := map[string]bool{}
	for _, t := range body.Transactions {
		if t.TxData == "" || t.SignatureID == "" || seen[t.SignatureID] {
			writeErr(w, 400, "validation.failed")
			return
		}
		seen[t.SignatureID] = true
	}
	f.mu.Lock()
	f.batches++
	f.batchSizes = append(f.batchSizes, len(body.Transactions))
	results := make([]map[string]any, len(body.Transactions))
	for i, t := range body.Transactions {
		status, answer := f.submit(t.TxData, t.SignatureID)
		if status != 200 {
			answer = map[string]any{"error": answer}
		}
		answer["signatureId"] = t.SignatureID
		results[i] = answer
	}
	rewrite := f.rewriteBatch
	f.mu.Unlock()
	b, _ := json.Marshal(map[string]any{"results": results})
	if rewrite != nil {
		b = rewrite(b)
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// requests returns how many broadcast requests each route took, and the
// items of each batch request.
func (f *fakeAPI) requests() (singles, batches int, sizes []int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.singles, f.batches, slices.Clone(f.batchSizes)
}

func (f *fakeAPI) batch(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Errors []TxError `json:"errors"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeErr(w, 400, "validation.failed")
		return
	}
	f.mu.Lock()
	if f.failBatch > 0 {
		f.failBatch--
		f.mu.Unlock()
		writeErr(w, 400, "validation.failed")
		return
	}
	f.reported = append(f.reported, body.Errors...)
	f.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (f *fakeAPI) get(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	tx := f.find(r.PathValue("id"))
	if tx == nil {
		writeErr(w, 403, "kms.not.found")
		return
	}
	p := tx.PendingTx
	p.TxID = tx.completed
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(p)
}

// submitted returns what was broadcast for id.
func (f *fakeAPI) submitted(id string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.broadcasts[id])
}

// received returns every txData submitted, in the order the API got them.
func (f *fakeAPI) received() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.order)
}

func (f *fakeAPI) errorsReported() []TxError {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.reported)
}

// memKeys is a key source over a fixture map.
type memKeys struct {
	mu      sync.Mutex
	wallets map[string]Wallet
	lists   int
}

func newMemKeys(ws ...Wallet) *memKeys {
	k := &memKeys{wallets: map[string]Wallet{}}
	for _, w := range ws {
		k.wallets[w.SignatureID] = w
	}
	return k
}

func (k *memKeys) put(w Wallet) {
	k.mu.Lock()
	k.wallets[w.SignatureID] = w
	k.mu.Unlock()
}

func (k *memKeys) List(context.Context) ([]WalletRef, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.lists++
	out := make([]WalletRef, 0, len(k.wallets))
	for _, w := range k.wallets {
		out = append(out, w.WalletRef)
	}
	slices.SortFunc(out, func(a, b WalletRef) int { return strings.Compare(a.SignatureID, b.SignatureID) })
	return out, nil
}

func (k *memKeys) Wallet(_ context.Context, id string) (Wallet, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	w, ok := k.wallets[id]
	if !ok {
		return Wallet{}, ErrUnknownWallet
	}
	return w, nil
}

func (f *fakeAPI) renew(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.renews {
		writeErr(w, http.StatusNotFound, "route.notFound")
		return
	}
	var body struct {
		SignerID string   `json:"signerId"`
		IDs      []string `json:"ids"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.SignerID == "" || len(body.IDs) == 0 {
		writeErr(w, 400, "validation.failed")
		return
	}
	f.renewals = append(f.renewals, body.IDs)
	renewed := []string{}
	for _, id := range body.IDs {
		if tx := f.find(id); tx != nil && tx.completed == "" && !f.lostLease[id] {
			renewed = append(renewed, id)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"renewed": renewed})
}

// renewed returns the ids of each renewal request so far.
func (f *fakeAPI) renewedIDs() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.renewals)
}
