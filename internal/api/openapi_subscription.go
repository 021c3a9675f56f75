package api

import (
	"fmt"

	"github.com/custoskms/custos/internal/pending"
	"github.com/custoskms/custos/internal/webhook"
)

// subscriptionPaths documents the webhook routes.
func subscriptionPaths(bad, noContent obj) obj {
	subID := obj{"name": "id", "in": "path", "required": true, "schema": idSchema, "description": "Subscription id."}
	return obj{
		"/v3/subscription": obj{
			"post": withDescription(op("Subscribe to KMS notifications (Tatum's)", nil,
				obj{"type": "object", "required": []string{"type", "attr"}, "properties": obj{
					"type": obj{"type": "string", "enum": pending.EventTypes},
					"attr": obj{"type": "object", "required": []string{"url"}, "properties": obj{
						"url": obj{"type": "string", "format": "uri", "maxLength": webhook.MaxURL}}}}}, obj{
					"200": obj{"description": "Subscribed.", "content": jsonContent(obj{"type": "object", "properties": obj{"id": idSchema}})},
					"400": errResp("Invalid request (validation.failed): an unknown type, or a URL that is not http(s), does not resolve, " +
						"or reaches a private, loopback, link-local, multicast or unspecified address (unless the operator allows it)."),
				}), webhooksDoc),
			"get": op("List the API key's subscriptions (Tatum's)", []obj{
				{"name": "pageSize", "in": "query", "required": false, "schema": obj{"type": "integer", "minimum": 1, "maximum": maxSubscriptionPage, "default": maxSubscriptionPage}},
				{"name": "offset", "in": "query", "required": false, "schema": obj{"type": "integer", "minimum": 0, "default": 0}}}, nil, obj{
				"200": obj{"description": "Oldest first.", "content": jsonContent(obj{"type": "array", "items": obj{"type": "object",
					"required": []string{"id", "type", "attr"}, "properties": obj{"id": idSchema, "type": obj{"type": "string", "enum": pending.EventTypes},
						"attr": obj{"type": "object", "properties": obj{"url": obj{"type": "string"}}}}}})},
				"400": bad,
			}),
			"put": withDescription(op("Enable the HMAC digest of webhooks (Tatum's)", nil,
				obj{"type": "object", "required": []string{"hmacSecret"}, "properties": obj{
					"hmacSecret": obj{"type": "string", "minLength": 1, "maxLength": maxHMACSecret}}}, obj{"204": noContent, "400": bad}),
				"Every delivery to the API key's subscriptions from now on carries x-payload-hash: base64 of HMAC-SHA512 of the raw "+
					"body under hmacSecret. The secret replaces an earlier one."),
			"delete": op("Disable the HMAC digest of webhooks (Tatum's)", nil, nil, obj{"204": noContent}),
		},
		"/v3/subscription/{id}": obj{"delete": op("Cancel a subscription (Tatum's)", []obj{subID}, nil, obj{
			"204": noContent, "400": bad,
			"403": errResp("Unknown or foreign subscription (subscription.notFound)."),
		})},
		"/v3/subscription/dead-letters": obj{"get": withDescription(op("Deliveries that ran out of attempts", nil, nil, obj{
			"200": obj{"description": "Oldest event first.", "content": jsonContent(obj{"type": "array", "items": ref("DeadLetter")})},
		}), "Not Tatum's. A delivery is dead-lettered after its last attempt failed (see POST /v3/subscription); it stays "+
			"listed until retried.")},
		"/v3/subscription/dead-letters/{id}/retry": obj{"post": withDescription(op("Deliver a dead letter again", []obj{
			{"name": "id", "in": "path", "required": true, "schema": obj{"type": "string"}, "description": "The dead letter's id."}}, nil, obj{
			"204": noContent, "400": bad,
			"403": errResp("Unknown, foreign or not dead-lettered delivery (subscription.deadLetterNotFound)."),
		}), "Not Tatum's. The delivery is due at once with a fresh round of attempts, with the same event id and body.")},
	}
}

// deadLetterSchema is a dead-lettered delivery.
var deadLetterSchema = obj{"type": "object", "properties": obj{
	"id":             obj{"type": "string", "description": "The delivery's id (for the retry route)."},
	"eventId":        obj{"type": "string", "description": "The event's id, sent as " + webhook.HeaderEventID + "."},
	"subscriptionId": idSchema,
	"type":           obj{"type": "string", "enum": pending.EventTypes},
	"signatureId":    idSchema,
	"url":            obj{"type": "string"},
	"body":           obj{"type": "object", "description": "The body each attempt POSTed."},
	"attempts":       obj{"type": "integer"},
	"lastError":      obj{"type": "string"},
	"created":        obj{"type": "integer", "description": "When the event happened, Unix milliseconds."},
	"failed":         obj{"type": "integer", "description": "When the last attempt failed, Unix milliseconds."},
}}

var webhooksDoc = fmt.Sprintf("Tatum's KMS notifications, with Tatum's bodies: KMS_COMPLETED_TX "+
	"{\"signatureId\":\"<pending id>\",\"txId\",\"subscriptionType\"} when a pending transaction is completed with its txId "+
	"(a broadcast the node accepted, or PUT /v3/kms/{id}/{txId}); KMS_FAILED_TX {\"signatureId\",\"error\",\"subscriptionType\"} "+
	"when a signer reports an error (POST /v3/tatum/kms/batch; a report repeating the transaction's latest one sends nothing) "+
	"and when the transaction fails for good (the node's permanent refusal, the approval service's refusal, expiry). "+
	"Ours, after a transaction's KMS_COMPLETED_TX, once it is final on chain: KMS_TX_CONFIRMED, KMS_TX_FAILED_ONCHAIN "+
	"(mined but failed, e.g. an EVM receipt with status 0), KMS_TX_DROPPED, KMS_TX_REPLACED (a speed-up or cancel, or the "+
	"transaction it replaced, was mined in its place) and KMS_TX_EXPIRED (its validity window passed before a block included "+
	"it), with the body {\"signatureId\",\"txId\","+
	"\"status\",\"blockNumber\",\"confirmations\",\"fee\",\"error\",\"replacedBy\",\"subscriptionType\"} (fields the node "+
	"does not tell left out). A transaction that expired before broadcast has KMS_FAILED_TX, then KMS_TX_EXPIRED without txId. "+
	"Each event is written in the same database transaction as the change it reports and POSTed as JSON to every "+
	"subscription of its type of the API key at that moment, at least once: a receiver answers 2xx within the timeout "+
	"(10 s by default), anything else is retried with exponential backoff and jitter, and after the last attempt (10 by "+
	"default) the delivery is dead-lettered (GET /v3/subscription/dead-letters). Every attempt carries the same %s "+
	"header, the event's stable id, for deduplication; x-payload-hash when a secret is set (PUT /v3/subscription). "+
	"Events of one transaction reach a URL in order: a later one waits until the earlier one is delivered or "+
	"dead-lettered. Redirects are not followed. The receiver's address is checked at subscription and again at each "+
	"connection. 2 credits.", webhook.HeaderEventID)
