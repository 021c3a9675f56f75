package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"

	"github.com/custoskms/custos/internal/pending"
)

// KeyPrefix starts every API key, so secret scanners can recognise one.
const KeyPrefix = "custos_"

// NewAPIKey makes a random API key and the SHA-256 hash the store keeps.
func NewAPIKey() (secret string, hash [32]byte, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", hash, err
	}
	secret = KeyPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return secret, HashKey(secret), nil
}

// HashKey is how an API key is stored and looked up.
func HashKey(secret string) [32]byte { return sha256.Sum256([]byte(secret)) }

type keyCtx struct{}

func keyFrom(ctx context.Context) pending.APIKey {
	k, _ := ctx.Value(keyCtx{}).(pending.APIKey)
	return k
}

var errUnauthorized = &Error{ErrorCode: CodeUnauthorized, Message: unauthorizedMessage, StatusCode: http.StatusUnauthorized}

// admit authenticates r with secret (the key it carries), checks that its key holds scope, and takes one
// request from the key's rate limit. The key is returned with any error but
// ErrUnauthorized, for the request log.
func (s *Server) admit(r *http.Request, scope pending.Scopes, secret string) (pending.APIKey, error) {
	k, err := s.authenticate(r, secret)
	if err != nil {
		return pending.APIKey{}, err
	}
	if !k.Scopes.Has(scope) {
		return k, missingScope(scope &^ k.Scopes)
	}
	if s.limiter != nil {
		if wait := s.limiter.Take(k.ID); wait > 0 {
			return k, rateLimited(wait)
		}
	}
	return k, nil
}

// pathKeyParam is the path wildcard of a route whose URL carries the API
// key; logs mask it (loggedPath).
const pathKeyParam = "apiKey"

// authenticate resolves an API key (X-API-Key, or the path's for the web3
// gateway) to its key record. The store finds the row by hash; the hash is
// then compared in constant time so that the answer does not depend on how
// much of it matched.
func (s *Server) authenticate(r *http.Request, secret string) (pending.APIKey, error) {
	if secret == "" || len(secret) > 256 {
		return pending.APIKey{}, errUnauthorized
	}
	h := HashKey(secret)
	k, err := s.store.KeyByHash(r.Context(), h)
	if errors.Is(err, pending.ErrKeyNotFound) {
		return pending.APIKey{}, errUnauthorized
	}
	if err != nil {
		return pending.APIKey{}, err
	}
	if subtle.ConstantTimeCompare(k.SecretHash[:], h[:]) != 1 {
		return pending.APIKey{}, errUnauthorized
	}
	return k, nil
}
