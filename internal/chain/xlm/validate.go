package xlm

import (
	"encoding/base64"
	"encoding/binary"
	"strings"

	"github.com/custoskms/custos/internal/chain"
)

var _ chain.TxValidator = (*Chain)(nil)

// XDR discriminants (Stellar-transaction.x) read by the structural check.
const (
	envelopeTxV0    = 0
	envelopeTx      = 2
	envelopeFeeBump = 5

	keyTypeEd25519      = 0
	keyTypeMuxedEd25519 = 0x100

	maxOperations = 100
)

// ValidateTx implements chain.TxValidator for a base64 XDR TransactionEnvelope
// (Tatum and native forms are the same): it reads the envelope head — type,
// source account, fee, sequence, preconditions, memo and operation count —
// which tells a Stellar envelope from anything else — then decodes it in full
// with the Stellar SDK. The network is not in the XDR; it is picked by the
// wallet's network at signing.
func (c *Chain) ValidateTx(serialized string, _ bool, _ ...uint64) error {
	_, err := parseEnvelope(serialized)
	return err
}

// checkHead is the structural check of the envelope head.
func checkHead(serialized string) error {
	s := strings.TrimSpace(serialized)
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) == 0 {
		return chain.InvalidTx("XLM transaction is not base64")
	}
	if len(b)%4 != 0 {
		return chain.InvalidTx("XDR length is not a multiple of 4")
	}
	r := &xdrReader{b: b}
	switch t := r.u32(); t {
	case envelopeTxV0:
		r.skip(32) // ed25519 source key
		r.skip(4 + 8)
		if r.bool() { // optional time bounds
			r.skip(16)
		}
		r.memo()
		r.ops()
	case envelopeTx:
		r.tx()
	case envelopeFeeBump:
		r.muxed()
		r.skip(8) // fee
		if r.u32() != envelopeTx {
			return chain.InvalidTx("fee-bump envelope does not wrap a transaction")
		}
		r.tx()
	default:
		return chain.InvalidTx("not a Stellar transaction envelope (type %d)", t)
	}
	if r.err != "" {
		return chain.InvalidTx("XDR envelope: %s", r.err)
	}
	return nil
}

// xdrReader reads big-endian XDR, remembering the first problem.
type xdrReader struct {
	b   []byte
	err string
}

func (r *xdrReader) fail(msg string) {
	if r.err == "" {
		r.err = msg
	}
	r.b = nil
}

func (r *xdrReader) skip(n int) {
	if r.err != "" {
		return
	}
	if len(r.b) < n {
		r.fail("truncated")
		return
	}
	r.b = r.b[n:]
}

func (r *xdrReader) u32() uint32 {
	if r.err != "" || len(r.b) < 4 {
		r.fail("truncated")
		return 0
	}
	v := binary.BigEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *xdrReader) bool() bool {
	switch r.u32() {
	case 0:
		return false
	case 1:
		return true
	}
	r.fail("bad boolean")
	return false
}

func (r *xdrReader) muxed() {
	switch r.u32() {
	case keyTypeEd25519:
		r.skip(32)
	case keyTypeMuxedEd25519:
		r.skip(8 + 32)
	default:
		r.fail("source account is not an ed25519 account")
	}
}

// tx reads a Transaction up to its operation count.
func (r *xdrReader) tx() {
	r.muxed()
	r.skip(4 + 8)    // fee, sequence number
	switch r.u32() { // preconditions
	case 0:
	case 1:
		r.skip(16)
	case 2:
		return // v2 preconditions are variable-length; the head read so far suffices
	default:
		r.fail("bad preconditions")
		return
	}
	r.memo()
	r.ops()
}

func (r *xdrReader) memo() {
	switch r.u32() {
	case 0: // none
	case 1: // text, at most 28 bytes, padded to 4
		n := r.u32()
		if n > 28 {
			r.fail("memo text longer than 28 bytes")
			return
		}
		r.skip(int(n+3) &^ 3)
	case 2: // id
		r.skip(8)
	case 3, 4: // hash, return hash
		r.skip(32)
	default:
		r.fail("bad memo type")
	}
}

func (r *xdrReader) ops() {
	n := r.u32()
	if r.err == "" && (n == 0 || n > maxOperations) {
		r.fail("operation count out of 1..100")
	}
	if r.err == "" && len(r.b) == 0 {
		r.fail("truncated")
	}
}
