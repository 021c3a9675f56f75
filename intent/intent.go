// Package intent describes what a transaction does, decoded from the bytes a
// signer is about to sign: who signs, who receives how much of which asset,
// the most it can pay in fees, its sequence and any contract it calls.
//
// The signer daemon decodes an intent with each chain's codec (the chain
// package's optional Intender capability), evaluates its signing policy on
// it, and sends it to the approval service with the exact bytes it will
// sign, so that a person or a program approves what is signed and not what
// an API says. The package is public so that an approval service written in
// Go can decode the daemon's requests with the same types.
//
// Amounts are decimal strings of integers in the asset's smallest unit (wei,
// satoshi, drops, stroops, lamports, sun): JSON numbers lose precision past
// 2^53 in most approval services' languages.
package intent

// Intent is what one transaction does.
type Intent struct {
	// Chain is the currency code (ETH, BTC, …) and Network "mainnet" or "testnet".
	Chain   string `json:"chain"`
	Network string `json:"network"`
	// ChainID is the network identifier the transaction itself carries where
	// the chain has one (an EVM chain id in decimal, an EGLD chain id, a BNB
	// chain id); empty otherwise.
	ChainID string `json:"chainId,omitempty"`
	// Signers are the accounts whose keys sign, as the chain spells an
	// address: the sender (EVM from, XRP Account, XLM source, TRON owner,
	// EGLD sender, VET origin), a SOL transaction's required signers, the
	// addresses of the UTXO inputs where the transaction names them. Empty
	// when the transaction does not say (an EVM transaction without from:
	// the key decides).
	Signers []string `json:"signers"`
	// Transfers are the value the transaction moves, one per recipient and
	// asset, in the order the transaction lists them.
	Transfers []Transfer `json:"transfers"`
	// Fee bounds what the transaction can pay for being included; nil when
	// the chain's fee is not in the transaction (a fee the node charges).
	Fee *Fee `json:"fee,omitempty"`
	// Sequence is the account sequence the transaction uses (EVM nonce, XRP
	// Sequence, XLM sequence number, EGLD nonce), nil where the chain has none.
	Sequence *uint64 `json:"sequence,omitempty"`
	// Calls are the contract calls the transaction makes (EVM data sent to
	// a contract, a TRON TriggerSmartContract, a VET clause with data, a SOL
	// instruction of another program than the system program, an EGLD data
	// field, a FLOW script).
	Calls []Call `json:"calls,omitempty"`
	// Memo is the transaction's memo, destination tag or plain-text data,
	// where the chain has one.
	Memo string `json:"memo,omitempty"`
	// Inputs are the outputs a UTXO transaction spends, as "txid:vout", in
	// input order: what it spends is fixed by them, since a signed UTXO
	// transaction does not carry the amounts its inputs hold.
	Inputs []string `json:"inputs,omitempty"`
}

// Transfer is one movement of value to a recipient.
type Transfer struct {
	To string `json:"to"`
	// Amount is the integer amount in the asset's smallest unit, in decimal.
	Amount string `json:"amount"`
	// Asset is empty for the chain's native coin; otherwise the token
	// (an ERC-20 or TRC-20 contract address, an XLM or XRP "CODE:issuer",
	// a BNB denomination, an ESDT identifier).
	Asset string `json:"asset,omitempty"`
	// Change marks a UTXO output paying back to one of the transaction's
	// signers: it moves nothing out of the wallet.
	Change bool `json:"change,omitempty"`
}

// Fee is the fee side of a transaction, in the native coin's smallest unit.
type Fee struct {
	// Max is the most the transaction can pay: gas limit × (max fee per gas
	// or gas price) for EVM chains, inputs − outputs for UTXO chains, the XRP
	// Fee, the XLM fee × operations, a TRON fee limit, a VET gas ceiling …
	Max string `json:"max"`
	// GasPrice is the legacy gas price or the EIP-1559 max fee per gas.
	GasPrice string `json:"gasPrice,omitempty"`
	// MaxPriorityFeePerGas is the EIP-1559 tip, when the transaction has one.
	MaxPriorityFeePerGas string `json:"maxPriorityFeePerGas,omitempty"`
	// GasLimit is the gas the transaction may use, where the chain has gas.
	GasLimit string `json:"gasLimit,omitempty"`
	// Asset is empty when the fee is paid in the native coin; otherwise the
	// token it is paid in (a CELO feeCurrency contract), in whose units Max
	// and the gas prices then count.
	Asset string `json:"asset,omitempty"`
}

// Call is one contract call.
type Call struct {
	// Contract is the called contract's address (the program id on SOL).
	Contract string `json:"contract"`
	// Method is the called function: an EVM 4-byte selector as "0xa9059cbb",
	// or the chain's method name where the transaction names one.
	Method string `json:"method,omitempty"`
	// Data is the call's input as the chain encodes it (0x hex for EVM
	// chains), so that a policy or a person can look past the method.
	Data string `json:"data,omitempty"`
}
