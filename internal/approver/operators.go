package approver

import (
	"context"
	"crypto/rand"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/custoskms/custos/approval"
)

// EnrolmentTTL is how long an enrolment link works.
const EnrolmentTTL = 24 * time.Hour

var operatorName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// AddOperator creates an operator with a random WebAuthn user handle and
// the ids of the API keys they hold, and returns its first enrolment token.
func AddOperator(ctx context.Context, st Store, name, displayName string, apiKeys []string, now time.Time) (string, error) {
	if !operatorName.MatchString(name) {
		return "", fmt.Errorf("operator name %q: want 1 to 64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit", name)
	}
	for _, k := range apiKeys {
		if !approval.ValidID(k) {
			return "", fmt.Errorf("API key id %q: want the 24-character id `custos apikey list` shows", k)
		}
	}
	if displayName == "" {
		displayName = name
	}
	handle := make([]byte, 32)
	if _, err := rand.Read(handle); err != nil {
		return "", err
	}
	op := Operator{Name: name, DisplayName: displayName, Handle: handle, CreatedAt: now, APIKeys: slices.Compact(slices.Sorted(slices.Values(apiKeys)))}
	if err := st.AddOperator(ctx, op); err != nil {
		return "", err
	}
	return Enrol(ctx, st, name, now)
}

// Enrol replaces the operator's enrolment token with a new one, valid for
// EnrolmentTTL and for one passkey.
func Enrol(ctx context.Context, st Store, name string, now time.Time) (string, error) {
	token := randomToken()
	if err := st.SetEnrolment(ctx, name, hashToken(token), now.Add(EnrolmentTTL)); err != nil {
		return "", err
	}
	return token, nil
}

// EnrolmentURL is the link an operator opens to register a passkey: the
// token is in the fragment, which the browser never sends to a server or
// a log.
func EnrolmentURL(origin, token string) string { return origin + "/enrol#token=" + token }
