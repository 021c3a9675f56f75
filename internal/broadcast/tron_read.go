package broadcast

import (
	"context"
	"encoding/hex"
	"fmt"

	"github.com/custoskms/custos/internal/chain/tron"
)

var _ tron.Node = (*TronClient)(nil)

// NowBlock asks POST /wallet/getnowblock for the node's head block: its id,
// height and time, which a queued transaction's reference block and
// expiration are completed from.
func (c *TronClient) NowBlock(ctx context.Context) (_ tron.Block, err error) {
	defer scrub(&err, c.node.raw)
	var a struct {
		BlockID     string `json:"blockID"`
		BlockHeader struct {
			RawData struct {
				Number    int64 `json:"number"`
				Timestamp int64 `json:"timestamp"`
			} `json:"raw_data"`
		} `json:"block_header"`
	}
	if err := c.node.postRaw(ctx, "wallet/getnowblock", []byte("{}"), &a); err != nil {
		return tron.Block{}, err
	}
	var b tron.Block
	id, err := hex.DecodeString(a.BlockID)
	if err != nil || len(id) != len(b.ID) {
		return tron.Block{}, fmt.Errorf("%w: getnowblock answered no 32-byte blockID", ErrUnavailable)
	}
	copy(b.ID[:], id)
	b.Number, b.Timestamp = a.BlockHeader.RawData.Number, a.BlockHeader.RawData.Timestamp
	if b.Number <= 0 || b.Timestamp <= 0 {
		return tron.Block{}, fmt.Errorf("%w: getnowblock answered no height or time", ErrUnavailable)
	}
	return b, nil
}
