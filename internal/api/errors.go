package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/pending"
	"github.com/custoskms/custos/internal/ratelimit"
)

// Stable error codes of the error body; the OpenAPI document lists them all.
const (
	CodeValidation           = "validation.failed"
	CodeBodyTooLarge         = "request.tooLarge"
	CodeUnauthorized         = "apikey.invalid"
	CodeScopeMissing         = "apikey.scopeMissing"
	CodeRateLimited          = "apikey.rateLimited"
	CodeTxNotFound           = "kms.tx.notFound"
	CodeTxDeleted            = "kms.tx.deleted"
	CodeTxCompleted          = "kms.tx.completed"
	CodeTxIDConflict         = "kms.tx.txIdConflict"
	CodeTxNotReplaceable     = "kms.tx.notReplaceable"
	CodeChainMismatch        = "broadcast.chainMismatch"
	CodeTxMismatch           = "broadcast.mismatch"
	CodeNoNode               = "broadcast.nodeNotConfigured"
	CodeRejected             = "broadcast.rejected"
	CodeTxFailed             = "broadcast.failed"
	CodeNodeUnavailable      = "broadcast.nodeUnavailable"
	CodeSubscriptionNotFound = "subscription.notFound"
	CodeDeadLetterNotFound   = "subscription.deadLetterNotFound"
	CodeRouteNotFound        = "route.notFound"
	CodeMethodNotAllowed     = "route.methodNotAllowed"
	CodeStoreUnavailable     = "store.unavailable"
	CodeInternal             = "internal.error"
	validationMessage        = "Request validation failed. Please see data for additional information."
	unauthorizedMessage      = "Missing, unknown or revoked X-API-Key."
	internalErrorMessage     = "Internal server error."
	storeUnavailableMsg      = "The pending store is not available."
	routeNotFoundMessage     = "No such route."
	methodNotAllowMessage    = "Method not allowed for this route."
)

// ErrorCodes lists every errorCode the API answers with.
var ErrorCodes = []string{CodeValidation, CodeBodyTooLarge, CodeUnauthorized, CodeScopeMissing, CodeRateLimited, CodeTxNotFound, CodeTxDeleted,
	CodeTxCompleted, CodeTxIDConflict, CodeTxNotReplaceable, CodeChainMismatch, CodeTxMismatch, CodeNoNode, CodeRejected, CodeTxFailed, CodeNodeUnavailable,
	CodeSubscriptionNotFound, CodeDeadLetterNotFound, CodeRouteNotFound, CodeMethodNotAllowed, CodeStoreUnavailable, CodeInternal}

// Error is the API's error body, and an error handlers return.
type Error struct {
	ErrorCode  string   `json:"errorCode"`
	Message    string   `json:"message"`
	StatusCode int      `json:"statusCode"`
	Data       []string `json:"data,omitempty"`
	// retryAfter, when set, is sent as the Retry-After header.
	retryAfter time.Duration
}

func (e *Error) Error() string {
	return fmt.Sprintf("%d %s: %s %v", e.StatusCode, e.ErrorCode, e.Message, e.Data)
}

// invalid is a 400 listing what is wrong with the request.
func invalid(data ...string) *Error {
	return &Error{ErrorCode: CodeValidation, Message: validationMessage, StatusCode: http.StatusBadRequest, Data: data}
}

func forbidden(code, msg string) *Error {
	return &Error{ErrorCode: code, Message: msg, StatusCode: http.StatusForbidden}
}

// tooLarge is a 413 for a body over the route's cap.
func tooLarge(limit int64) *Error {
	return &Error{ErrorCode: CodeBodyTooLarge, StatusCode: http.StatusRequestEntityTooLarge,
		Message: fmt.Sprintf("Request body is larger than %d bytes.", limit)}
}

// missingScope is a 403 naming the scopes the key lacks for the route.
func missingScope(lacking pending.Scopes) *Error {
	return &Error{ErrorCode: CodeScopeMissing, StatusCode: http.StatusForbidden,
		Message: fmt.Sprintf("This API key lacks the %s scope this route needs.", lacking),
		Data:    []string{"scope: " + lacking.String()}}
}

// rateLimited is a 429 telling the client when its key has a request again.
func rateLimited(wait time.Duration) *Error {
	secs := ratelimit.RetryAfter(wait)
	return &Error{ErrorCode: CodeRateLimited, StatusCode: http.StatusTooManyRequests,
		Message:    fmt.Sprintf("This API key made too many requests; retry in %d s.", secs),
		retryAfter: time.Duration(secs) * time.Second}
}

// errNotFound answers an unknown and a foreign id alike, so existence never leaks.
var errNotFound = forbidden(CodeTxNotFound, "Transaction not found.")

// toError maps any error a handler returns to the error body. Store and node
// errors are mapped here, in one place; anything unmapped is a bug (500).
func toError(err error) *Error {
	var (
		e  *Error
		mm *intent.MismatchError
	)
	switch {
	case errors.As(err, &e):
		return e
	case errors.As(err, &mm):
		return &Error{ErrorCode: CodeTxMismatch, StatusCode: http.StatusForbidden,
			Message: "The signed transaction is not the queued one: " + mm.Field + " differs; nothing was sent to the node.",
			Data:    []string{mm.Field + ": signed " + cut(mm.Signed) + ", queued " + cut(mm.Queued)}}
	case errors.Is(err, pending.ErrNotFound):
		return errNotFound
	case errors.Is(err, pending.ErrDeleted):
		return forbidden(CodeTxDeleted, "Transaction was deleted and cannot be completed.")
	case errors.Is(err, pending.ErrCompleted):
		return forbidden(CodeTxCompleted, "Transaction is already completed.")
	case errors.Is(err, pending.ErrTxIDConflict):
		return forbidden(CodeTxIDConflict, "Transaction is already completed with another txId.")
	case errors.Is(err, pending.ErrSubscriptionNotFound):
		return forbidden(CodeSubscriptionNotFound, "Subscription not found.")
	case errors.Is(err, pending.ErrDeliveryNotFound):
		return forbidden(CodeDeadLetterNotFound, "Dead letter not found.")
	case errors.Is(err, broadcast.ErrNoNode):
		return forbidden(CodeNoNode, err.Error()+".")
	case errors.Is(err, broadcast.ErrRejected):
		return forbidden(CodeRejected, err.Error())
	case errors.Is(err, broadcast.ErrUnavailable):
		return &Error{ErrorCode: CodeNodeUnavailable, Message: err.Error(), StatusCode: http.StatusBadGateway}
	}
	return &Error{ErrorCode: CodeInternal, Message: internalErrorMessage, StatusCode: http.StatusInternalServerError}
}

// cut shortens a value an error body quotes: a contract call's data may
// run to the body cap.
func cut(s string) string {
	const most = 512
	if len(s) <= most {
		return s
	}
	n := most
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// errorBody is toError, logging an error that is no one's fault but the
// server's (an outage of a node or the store is logged where it is met).
func errorBody(log *slog.Logger, r *http.Request, err error) *Error {
	e := toError(err)
	if e.StatusCode >= 500 && e.ErrorCode != CodeNodeUnavailable && e.ErrorCode != CodeStoreUnavailable {
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", loggedPath(r), "err", err)
	}
	return e
}

func writeError(w http.ResponseWriter, log *slog.Logger, r *http.Request, err error) {
	e := errorBody(log, r, err)
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(int64(e.retryAfter/time.Second), 10))
	}
	writeJSON(w, e.StatusCode, e)
}

// loggedPath is the request path as logs show it: an API key the path
// carries (the web3 gateway's) is masked, since logs travel further than
// the key may.
func loggedPath(r *http.Request) string {
	if k := r.PathValue(pathKeyParam); k != "" {
		return strings.ReplaceAll(r.URL.Path, k, "xxxxx")
	}
	return r.URL.Path
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
