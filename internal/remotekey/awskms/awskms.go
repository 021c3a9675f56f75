// Package awskms is a chain.DigestSigner over an AWS KMS key of spec
// ECC_SECG_P256K1: KMS signs each digest (MessageType DIGEST, ECDSA_SHA_256)
// and the private key never leaves it. Credentials come from the AWS SDK's
// default chain (environment, shared files, instance role), never from the
// wallet store; an endpoint may be set for a VPC endpoint or an emulator.
package awskms

import (
	"context"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/btcsuite/btcd/btcec/v2"

	"github.com/custoskms/custos/internal/chain"
)

// Config names a KMS key and where to reach it.
type Config struct {
	// KeyID is the key's id, ARN or alias ("alias/…").
	KeyID string
	// Region is the key's region; empty takes the SDK's default (AWS_REGION,
	// the shared config).
	Region string
	// Endpoint, when set, replaces the region's KMS endpoint.
	Endpoint string
	// Timeout bounds each call to KMS, retries included, so that a KMS
	// that stops answering fails the transaction instead of holding the
	// daemon's run; default DefaultTimeout.
	Timeout time.Duration
}

// DefaultTimeout is Config.Timeout's default.
const DefaultTimeout = 30 * time.Second

// ErrKeySpec is a KMS key that is not an ECC_SECG_P256K1 signing key.
var ErrKeySpec = errors.New("not an ECC_SECG_P256K1 signing key")

// Key is one KMS key. It is safe for concurrent use.
type Key struct {
	client  *kms.Client
	keyID   string
	timeout time.Duration

	mu  sync.Mutex
	pub *btcec.PublicKey // read once: a key's public half never changes
}

var _ chain.DigestSigner = (*Key)(nil)

// New returns the key cfg names. It makes no call to KMS.
func New(ctx context.Context, cfg Config) (*Key, error) {
	if cfg.KeyID == "" {
		return nil, errors.New("aws kms: key id is required")
	}
	var opts []func(*config.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	ac, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("aws kms: %w", err)
	}
	client := kms.NewFromConfig(ac, func(o *kms.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
	})
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	return &Key{client: client, keyID: cfg.KeyID, timeout: cfg.Timeout}, nil
}

// PublicKey implements chain.DigestSigner: GetPublicKey, whose answer is
// checked to be a secp256k1 signing key, read once.
func (k *Key) PublicKey(ctx context.Context) (*btcec.PublicKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.pub != nil {
		return k.pub, nil
	}
	ctx, cancel := context.WithTimeout(ctx, k.timeout)
	defer cancel()
	out, err := k.client.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(k.keyID)})
	if err != nil {
		return nil, fmt.Errorf("aws kms: get public key of %s: %w", k.keyID, err)
	}
	if out.KeySpec != types.KeySpecEccSecgP256k1 || out.KeyUsage != types.KeyUsageTypeSignVerify {
		return nil, fmt.Errorf("aws kms: key %s (%s, %s): %w", k.keyID, out.KeySpec, out.KeyUsage, ErrKeySpec)
	}
	pub, err := ParsePublicKey(out.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("aws kms: key %s: %w", k.keyID, err)
	}
	k.pub = pub
	return pub, nil
}

// SignDigest implements chain.DigestSigner. KMS answers a DER signature
// with any s; chain.RecoverableSignature makes it low.
func (k *Key) SignDigest(ctx context.Context, digest []byte) (*big.Int, *big.Int, error) {
	ctx, cancel := context.WithTimeout(ctx, k.timeout)
	defer cancel()
	out, err := k.client.Sign(ctx, &kms.SignInput{
		KeyId:            aws.String(k.keyID),
		Message:          digest,
		MessageType:      types.MessageTypeDigest,
		SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("aws kms: sign with %s: %w", k.keyID, err)
	}
	return ParseSignature(out.Signature)
}

var (
	oidECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidSecp256k1   = asn1.ObjectIdentifier{1, 3, 132, 0, 10}
)

// ParsePublicKey reads a DER SubjectPublicKeyInfo (RFC 5480) of a secp256k1
// key, as GetPublicKey returns it. Go's x509 does not know the curve.
func ParsePublicKey(der []byte) (*btcec.PublicKey, error) {
	var spki struct {
		Algorithm struct {
			Algorithm  asn1.ObjectIdentifier
			Parameters asn1.ObjectIdentifier
		}
		PublicKey asn1.BitString
	}
	rest, err := asn1.Unmarshal(der, &spki)
	if err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("public key: not a DER SubjectPublicKeyInfo (%v)", err)
	}
	if !spki.Algorithm.Algorithm.Equal(oidECPublicKey) || !spki.Algorithm.Parameters.Equal(oidSecp256k1) {
		return nil, fmt.Errorf("public key: algorithm %v curve %v: %w", spki.Algorithm.Algorithm, spki.Algorithm.Parameters, ErrKeySpec)
	}
	pub, err := btcec.ParsePubKey(spki.PublicKey.RightAlign())
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	return pub, nil
}

// ParseSignature reads a DER ECDSA-Sig-Value (RFC 3279), nothing after it.
func ParseSignature(der []byte) (*big.Int, *big.Int, error) {
	var sig struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(der, &sig)
	if err != nil || len(rest) != 0 {
		return nil, nil, fmt.Errorf("%w: not a DER ECDSA signature (%v)", chain.ErrBadSignature, err)
	}
	return sig.R, sig.S, nil
}
