package chain

// Web3 is a chain whose nodes speak Ethereum's JSON-RPC: the EVM chains.
// Tatum's SDK signs their transactions after asking Tatum's API for the
// sender's transaction count when the nonce is missing, and, for some of
// them, after estimating gas through Tatum's web3 gateway; the server
// answers both from the chain's configured node.
type Web3 interface {
	Chain
	Sequencer
	// Account validates an address as the chain writes them (XDC's "xdc"
	// prefix too) and returns it as Sequence names senders, so that a count
	// read for it is the sequence the allocator keeps for that sender.
	Account(address string) (string, error)
	// Web3Methods lists the JSON-RPC methods the gateway relays to the
	// chain's node: reads and gas estimation, none that sends a transaction,
	// signs, or leaves state on the node (filters, subscriptions).
	Web3Methods() []string
}
