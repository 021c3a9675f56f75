package utxo

import (
	"errors"
	"fmt"
	"strings"
)

// CashAddr (Bitcoin Cash address format, 2018): prefix ":" base32(payload ‖
// 40-bit BCH checksum), payload = version byte ‖ hash. Written here rather
// than importing bchd for ~60 lines.

const cashCharset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

// Version byte types (bits 3-6) for a 160-bit hash (size bits 0).
const (
	cashP2PKH byte = 0 << 3
	cashP2SH  byte = 1 << 3
)

func cashPolymod(v []byte) uint64 {
	c := uint64(1)
	for _, d := range v {
		c0 := byte(c >> 35)
		c = ((c & 0x07ffffffff) << 5) ^ uint64(d)
		if c0&0x01 != 0 {
			c ^= 0x98f2bc8e61
		}
		if c0&0x02 != 0 {
			c ^= 0x79b76d99e2
		}
		if c0&0x04 != 0 {
			c ^= 0xf33e5fb3c4
		}
		if c0&0x08 != 0 {
			c ^= 0xae2eabe2a8
		}
		if c0&0x10 != 0 {
			c ^= 0x1e4f43e470
		}
	}
	return c ^ 1
}

// to5 regroups 8-bit bytes into 5-bit groups, padding the last one with zeros.
func to5(b []byte) []byte {
	out := make([]byte, 0, (len(b)*8+4)/5)
	var acc uint32
	bits := 0
	for _, x := range b {
		acc = acc<<8 | uint32(x)
		bits += 8
		for bits >= 5 {
			bits -= 5
			out = append(out, byte(acc>>bits)&31)
		}
	}
	if bits > 0 {
		out = append(out, byte(acc<<(5-bits))&31)
	}
	return out
}

func prefixData(prefix string) []byte {
	d := make([]byte, 0, len(prefix)+1)
	for i := 0; i < len(prefix); i++ {
		d = append(d, prefix[i]&31)
	}
	return append(d, 0)
}

// cashEncode encodes a 20-byte hash with the given version byte.
func cashEncode(prefix string, version byte, hash []byte) string {
	payload := to5(append([]byte{version}, hash...))
	pd := prefixData(prefix)
	chk := cashPolymod(append(append(pd, payload...), 0, 0, 0, 0, 0, 0, 0, 0))
	var sb strings.Builder
	sb.Grow(len(prefix) + 1 + len(payload) + 8)
	sb.WriteString(prefix)
	sb.WriteByte(':')
	for _, d := range payload {
		sb.WriteByte(cashCharset[d])
	}
	for i := 0; i < 8; i++ {
		sb.WriteByte(cashCharset[(chk>>(5*(7-i)))&31])
	}
	return sb.String()
}

var errCashAddr = errors.New("invalid CashAddr address")

// cashDecode decodes a CashAddr with the given prefix (which may be omitted in
// the string) into its version byte and 20-byte hash.
func cashDecode(prefix, addr string) (version byte, hash []byte, err error) {
	if strings.ToLower(addr) != addr && strings.ToUpper(addr) != addr {
		return 0, nil, fmt.Errorf("%w: mixed case", errCashAddr)
	}
	addr = strings.ToLower(addr)
	if i := strings.IndexByte(addr, ':'); i >= 0 {
		if addr[:i] != prefix {
			return 0, nil, fmt.Errorf("%w: prefix is not %q", errCashAddr, prefix)
		}
		addr = addr[i+1:]
	}
	if len(addr) != 42 { // 160-bit hash: 34 payload + 8 checksum characters
		return 0, nil, fmt.Errorf("%w: length", errCashAddr)
	}
	data := make([]byte, len(addr))
	for i := 0; i < len(addr); i++ {
		j := strings.IndexByte(cashCharset, addr[i])
		if j < 0 {
			return 0, nil, fmt.Errorf("%w: bad character", errCashAddr)
		}
		data[i] = byte(j)
	}
	if cashPolymod(append(prefixData(prefix), data...)) != 0 {
		return 0, nil, fmt.Errorf("%w: checksum", errCashAddr)
	}
	// 34 groups of 5 bits = 170 bits: 168 of payload, 2 of zero padding.
	var acc uint32
	bits := 0
	var payload []byte
	for _, d := range data[:34] {
		acc = acc<<5 | uint32(d)
		bits += 5
		if bits >= 8 {
			bits -= 8
			payload = append(payload, byte(acc>>bits))
		}
	}
	if acc&(1<<bits-1) != 0 || len(payload) != 21 {
		return 0, nil, fmt.Errorf("%w: padding", errCashAddr)
	}
	if payload[0] != cashP2PKH && payload[0] != cashP2SH {
		return 0, nil, fmt.Errorf("%w: unsupported version byte", errCashAddr)
	}
	return payload[0], payload[1:], nil
}
