package api

// transferPaths documents Tatum's KMS-mode transfer and fee estimate routes
// (§4.14). Each chain's body is Tatum's request for it; the chain packages
// say in their Transfer and EstimateFee what they read.
func transferPaths(bad obj) obj {
	slug := obj{"type": "string"}
	if len(transferSlugs) > 0 {
		slug["enum"] = transferSlugs
	}
	code := obj{"type": "string"}
	if len(estimateChains) > 0 {
		code["enum"] = estimateChains
	}
	return obj{
		"/v3/{slug}/transaction": obj{"post": withDescription(op("Build, and queue for signing, a transfer (Tatum's KMS mode)",
			[]obj{{"name": "slug", "in": "path", "required": true, "schema": slug}},
			obj{"type": "object", "description": "Tatum's transfer body for the chain, with signatureId (and index for a mnemonic " +
				"wallet) where a private key would go. amount is a decimal string in the asset's units."}, obj{
				"200": obj{"description": "Queued: signatureId is the pending transaction's id (GET /v3/kms/{id}).",
					"content": jsonContent(obj{"type": "object", "required": []string{"signatureId"},
						"properties": obj{"signatureId": idSchema}})},
				"400": bad,
				"502": errResp("The chain's node could not be asked (broadcast.nodeUnavailable); nothing was queued."),
			}), "The server builds the transaction (sequence, fee and gas from the node, UTXO inputs and change) and queues it "+
			"exactly as POST /v3/kms would: the same validation, tenant and network rules. An amount with more decimals than "+
			"the asset has is refused.")},
		"/v3/blockchain/estimate": obj{"post": withDescription(op("Estimate a transaction's fee (Tatum's)", nil,
			obj{"type": "object", "required": []string{"chain"}, "properties": obj{"chain": code}}, obj{
				"200": obj{"description": "The estimate, in Tatum's shape for the chain.", "content": jsonContent(obj{"type": "object"})},
				"400": bad,
				"502": errResp("The chain's node could not be asked (broadcast.nodeUnavailable)."),
			}), "Answered from the configured node of the API key's network.")},
	}
}
