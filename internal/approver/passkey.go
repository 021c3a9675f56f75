package approver

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/custoskms/custos/internal/audit"
)

// Operators sign in with passkeys only: discoverable credentials with user
// verification, so that the authenticator names the operator and a PIN or
// biometric unlocks it. A passkey is registered through a one-time
// enrolment link that `custos approver operator add` (or `enrol`) prints.

// user is an operator as the WebAuthn library sees one.
type user struct {
	op    Operator
	creds []webauthn.Credential
}

func (u *user) WebAuthnID() []byte                         { return u.op.Handle }
func (u *user) WebAuthnName() string                       { return u.op.Name }
func (u *user) WebAuthnDisplayName() string                { return u.op.DisplayName }
func (u *user) WebAuthnCredentials() []webauthn.Credential { return u.creds }

func (c *Console) loadUser(ctx context.Context, op Operator) (*user, error) {
	raw, err := c.svc.cfg.Store.Credentials(ctx, op.Name)
	if err != nil {
		return nil, err
	}
	u := &user{op: op}
	for _, b := range raw {
		var cred webauthn.Credential
		if err := json.Unmarshal(b, &cred); err != nil {
			return nil, err
		}
		u.creds = append(u.creds, cred)
	}
	return u, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func jsonError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// begin keeps a ceremony and sends its options.
func (c *Console) begin(w http.ResponseWriter, cer ceremony, options any) {
	id, ok := c.ceremonies.put(c.svc.cfg.Now(), cer)
	if !ok {
		jsonError(w, http.StatusServiceUnavailable, "too many sign-ins in progress; try again in a few minutes")
		return
	}
	http.SetCookie(w, c.cookie(ceremonyCookie, id, ceremonyTTL))
	writeJSON(w, http.StatusOK, options)
}

// finish returns the request's ceremony, used up.
func (c *Console) finish(w http.ResponseWriter, r *http.Request) (ceremony, bool) {
	ck, err := r.Cookie(ceremonyCookie)
	if err != nil {
		return ceremony{}, false
	}
	http.SetCookie(w, c.cookie(ceremonyCookie, "", -1))
	return c.ceremonies.take(c.svc.cfg.Now(), ck.Value)
}

func (c *Console) signinBegin(w http.ResponseWriter, _ *http.Request) {
	options, data, err := c.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		jsonError(w, http.StatusInternalServerError, "sign-in could not start")
		return
	}
	c.begin(w, ceremony{data: *data}, options)
}

func (c *Console) signinFinish(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	cer, ok := c.finish(w, r)
	if !ok {
		jsonError(w, http.StatusBadRequest, "the sign-in expired; try again")
		return
	}
	found, cred, err := c.wa.FinishPasskeyLogin(func(_, handle []byte) (webauthn.User, error) {
		op, err := c.svc.cfg.Store.OperatorByHandle(r.Context(), handle)
		if err != nil {
			return nil, err
		}
		return c.loadUser(r.Context(), op)
	}, cer.data, r)
	if err != nil {
		// A wrong assertion costs the address a ceremony more: guessing
		// pays twice what signing in does.
		c.takeSignIn(r)
		c.svc.cfg.Log.Info("passkey sign-in refused", "error", err)
		jsonError(w, http.StatusUnauthorized, "this passkey is not an operator's")
		return
	}
	if cred.Authenticator.CloneWarning {
		// The sign counter went back: two authenticators hold this key.
		jsonError(w, http.StatusUnauthorized, "this passkey's counter went back; it may have been copied")
		return
	}
	op := found.(*user).op
	if b, err := json.Marshal(cred); err == nil {
		_ = c.svc.cfg.Store.UpdateCredential(r.Context(), cred.ID, b)
	}
	if err := c.startSession(w, r, op.Name); err != nil {
		c.svc.cfg.Log.Error("sign-in", "operator", op.Name, "error", err)
		jsonError(w, http.StatusInternalServerError, "the sign-in could not be recorded")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"next": "/queue"})
}

// enrolment reads the token of an enrolment request and finds its operator.
func (c *Console) enrolment(r *http.Request) (*user, error) {
	var body struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 4<<10)).Decode(&body); err != nil || body.Token == "" {
		return nil, ErrNoEnrolment
	}
	name, err := c.svc.cfg.Store.Enrolment(r.Context(), hashToken(body.Token), c.svc.cfg.Now())
	if err != nil {
		return nil, err
	}
	op, err := c.svc.cfg.Store.Operator(r.Context(), name)
	if err != nil {
		return nil, err
	}
	return c.loadUser(r.Context(), op)
}

func (c *Console) enrolBegin(w http.ResponseWriter, r *http.Request) {
	u, err := c.enrolment(r)
	if err != nil {
		jsonError(w, http.StatusBadRequest, "this enrolment link is unknown, used or expired; ask for a new one")
		return
	}
	var exclude []protocol.CredentialDescriptor
	for _, cred := range u.creds {
		exclude = append(exclude, cred.Descriptor())
	}
	options, data, err := c.wa.BeginRegistration(u,
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementRequired, UserVerification: protocol.VerificationRequired}),
		webauthn.WithExclusions(exclude))
	if err != nil {
		jsonError(w, http.StatusInternalServerError, "enrolment could not start")
		return
	}
	c.begin(w, ceremony{data: *data, operator: u.op.Name}, options)
}

func (c *Console) enrolFinish(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	cer, ok := c.finish(w, r)
	if !ok || cer.operator == "" {
		jsonError(w, http.StatusBadRequest, "the enrolment expired; open the link again")
		return
	}
	op, err := c.svc.cfg.Store.Operator(r.Context(), cer.operator)
	if err != nil {
		jsonError(w, http.StatusBadRequest, "this operator was removed")
		return
	}
	u, err := c.loadUser(r.Context(), op)
	if err != nil {
		jsonError(w, http.StatusInternalServerError, "enrolment failed")
		return
	}
	cred, err := c.wa.FinishRegistration(u, cer.data, r)
	if err != nil {
		c.takeSignIn(r)
		c.svc.cfg.Log.Info("passkey enrolment refused", "operator", op.Name, "error", err)
		jsonError(w, http.StatusBadRequest, "the passkey was not accepted")
		return
	}
	b, err := json.Marshal(cred)
	if err != nil {
		jsonError(w, http.StatusInternalServerError, "enrolment failed")
		return
	}
	if err := c.svc.cfg.Audit.Append(r.Context(), audit.Event{Type: "approver.enrolled", Fields: map[string]any{
		"operator": op.Name, "credential": hexID(cred.ID)}}); err != nil {
		jsonError(w, http.StatusInternalServerError, "the enrolment could not be recorded")
		return
	}
	if err := c.svc.cfg.Store.AddCredential(r.Context(), op.Name, cred.ID, b); err != nil {
		if errors.Is(err, ErrNoEnrolment) {
			jsonError(w, http.StatusBadRequest, "this enrolment link was already used")
			return
		}
		jsonError(w, http.StatusInternalServerError, "enrolment failed")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"next": "/signin"})
}

func hexID(b []byte) string { return hex.EncodeToString(b) }
