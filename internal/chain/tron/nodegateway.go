package tron

import (
	"net/http"

	"github.com/custoskms/custos/internal/chain"
)

var _ chain.NodeGateway = (*Chain)(nil)

// NodeReads implements chain.NodeGateway: TronWeb asks wallet/getnodeinfo
// on construction (every signTronKMSTransaction); the others are the reads
// TronWeb makes to build and check transactions. TronWeb sends each as GET
// or POST.
func (c *Chain) NodeReads() []string {
	var out []string
	for _, p := range []string{"wallet/getnodeinfo", "wallet/getnowblock", "wallet/getblockbynum", "wallet/getaccount",
		"wallet/getaccountresource", "wallet/getchainparameters", "wallet/getcontract", "wallet/triggerconstantcontract",
		"wallet/estimateenergy", "walletsolidity/getaccount", "walletsolidity/gettransactioninfobyid"} {
		out = append(out, http.MethodGet+" "+p, http.MethodPost+" "+p)
	}
	return out
}
