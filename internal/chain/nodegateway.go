package chain

// NodeGateway is a chain whose Tatum SDK v1 signer reads from the chain's
// node through Tatum's API ({TATUM_API_URL}/v3/{slug}/node/{apiKey}/…)
// while signing: TRON (TronWeb) and EGLD. The server relays those reads,
// and only those, to the chain's configured node.
type NodeGateway interface {
	Chain
	// NodeReads lists the node endpoints relayed, "METHOD path" with * for
	// one segment of letters and digits (an address). None may submit a
	// transaction: signed transactions go through the broadcast route,
	// whose checks a gateway would bypass.
	NodeReads() []string
}
