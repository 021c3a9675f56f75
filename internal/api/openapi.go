package api

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
)

// obj is a JSON object of the OpenAPI document.
type obj = map[string]any

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

func jsonContent(schema obj) obj { return obj{"application/json": obj{"schema": schema}} }

func errResp(desc string) obj {
	return obj{"description": desc, "content": jsonContent(ref("Error"))}
}

var (
	uuidSchema = obj{"type": "string", "format": "uuid", "pattern": "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"}
	idSchema   = obj{"type": "string", "pattern": "^[0-9a-zA-Z]{24}$"}
	idParam    = obj{"name": "id", "in": "path", "required": true, "schema": idSchema, "description": "Pending transaction id."}
	chainParam = obj{"name": "chain", "in": "path", "required": true, "schema": ref("Chain")}
)

func op(summary string, params []obj, body obj, responses obj) obj {
	o := obj{"summary": summary, "responses": responses}
	if params != nil {
		o["parameters"] = params
	}
	if body != nil {
		o["requestBody"] = obj{"required": true, "content": jsonContent(body)}
	}
	return o
}

// secure adds to each operation of the route table what its route's key
// and body cap mean: the scope the key needs (x-custos-scope and the
// description), the 401 of a missing key, the 403 of a missing scope, the
// 429 of the key's rate limit, and the 413 of the route's body cap. The
// table is the one place the scopes and caps are decided.
func secure(paths obj, rts []route) {
	for _, rt := range rts {
		o := paths[docPath(rt.path)].(obj)[strings.ToLower(rt.method)].(obj)
		res := o["responses"].(obj)
		res["413"] = errResp(fmt.Sprintf("Body larger than %d bytes, this route's cap (request.tooLarge).", rt.maxBody))
		if rt.scope == public {
			continue
		}
		sc := rt.scope.String()
		o["security"] = []obj{{"ApiKey": []string{}}}
		o["x-custos-scope"] = sc
		scopeDoc := fmt.Sprintf("Needs an API key with the %s scope.", sc)
		if d, ok := o["description"].(string); ok {
			scopeDoc += " " + d
		}
		o["description"] = scopeDoc
		res["401"] = errResp("Missing, unknown or revoked API key (apikey.invalid).")
		missing := fmt.Sprintf("The API key lacks the %s scope (apikey.scopeMissing; data names it).", sc)
		if r, ok := res["403"].(obj); ok {
			res["403"] = errResp(r["description"].(string) + " " + missing)
		} else {
			res["403"] = errResp(missing)
		}
		res["429"] = obj{"description": "The API key made more requests than its rate allows (apikey.rateLimited); " +
			"Retry-After says in how many seconds to try again.", "content": jsonContent(ref("Error")),
			"headers": obj{"Retry-After": obj{"schema": obj{"type": "integer", "minimum": 1}, "description": "Seconds to wait."}}}
	}
}

func openAPIDocument(rts []route) obj {
	bad := errResp("Invalid request (validation.failed); data lists each problem.")
	noContent := obj{"description": "Done."}
	pendingList := obj{"description": "Pending transactions, oldest first.", "content": jsonContent(obj{"type": "array", "items": ref("PendingTx")})}
	doc := obj{
		"openapi": "3.1.0",
		"info": obj{"title": "Custos pending-transaction API", "version": "3",
			"description": "Queue transactions for offline signing, fetch them by signature IDs, broadcast and complete them. " +
				"Credits per API key: 1 per pending GET, 1 per 500 signature IDs on pending POST, 1 per 500 ids on lease renewal, 2 per complete or delete, 1 per detail GET, " +
				"1 per transaction count, 1 per JSON-RPC call the web3 gateway relays; " +
				"charged on success. " + scopesDoc},
		"components": obj{
			"securitySchemes": obj{"ApiKey": obj{"type": "apiKey", "in": "header", "name": "X-API-Key"}},
			"schemas": obj{
				"Chain": obj{"type": "string", "enum": chainCodes},
				"Error": obj{"type": "object", "required": []string{"errorCode", "message", "statusCode"}, "properties": obj{
					"errorCode":  obj{"type": "string", "enum": ErrorCodes},
					"message":    obj{"type": "string"},
					"statusCode": obj{"type": "integer"},
					"data":       obj{"type": "array", "items": obj{"type": "string"}},
				}},
				"Signature": obj{"type": "object", "required": []string{"id"}, "properties": obj{
					"id": uuidSchema, "index": obj{"type": "integer", "minimum": 0, "maximum": maxIndex}}},
				"PendingTx": obj{"type": "object", "required": []string{"id", "chain", "serializedTransaction", "hashes"}, "properties": obj{
					"id":                    idSchema,
					"chain":                 ref("Chain"),
					"serializedTransaction": obj{"type": "string"},
					"hashes":                obj{"type": "array", "items": uuidSchema},
					"index":                 obj{"type": "integer", "minimum": 0, "maximum": maxIndex},
					"signatures":            obj{"type": "array", "items": ref("Signature")},
					"withdrawalId":          obj{"type": "string"},
					"txId":                  obj{"type": "string"},
					"withdrawalResponses":   obj{"type": "array"},
				}},
				"JsonRpcCall": obj{"type": "object", "required": []string{"jsonrpc", "id", "method"}, "properties": obj{
					"jsonrpc": obj{"const": "2.0"}, "id": obj{"type": []string{"string", "number"}},
					"method": obj{"type": "string", "enum": web3Methods()}, "params": obj{"type": []string{"array", "object"}}}},
				"JsonRpcAnswer": obj{"type": "object", "required": []string{"jsonrpc", "id"}, "properties": obj{
					"jsonrpc": obj{"const": "2.0"}, "id": obj{}, "result": obj{},
					"error": obj{"type": "object", "required": []string{"code", "message"}, "properties": obj{
						"code": obj{"type": "integer"}, "message": obj{"type": "string"}, "data": obj{}}}}},
				"CreateTx": obj{"type": "object", "required": []string{"chain", "serializedTransaction"}, "properties": obj{
					"chain":                 ref("Chain"),
					"serializedTransaction": obj{"type": "string", "minLength": 1, "description": "Checked by the chain's codec (formats: docs/design.md §5). " + completionDoc},
					"hashes":                obj{"type": "array", "items": uuidSchema},
					"index":                 obj{"type": "integer", "minimum": 0, "maximum": maxIndex},
					"signatures":            obj{"type": "array", "items": ref("Signature")},
					"withdrawalId":          obj{"type": "string", "minLength": 1, "maxLength": 100},
					"withdrawalResponses":   obj{"type": "array"},
				}, "description": "At least one signature ID in hashes or signatures."},
			},
		},
		"paths": obj{
			"/v3/kms": obj{"post": withDescription((op("Queue a transaction for signing", nil, ref("CreateTx"), obj{
				"200": obj{"description": "Queued (completed from the node first when fields were missing).", "content": jsonContent(obj{"type": "object", "properties": obj{"id": idSchema}})},
				"400": bad,
				"502": errResp("A transaction with missing fields could not be completed: the chain's node could not be reached, " +
					"timed out or answered garbage (broadcast.nodeUnavailable); nothing was stored, safe to retry."),
			})), completionDoc)},
			"/v3/kms/pending/{chain}": obj{
				"get": (op("Pending transactions of a chain", []obj{chainParam,
					{"name": "signatures", "in": "query", "required": false, "schema": obj{"type": "string"},
						"description": "Comma-separated signature IDs; absent means all of the tenant's."},
					{"name": "signerId", "in": "query", "required": false, "schema": signerIDSchema, "description": signerIDDoc},
					{"name": "leaseSeconds", "in": "query", "required": false, "schema": leaseSchema, "description": leaseDoc},
					{"name": "limit", "in": "query", "required": false, "schema": limitSchema, "description": limitDoc}}, nil, obj{
					"200": pendingList, "400": bad,
				})),
				"post": (op("Pending transactions for a long signature ID list", []obj{chainParam},
					obj{"type": "object", "required": []string{"signatureIds"}, "properties": obj{
						"signatureIds": obj{"type": "array", "items": uuidSchema, "maxItems": 1000000},
						"signerId":     withDescription(signerIDSchema, signerIDDoc),
						"leaseSeconds": withDescription(leaseSchema, leaseDoc),
						"limit":        withDescription(limitSchema, limitDoc)}}, obj{
						"200": pendingList, "400": bad,
					})),
			},
			"/v3/kms/lease": obj{"post": withDescription(op("Renew a signer's leases (not Tatum's)", nil, renewBodySchema(), obj{
				"200": obj{"description": "The ids renewed, in the request's order, each once; never null.",
					"content": jsonContent(obj{"type": "object", "required": []string{"renewed"}, "properties": obj{
						"renewed": obj{"type": "array", "items": idSchema}}})},
				"400": bad,
			}), renewDoc)},
			"/v3/kms/{id}/{txId}": obj{"put": (op("Complete with the blockchain txId", []obj{idParam,
				{"name": "txId", "in": "path", "required": true, "schema": obj{"type": "string", "minLength": 10, "maxLength": 80}}}, nil, obj{
				"204": noContent, "400": bad,
				"403": errResp("Unknown or foreign id (kms.tx.notFound), deleted (kms.tx.deleted), or completed with another txId (kms.tx.txIdConflict)."),
			}))},
			"/v3/kms/{id}": obj{
				"get": (op("Get a transaction", []obj{idParam}, nil, obj{
					"200": obj{"description": "The transaction, with its error reports when it has any.", "content": jsonContent(obj{"allOf": []obj{
						ref("PendingTx"), {"type": "object", "properties": merge(obj{
							"error": obj{"type": "string", "description": "The latest error report: why it failed on chain or was dropped, " +
								"else a signer's (POST /v3/tatum/kms/batch), " +
								"the node's refusal of a broadcast (a node that could not be reached is not kept), or the reason the transaction " +
								"failed. Not Tatum's; omitted when there is none."},
							"errorCount": obj{"type": "integer", "minimum": 1, "description": "How many error reports the transaction has. " +
								"Not Tatum's; omitted when there is none."},
							"status": obj{"type": "string", "enum": txStates, "description": statusDoc}}, outcomeProps)}}})},
					"400": bad, "403": errResp("Unknown, foreign or deleted id (kms.tx.notFound)."),
				})),
				"delete": (withDescription(op("Delete a transaction (cancels its withdrawal)", []obj{idParam,
					{"name": "revert", "in": "query", "required": false, "schema": obj{"type": "boolean", "default": true},
						"description": "Whether the withdrawal's fee is returned too."}}, nil, obj{
					"204": noContent, "400": bad,
					"403": errResp("Unknown, foreign or already deleted id (kms.tx.notFound), or completed (kms.tx.completed)."),
				}), holeDoc)),
			},
			"/v3/kms/speedup/{id}": obj{"post": replaceOp(false, bad)},
			"/v3/kms/cancel/{id}":  obj{"post": replaceOp(true, bad)},
			"/v3/kms/transactions": obj{"get": withDescription(op("List transactions by state and time", []obj{
				{"name": "status", "in": "query", "required": false, "schema": obj{"type": "string", "enum": txStates}},
				{"name": "since", "in": "query", "required": false, "schema": obj{"type": "string", "format": "date-time"},
					"description": "Only transactions whose state changed at or after this RFC 3339 time."},
				{"name": "limit", "in": "query", "required": false, "schema": obj{"type": "integer", "minimum": 1, "maximum": maxListLimit, "default": defaultListLimit}}},
				nil, obj{
					"200": obj{"description": "Oldest state change first.", "content": jsonContent(obj{"type": "array", "items": obj{"allOf": []obj{
						ref("PendingTx"), {"type": "object", "properties": merge(obj{
							"status":  obj{"type": "string", "enum": txStates, "description": statusDoc},
							"error":   obj{"type": "string", "description": "The latest error, as GET /v3/kms/{id} gives it."},
							"changed": obj{"type": "string", "format": "date-time", "description": "When the state last changed."}}, outcomeProps)}}}})},
					"400": bad,
				}), "Not Tatum's. For reconciling after an outage: ask again with since set to the last changed seen; a transaction "+
				"whose change falls on that same time comes again, so drop repeats by id. Deleted transactions are not listed.")},
			"/v3/{slug}/broadcast": obj{"post": (op("Broadcast a signed transaction and complete its pending transaction",
				[]obj{{"name": "slug", "in": "path", "required": true, "schema": obj{"type": "string", "enum": chainSlugs}}},
				obj{"type": "object", "required": []string{"txData"}, "properties": obj{
					"txData": obj{"type": "string", "minLength": 1}, "signatureId": idSchema}}, obj{
					"200": obj{"description": "Broadcast; completed is true when a pending transaction was completed.",
						"content": jsonContent(obj{"type": "object", "properties": obj{"txId": obj{"type": "string"}, "completed": obj{"type": "boolean"}}})},
					"400": errResp("Invalid request (validation.failed); data lists each problem, among them a txData the chain's codec " +
						"cannot decode as a signed transaction when signatureId names a pending transaction."),
					"403": errResp("Unknown or foreign id (kms.tx.notFound); transaction of another chain (broadcast.chainMismatch); " +
						"already completed with other txData (kms.tx.completed); a signed transaction that is not the queued one " +
						"(broadcast.mismatch: another chain id, signer, recipient, amount, asset, call data, memo or spent output, " +
						"a higher fee, gas price or gas limit, or another sequence than the queued transaction gives; data names the " +
						"first field that differs, docs/design.md §4.9), which is neither stored nor sent to the node; no node configured for the chain and the key's network " +
						"(broadcast.nodeNotConfigured); the node refused the transaction (broadcast.rejected). A refusal that will never heal " +
						"(nonce too low, already known with another nonce, insufficient funds), and a refusal of a SOL, TRON, VET, XRP or XLM " +
						"transaction whose validity window has passed (the node is asked; the reason starts with \"expired: \", the " +
						"transaction's status becomes expired and KMS_TX_EXPIRED follows KMS_FAILED_TX), answers " +
						"broadcast.failed and also ends the pending " +
						"transaction: it is no longer served to signers, the node's reason is kept among its errors, and its nonce is freed; " +
						"a signer stops submitting it. " + holeDoc),
					"502": errResp("The chain's node could not be reached, timed out or answered garbage (broadcast.nodeUnavailable); safe to retry."),
				}))},
			"/v3/{slug}/broadcast/batch": obj{"post": withDescription(op("Broadcast several signed transactions and complete their pending transactions",
				[]obj{{"name": "slug", "in": "path", "required": true, "schema": obj{"type": "string", "enum": chainSlugs}}},
				obj{"type": "object", "required": []string{"transactions"}, "properties": obj{"transactions": obj{"type": "array",
					"minItems": 1, "maxItems": MaxBroadcastBatch, "items": obj{"type": "object", "required": []string{"txData", "signatureId"},
						"properties": obj{"txData": obj{"type": "string", "minLength": 1, "maxLength": MaxTxBody}, "signatureId": idSchema}}}}}, obj{
					"200": obj{"description": "One result per transaction, in the request's order: the single route's answer for it alone, " +
						"{signatureId, txId, completed: true}, or {signatureId, error} where error is the error body the single route " +
						"would have answered with (its statusCode, errorCode, message and data).",
						"content": jsonContent(obj{"type": "object", "properties": obj{"results": obj{"type": "array", "items": obj{
							"type": "object", "required": []string{"signatureId"}, "properties": obj{"signatureId": idSchema,
								"txId": obj{"type": "string"}, "completed": obj{"type": "boolean"}, "error": ref("Error")}}}}})},
					"400": errResp("Invalid request (validation.failed): an unknown slug, no transactions or more than the most, a " +
						"transaction without txData or signatureId, or a signatureId given twice; data lists each problem, and no " +
						"transaction is read or sent."),
				}), broadcastBatchDoc)},
			"/v3/{slug}/transaction/count/{address}": obj{"get": (withDescription(op("The sender's next nonce (Tatum's transaction count)",
				[]obj{web3SlugParam, {"name": "address", "in": "path", "required": true, "schema": obj{"type": "string"},
					"description": "The sender: 0x and 40 hex digits in any letter case (XDC: xdc instead of 0x too)."}}, nil, obj{
					"200": obj{"description": "A bare JSON number.", "content": jsonContent(obj{"type": "integer", "minimum": 0})},
					"400": bad, "403": errResp("No node configured for the chain and the key's network (broadcast.nodeNotConfigured)."),
					"502": errResp("The chain's node could not be reached, timed out or answered garbage (broadcast.nodeUnavailable); safe to retry."),
				}), countDoc))},
			"/v3/{slug}/web3/{apiKey}": obj{"post": withDescription(op("Web3 JSON-RPC gateway to the chain's node (Tatum's)",
				[]obj{web3SlugParam, {"name": "apiKey", "in": "path", "required": true, "schema": obj{"type": "string"},
					"description": "The API key, instead of X-API-Key; never logged."}},
				obj{"oneOf": []obj{ref("JsonRpcCall"), {"type": "array", "items": ref("JsonRpcCall"), "minItems": 1, "maxItems": maxWeb3Batch}}}, obj{
					"200": obj{"description": "JSON-RPC 2.0: one answer, or an array in the batch's order. A call whose method is not " +
						"relayed, or that is malformed, is answered with an error object (-32601, -32600); a body that is not JSON with a " +
						"-32700 error; the node's own errors are relayed with their code, message and data.",
						"content": jsonContent(obj{"oneOf": []obj{ref("JsonRpcAnswer"), {"type": "array", "items": ref("JsonRpcAnswer")}}})},
					"400": bad, "401": errResp("Missing, unknown or revoked API key in the path (apikey.invalid)."),
					"403": errResp("No node configured for the chain and the key's network (broadcast.nodeNotConfigured)."),
					"413": errResp(fmt.Sprintf("Body larger than %d bytes or the server's cap (request.tooLarge).", maxWeb3Body)),
					"502": errResp("The chain's node could not be reached, timed out, or answered something other than JSON-RPC " +
						"answering the calls sent, or more than the answer cap (broadcast.nodeUnavailable); safe to retry."),
				}), web3Doc)},
			"/v3/tatum/kms/batch": obj{"post": (withDescription(op("Report signer errors", nil,
				obj{"type": "object", "required": []string{"errors"}, "properties": obj{"errors": obj{"type": "array", "minItems": 1,
					"items": obj{"type": "object", "required": []string{"signatureId", "error"}, "properties": obj{
						"signatureId": idSchema, "error": obj{"type": "string", "minLength": 1},
						"refused": obj{"type": "boolean", "default": false, "description": refusedDoc}}}}}}, obj{
					"204": obj{"description": "Recorded (reports about unknown or foreign ids are skipped)."},
					"400": bad,
				}), "A report is kept among its transaction's errors and the transaction stays pending, unless the report "+
				"is marked refused: see the refused field."))},
			"/healthz": obj{"get": op("Liveness", nil, nil, obj{"200": obj{"description": "The process is serving."}})},
			"/readyz": obj{"get": op("Readiness", nil, nil, obj{
				"200": obj{"description": "The store answers."}, "503": errResp("The store does not answer (store.unavailable)."),
			})},
			"/metrics": obj{"get": withDescription(op("Prometheus metrics", nil, nil, obj{"200": obj{"description": "Prometheus text format.",
				"content": obj{"text/plain": obj{"schema": obj{"type": "string"}}}}}),
				"They name every API key and its credits. `custos serve --metrics-listen ADDR` serves them without a key on a listener of their own.")},
			"/openapi.json": obj{"get": op("This document", nil, nil, obj{"200": obj{"description": "OpenAPI 3.1.",
				"content": jsonContent(obj{"type": "object"})}})},
		},
	}
	for path, ops := range subscriptionPaths(bad, noContent) {
		doc["paths"].(obj)[path] = ops
	}
	for path, ops := range transferPaths(bad) {
		doc["paths"].(obj)[path] = ops
	}
	doc["components"].(obj)["schemas"].(obj)["DeadLetter"] = deadLetterSchema
	for _, g := range nodeGatewayChains {
		doc["paths"].(obj)[docPath(nodeGatewayPath(g.Info().Slug))] = obj{"get": nodeGatewayOp(g, false), "post": nodeGatewayOp(g, true)}
	}
	secure(doc["paths"].(obj), rts)
	return doc
}

const renewDoc = "A signer renews the leases it holds on transactions it claimed (docs/design.md §4.7), so that one it " +
	"is still working on past its lease is not claimed and signed by another signer; unlike a claim it leases nothing " +
	"new. The lease of each given id of the tenant that is still pending and leased to signerId, running or expired " +
	"(while signerId is its owner no other signer has claimed it since), ends leaseSeconds from now; all in one atomic " +
	"write. The other ids (completed, deleted, failed, unknown, another tenant's, never leased, leased to another " +
	"signer) are left out of renewed, which is no error: the signer should stop working on them. A member other than " +
	"signerId, leaseSeconds and ids, or one given twice or in another letter case, is refused. Credits: 1 per 500 ids, at least 1."

// renewBodySchema is POST /v3/kms/lease's body.
func renewBodySchema() obj {
	return obj{"type": "object", "required": []string{"signerId", "ids"}, "additionalProperties": false, "properties": obj{
		"signerId":     withDescription(maps.Clone(signerIDSchema), "The signer holding the leases, as it claimed them."),
		"leaseSeconds": withDescription(maps.Clone(leaseSchema), "How long from now the renewed leases run (default 60)."),
		"ids": obj{"type": "array", "items": idSchema, "minItems": 1, "maxItems": MaxRenewIDs,
			"description": "Pending ids; one given twice is renewed and listed once."}}}
}

// txStates are the states GET /v3/kms/{id} reports.
var txStates = listStates

const statusDoc = "Not Tatum's. queued: waiting for a signer; signed: a signed transaction was submitted for broadcast but " +
	"the node has not accepted it (yet); broadcast: completed with its txId, not yet final on chain; confirmed: mined and " +
	"buried under the chain's confirmation depth (serve --confirmations); failed: ended for good without a txId, or mined " +
	"but failed on chain (an EVM receipt with status 0; see error and fee); dropped: the node lost it and its nonce was taken " +
	"by another transaction; replaced: another transaction took its place; expired: its validity window (a TRON " +
	"expiration, an XRP LastLedgerSequence, XLM time bounds, a SOL blockhash, a VET blockRef) passed before broadcast, or " +
	"before a block included it once broadcast. EVM, BTC, LTC, BCH, DOGE, XRP, XLM, TRON and EGLD transactions are followed " +
	"on chain; the others stay broadcast."

// outcomeProps are the on-chain outcome fields of a transaction's detail.
var outcomeProps = obj{
	"blockNumber":   obj{"type": "integer", "minimum": 0, "description": "Not Tatum's. The block holding it, once mined."},
	"confirmations": obj{"type": "integer", "minimum": 0, "description": "Not Tatum's. That block and the ones above it when last checked."},
	"fee":           obj{"type": "string", "description": "Not Tatum's. The fee paid, in the chain's smallest unit (EVM: gas used × effective gas price, in wei)."},
	"rebroadcasts":  obj{"type": "integer", "minimum": 1, "description": "Not Tatum's. Times the server sent the stored signed transaction again after the node lost it."},
	"replacedBy":    obj{"type": "string", "description": "Not Tatum's. When replaced: the txId of the transaction mined in its place (its speed-up or cancel, or the transaction it replaced)."},
}

// replaceOp documents POST /v3/kms/speedup/{id} (cancel false) and
// POST /v3/kms/cancel/{id}.
func replaceOp(cancel bool, bad obj) obj {
	summary, what := "Speed up a stuck transaction", "the same transaction"
	if cancel {
		summary, what = "Cancel a stuck transaction", "a zero-value transfer from the sender to itself"
	}
	return withDescription(op(summary, []obj{idParam}, nil, obj{
		"200": obj{"description": "The replacement was queued; id is its pending id.",
			"content": jsonContent(obj{"type": "object", "properties": obj{"id": idSchema}})},
		"400": errResp("Invalid request (validation.failed): a fee that is not a positive decimal string, of another fee type than the " +
			"transaction's, below the node's replacement minimum or above the server's ceiling (--max-gas-price)."),
		"403": errResp("Unknown, foreign or deleted id (kms.tx.notFound); a transaction of a chain without replacements, or one that " +
			"is not broadcast or is already final (kms.tx.notReplaceable); no node configured for the chain and the key's network " +
			"(broadcast.nodeNotConfigured)."),
		"502": errResp("The chain's node could not be reached, timed out or answered garbage (broadcast.nodeUnavailable); safe to retry."),
	}), "Not Tatum's. EVM chains. Queues "+what+" at the same nonce, for the same wallet (hashes, index, signatures, withdrawalId), "+
		"each fee raised by at least the node's replacement minimum (10% above the highest this transaction and its earlier replacements "+
		"offer, as geth's pool asks), to the node's current gas price when that is higher, never above --max-gas-price. The optional "+
		"body {\"gasPrice\"} or {\"maxFeePerGas\",\"maxPriorityFeePerGas\"} (decimal wei strings) asks for more. The replacement is "+
		"approved, signed and checked at broadcast like any queued transaction; whichever of the two is mined wins, and the other "+
		"becomes replaced (KMS_TX_REPLACED, with replacedBy). Ask again on the replacement to bump it further."+utxoReplaceDoc(cancel))
}

// utxoReplaceDoc documents BIP 125 replacement, which only speeds up.
func utxoReplaceDoc(cancel bool) string {
	if cancel {
		return " BTC and LTC transactions cannot be cancelled (400): only sped up."
	}
	return " BTC and LTC (replace by fee, BIP 125, for transfers whose inputs signal it, as the transfer endpoint builds them): " +
		"the queued PSBT again, the same inputs and outputs, the change (the last output paying back to a spent script) lowered " +
		"by the fee raise; the fee is at least the highest paid by it and its earlier replacements plus 1 sat/vB of its size, " +
		"raised to the node's rate for 2 blocks, or the body's {\"fee\"} in satoshis; a transaction without such change, or " +
		"whose change would fall below dust, or that does not signal replacement (DOGE, BCH), is a 400."
}

// merge returns a with b's entries added.
func merge(a, b obj) obj {
	for k, v := range b {
		a[k] = v
	}
	return a
}

// scopesDoc is what each API key scope is for (routes decides which route needs which).
const scopesDoc = "Each API key holds some of three scopes, shown per operation as x-custos-scope: queue (the application: " +
	"queue, read and delete transactions), sign (the signer: pending transactions, broadcast, complete, error reports) and " +
	"admin (the operator: metrics); a key made without naming any holds all three. Each key may make a limited number of " +
	"requests per second (429 with Retry-After beyond it)."

// completionDoc is what POST /v3/kms does with a transaction that leaves out
// fields only a node knows.
const completionDoc = "A Tatum-format EVM transaction (ETH BSC MATIC CELO ONE XDC KLAY) may leave out nonce, gas (gasLimit), " +
	"gasPrice (or, for EIP-1559, both fee caps must be given) and chainId: the server fills them from the chain's node for the API key's " +
	"network before storing, so the stored serializedTransaction is complete (fields given are kept, nonce 0 included). " +
	"A missing nonce is allocated by the server for the JSON's `from` address, per chain and network: the next one after every " +
	"nonce a live (not deleted, not failed) transaction of that sender holds, never below the node's pending transaction count, " +
	"and stored as a hex string (\"0x1f\"); so several transfers from one sender may be queued in a row, at once, without nonces. " +
	"A given nonce is kept and taken into account. Without `from`, a missing nonce is refused (400) because no signer could " +
	"sign the transaction. Gas is estimated from `from` when given. " + holeDoc + " " +
	"When no node is configured for the chain and network, an incomplete transaction is refused (400, naming the missing fields); " +
	"when the node refuses to estimate it (a revert, insufficient funds) the answer is 400 with the node's reason; " +
	"when the node cannot be reached, 502."

// web3SlugParam is the slug of Tatum's routes for the chains whose nodes
// speak Ethereum's JSON-RPC.
var web3SlugParam = obj{"name": "slug", "in": "path", "required": true, "schema": obj{"type": "string", "enum": web3Slugs}}

// web3Methods is the union of the web3 chains' relayed methods, in the order
// each first lists them.
func web3Methods() []string {
	var out []string
	for _, slug := range web3Slugs {
		c, _ := web3Chain(slug)
		for _, m := range c.Web3Methods() {
			if !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
	}
	return out
}

const countDoc = "Tatum's SDK asks it before signing a transaction whose nonce is missing (or the number 0, which it reads as " +
	"missing). The answer is the nonce POST /v3/kms would allocate to the sender now, for the API key's network (a testnet " +
	"key reads the chain's testnet node, as broadcasts do): the node's pending transaction count, or past it when transactions " +
	"queued for the sender hold higher nonces. Nothing is reserved. 1 credit."

const web3Doc = "Tatum's SDK estimates gas (and reads nonces and fees) through this route before signing BSC, XDC and other " +
	"EVM transactions. The API key is the path's last segment instead of X-API-Key; it authenticates exactly as the header " +
	"does and is masked in every log line. Only reads and gas estimation are relayed to the chain's node for the key's " +
	"network (the JsonRpcCall method enum); eth_sendRawTransaction and every other method are refused with a JSON-RPC error " +
	"and never reach the node: signed transactions go through POST /v3/{slug}/broadcast. A batch holds at most 20 calls, " +
	"all sent to the node in one request; a call needs an id (notifications are not relayed). 1 credit per call relayed."

// broadcastBatchDoc describes POST /v3/{slug}/broadcast/batch.
const broadcastBatchDoc = "Not Tatum's. POST /v3/{slug}/broadcast for up to 256 pending transactions of the chain at once, " +
	"each with its signatureId (no relay-only form). Each transaction is checked, stored, sent and completed exactly as the " +
	"single route does, and answers what that route would have for it alone; the signed transactions that pass their checks " +
	"are all stored before any is sent, and reach the node in the request's order (an EVM node gets them in one JSON-RPC " +
	"batch, or one call each when it takes no batches)."

// holeDoc is what happens to a sequence whose transaction will never be broadcast.
// refusedDoc is the batch report's refused field.
const refusedDoc = "Not Tatum's; optional. true when the signer refused the transaction for good: its approval service " +
	"refused it (a signed v2 refusal, or a v1 answer 403, 409 or 410; a timeout, a network error, 429 or 5xx is no refusal " +
	"and the transaction is asked about again later), its signing policy refused it, or its JSON is ambiguous (a duplicate " +
	"or case-variant key). error then names who refused (\"refused by the approval service: …\", \"refused by the signer: " +
	"policy: …\") and is kept as it is; an error that does not start with \"refused by \" (an earlier signer's) is kept as " +
	"\"refused by the approval service: \" + error. The transaction is failed with that reason: it is no longer served to " +
	"signers and the reason is kept among its errors. " + holeDoc

const holeDoc = "A transaction deleted (DELETE /v3/kms/{id}), refused by the signer or its approval service, refused by the node for good at " +
	"broadcast or expired frees its nonce (XRP, XLM: sequence): " +
	"when no live transaction of the sender holds a higher one, the next transaction queued reuses it; otherwise the server " +
	"queues, in the same API key, the chain's no-op at that sequence (EVM, EGLD: a zero-value transfer from the sender to " +
	"itself; XRP: an AccountSet without flags; XLM: one BUMP_SEQUENCE to 0) with the same hashes, index and " +
	"signatures, completed from the node like any transaction, which the signer signs like any other, so that the sender's " +
	"later transactions can be mined. No queued transaction is ever renumbered."

func withDescription(o obj, d string) obj {
	o["description"] = d
	return o
}

func (s *Server) openapi(w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, s.openapiDoc)
	return nil
}

// routeKey is how the OpenAPI test names a route: "post /v3/kms".
func routeKey(method, path string) string { return strings.ToLower(method) + " " + docPath(path) }

// docPath is a route's path as OpenAPI writes it: a wildcard matching the
// rest of the path ({path...}) is a plain parameter there.
func docPath(path string) string { return strings.ReplaceAll(path, "...}", "}") }
