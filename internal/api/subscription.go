package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custoskms/custos/internal/pending"
	"github.com/custoskms/custos/internal/strictjson"
)

// MaxSubscriptionBody bounds a subscription route's body: a type and a URL
// of at most webhook.MaxURL bytes, or a secret of at most maxHMACSecret.
const MaxSubscriptionBody = 16 << 10

// maxHMACSecret bounds a tenant's webhook secret.
const maxHMACSecret = 500

// subscriptionURLCheckTimeout bounds resolving a receiver's host name.
const subscriptionURLCheckTimeout = 5 * time.Second

// maxSubscriptionPage is Tatum's page size cap for GET /v3/subscription.
const maxSubscriptionPage = 50

// subscriptionRequest is POST /v3/subscription's body, Tatum's shape.
type subscriptionRequest struct {
	Type *string `json:"type"`
	Attr *struct {
		URL *string `json:"url"`
	} `json:"attr"`
}

// parseSubscription reads and validates the shape of a subscription body
// (the receiver's address is checked by the caller, which resolves it).
func parseSubscription(body []byte) (typ, url string, err error) {
	if err := strictjson.Check(body); err != nil {
		return "", "", invalid("body: " + err.Error())
	}
	var req subscriptionRequest
	if err := decodeJSON(body, &req); err != nil {
		return "", "", err
	}
	var bad []string
	if req.Type == nil || !slices.Contains(pending.EventTypes, *req.Type) {
		bad = append(bad, "type: must be one of "+strings.Join(pending.EventTypes, ", "))
	}
	if req.Attr == nil || req.Attr.URL == nil || *req.Attr.URL == "" {
		bad = append(bad, "attr.url: is required")
	}
	if len(bad) > 0 {
		return "", "", invalid(bad...)
	}
	return *req.Type, *req.Attr.URL, nil
}

type subscriptionAttr struct {
	URL string `json:"url"`
}

// subscriptionView is a subscription as GET /v3/subscription lists it (Tatum's shape).
type subscriptionView struct {
	ID   string           `json:"id"`
	Type string           `json:"type"`
	Attr subscriptionAttr `json:"attr"`
}

// createSubscription is POST /v3/subscription.
func (s *Server) createSubscription(w http.ResponseWriter, r *http.Request) error {
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	typ, url, err := parseSubscription(body)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), subscriptionURLCheckTimeout)
	fault := s.webhooks.CheckURL(ctx, url)
	cancel()
	if fault != "" {
		return invalid("attr.url: " + fault)
	}
	sub, err := s.store.CreateSubscription(r.Context(), keyFrom(r.Context()).ID, typ, url)
	if err != nil {
		return err
	}
	s.charge(r, 2)
	writeJSON(w, http.StatusOK, struct {
		ID string `json:"id"`
	}{sub.ID})
	return nil
}

// listSubscriptions is GET /v3/subscription?pageSize=&offset=.
func (s *Server) listSubscriptions(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	size, offset := maxSubscriptionPage, 0
	var bad []string
	if v := q.Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxSubscriptionPage {
			bad = append(bad, fmt.Sprintf("pageSize: must be an integer from 1 to %d", maxSubscriptionPage))
		}
		size = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			bad = append(bad, "offset: must be a non-negative integer")
		}
		offset = n
	}
	if len(bad) > 0 {
		return invalid(bad...)
	}
	subs, err := s.store.Subscriptions(r.Context(), keyFrom(r.Context()).ID)
	if err != nil {
		return err
	}
	out := []subscriptionView{}
	for i := offset; i < len(subs) && len(out) < size; i++ {
		out = append(out, subscriptionView{ID: subs[i].ID, Type: subs[i].Type, Attr: subscriptionAttr{URL: subs[i].URL}})
	}
	s.charge(r, 1)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// deleteSubscription is DELETE /v3/subscription/{id}.
func (s *Server) deleteSubscription(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !isTxID(id) {
		return invalid("id: must be exactly 24 characters of [0-9a-zA-Z]")
	}
	if err := s.store.DeleteSubscription(r.Context(), keyFrom(r.Context()).ID, id); err != nil {
		return err
	}
	s.charge(r, 1)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// enableHMAC is PUT /v3/subscription {"hmacSecret"}: the tenant's deliveries
// carry x-payload-hash from now on.
func (s *Server) enableHMAC(w http.ResponseWriter, r *http.Request) error {
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	var req struct {
		HMACSecret *string `json:"hmacSecret"`
	}
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	if req.HMACSecret == nil || *req.HMACSecret == "" || len(*req.HMACSecret) > maxHMACSecret {
		return invalid(fmt.Sprintf("hmacSecret: must be a string of 1 to %d characters", maxHMACSecret))
	}
	if err := s.store.SetHMACSecret(r.Context(), keyFrom(r.Context()).ID, *req.HMACSecret); err != nil {
		return err
	}
	s.charge(r, 2)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// disableHMAC is DELETE /v3/subscription: deliveries go unsigned again.
func (s *Server) disableHMAC(w http.ResponseWriter, r *http.Request) error {
	if err := s.store.SetHMACSecret(r.Context(), keyFrom(r.Context()).ID, ""); err != nil {
		return err
	}
	s.charge(r, 2)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
