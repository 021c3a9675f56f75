package chain

import "google.golang.org/protobuf/encoding/protowire"

// protoErr is a problem with protobuf bytes; callers wrap it in ErrInvalidTx
// with what the bytes were.
type protoErr string

func (e protoErr) Error() string { return string(e) }

// ProtoFields calls f for each field of a protobuf (or amino) message: v is
// the payload of a length-delimited field, n the value of a varint or fixed
// field. Groups are refused.
func ProtoFields(b []byte, f func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error) error {
	for len(b) > 0 {
		num, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return protoErr("bad protobuf tag")
		}
		b = b[l:]
		var v []byte
		var n uint64
		switch typ {
		case protowire.VarintType:
			n, l = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var x uint32
			x, l = protowire.ConsumeFixed32(b)
			n = uint64(x)
		case protowire.Fixed64Type:
			n, l = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			v, l = protowire.ConsumeBytes(b)
		default:
			return protoErr("unsupported protobuf wire type")
		}
		if l < 0 {
			return protoErr("truncated protobuf")
		}
		b = b[l:]
		if err := f(num, typ, v, n); err != nil {
			return err
		}
	}
	return nil
}
