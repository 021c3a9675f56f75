package tron

import (
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/custoskms/custos/internal/chain"
)

// rawData is what the signer checks of the protobuf Transaction.raw (the bytes
// whose sha256 is the txID, and so what the signature covers).
type rawData struct {
	refBlockBytes, refBlockHash []byte
	expiration, timestamp       int64
	contracts                   []rawContract
	feeLimit                    int64
	data                        []byte // the memo
}

type rawContract struct {
	typ   uint64 // Transaction.Contract.ContractType
	owner []byte // owner_address of the contract message
	value []byte // the contract message (google.protobuf.Any value)
}

// Field numbers of protocol.Transaction.raw, Transaction.Contract and
// google.protobuf.Any (java-tron's Tron.proto). Every contract message of the
// protocol has owner_address as its field 1 but TransferAssetContract, whose
// field 1 is the asset name and owner_address field 2.
const (
	rawRefBlockBytes = 1
	rawRefBlockHash  = 4
	rawExpiration    = 8
	rawMemo          = 10
	rawContractField = 11
	rawTimestamp     = 14
	rawFeeLimit      = 18

	contractType      = 1
	contractParameter = 2

	anyValue = 2

	ownerAddress      = 1
	assetOwnerAddress = 2

	typeTransferAsset = 2 // ContractType.TransferAssetContract
)

type protoErr string

func (e protoErr) Error() string { return string(e) }

// parseRaw reads Transaction.raw, skipping fields the check does not need.
func parseRaw(b []byte) (*rawData, error) {
	rd := &rawData{}
	err := chain.ProtoFields(b, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
		switch {
		case num == rawRefBlockBytes && typ == protowire.BytesType:
			rd.refBlockBytes = v
		case num == rawRefBlockHash && typ == protowire.BytesType:
			rd.refBlockHash = v
		case num == rawExpiration && typ == protowire.VarintType:
			rd.expiration = int64(n)
		case num == rawTimestamp && typ == protowire.VarintType:
			rd.timestamp = int64(n)
		case num == rawFeeLimit && typ == protowire.VarintType:
			rd.feeLimit = int64(n)
		case num == rawMemo && typ == protowire.BytesType:
			rd.data = v
		case num == rawContractField && typ == protowire.BytesType:
			c, err := parseContract(v)
			if err != nil {
				return err
			}
			rd.contracts = append(rd.contracts, c)
		case num == rawRefBlockBytes || num == rawRefBlockHash || num == rawExpiration || num == rawTimestamp || num == rawContractField ||
			num == rawFeeLimit || num == rawMemo:
			return protoErr("raw_data field has the wrong wire type")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rd, nil
}

func parseContract(b []byte) (rawContract, error) {
	var c rawContract
	var param []byte
	err := chain.ProtoFields(b, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
		switch {
		case num == contractType && typ == protowire.VarintType:
			c.typ = n
		case num == contractParameter && typ == protowire.BytesType:
			param = v
		}
		return nil
	})
	if err != nil {
		return c, err
	}
	var value []byte
	if err := chain.ProtoFields(param, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num == anyValue && typ == protowire.BytesType {
			value = v
		}
		return nil
	}); err != nil {
		return c, err
	}
	c.value = value
	owner := protowire.Number(ownerAddress)
	if c.typ == typeTransferAsset {
		owner = assetOwnerAddress
	}
	err = chain.ProtoFields(value, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num == owner && typ == protowire.BytesType {
			c.owner = v
		}
		return nil
	})
	if err == nil && c.owner == nil {
		err = protoErr("contract has no owner_address")
	}
	return c, err
}
