package walletstore

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrTatumPassword is returned when a Tatum wallet.dat does not decrypt with
// the given password (crypto-js has no MAC: a wrong password shows up as bad
// padding or as plaintext that is not JSON).
var ErrTatumPassword = errors.New("invalid password for Tatum wallet file")

// DecryptTatum reads a Tatum KMS wallet.dat: crypto-js AES.encrypt(JSON,
// password), i.e. base64 of "Salted__", an 8-byte salt and AES-256-CBC with
// PKCS#7 padding, key and IV from OpenSSL's EVP_BytesToKey (MD5, one
// iteration). It returns the raw record of each signature ID.
func DecryptTatum(data, password []byte) (map[string]json.RawMessage, error) {
	raw, err := base64.StdEncoding.DecodeString(string(bytes.Join(bytes.Fields(data), nil)))
	if err != nil {
		return nil, fmt.Errorf("%w: Tatum wallet file is not base64", ErrCorrupt)
	}
	if len(raw) < 16+aes.BlockSize || string(raw[:8]) != "Salted__" || (len(raw)-16)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("%w: not a crypto-js/OpenSSL salted AES file", ErrCorrupt)
	}
	salt, ct := raw[8:16], raw[16:]
	keyIV := evpBytesToKey(password, salt, 48)
	defer clear(keyIV)
	block, err := aes.NewCipher(keyIV[:32])
	if err != nil {
		return nil, err
	}
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, keyIV[32:48]).CryptBlocks(pt, ct)
	defer clear(pt)
	pad := int(pt[len(pt)-1])
	if pad < 1 || pad > aes.BlockSize || !bytes.Equal(pt[len(pt)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
		return nil, ErrTatumPassword
	}
	var out map[string]json.RawMessage
	if err := json.Unmarshal(pt[:len(pt)-pad], &out); err != nil {
		return nil, ErrTatumPassword
	}
	return out, nil
}

// evpBytesToKey is OpenSSL's EVP_BytesToKey with MD5 and one iteration:
// D_i = MD5(D_{i-1} || password || salt), concatenated.
func evpBytesToKey(password, salt []byte, n int) []byte {
	// Sized up front so that no grown-out copy of key material is left behind.
	out := make([]byte, 0, n+md5.Size)
	var prev []byte
	for len(out) < n {
		h := md5.New()
		h.Write(prev)
		h.Write(password)
		h.Write(salt)
		prev = h.Sum(prev[:0])
		out = append(out, prev...)
	}
	clear(prev)
	return out[:n]
}

// ParseTatumRecord decodes one Tatum record ({mnemonic, xpub, chain, testnet},
// {privateKey, chain, testnet} or {address, secret, chain, testnet}).
func ParseTatumRecord(id string, raw json.RawMessage) (*Wallet, error) {
	return decodeRecord(id, raw)
}
