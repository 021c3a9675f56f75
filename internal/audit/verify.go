package audit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// Report is what Verify found in a log that verifies.
type Report struct {
	Entries  int    `json:"entries"`
	LastSeq  uint64 `json:"lastSeq"`
	LastHash string `json:"lastHash"`
}

// VerifyOptions are the anchors Verify checks the chain against.
type VerifyOptions struct {
	// Head, when set, must name an entry of the chain (seq and hash): a head
	// past the chain's end means entries were removed from the end.
	Head *Head
	// Expect, when set, is the hash of an entry recorded elsewhere (an
	// earlier verify's lastHash): the chain must still hold it.
	Expect string
}

// Verify reads a log from r and checks every entry: its canonical form and
// hash (an edit), its seq (1, 2, 3…: a removal, insertion or swap), its prev
// (the hash of the entry before it, Genesis for the first), a final newline
// (a line cut mid-way), and the anchors of o. The error is a *BrokenError
// naming the first bad line, or a read error.
func Verify(r io.Reader, o VerifyOptions) (Report, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	rep := Report{LastHash: Genesis}
	found := o.Expect == ""
	for line := 1; ; line++ {
		b, err := readLine(br)
		if errors.Is(err, io.EOF) && len(b) == 0 {
			break
		}
		bad := func(seq uint64, format string, args ...any) (Report, error) {
			return rep, &BrokenError{Line: line, Seq: seq, Reason: fmt.Sprintf(format, args...)}
		}
		if errors.Is(err, io.EOF) {
			return bad(0, "the last line is cut off (no newline): truncated mid-line")
		}
		if err != nil {
			if errors.Is(err, ErrTooLarge) {
				return bad(0, "line longer than %d bytes", MaxLine)
			}
			return rep, err
		}
		e, err := ParseLine(b)
		if err != nil {
			return bad(0, "%v", err)
		}
		if e.Seq != rep.LastSeq+1 {
			return bad(e.Seq, "seq %d where %d was expected: entries removed, inserted or reordered", e.Seq, rep.LastSeq+1)
		}
		if e.Prev != rep.LastHash {
			return bad(e.Seq, "prev does not match the hash of the entry before it: entries removed, inserted or reordered")
		}
		if o.Head != nil && o.Head.Seq == e.Seq && o.Head.Hash != e.Hash {
			return bad(e.Seq, "the head file names another entry %d (hash %s): the log was rewritten from here on", e.Seq, o.Head.Hash)
		}
		found = found || e.Hash == o.Expect
		rep.Entries++
		rep.LastSeq, rep.LastHash = e.Seq, e.Hash
	}
	if o.Head != nil && o.Head.Seq > rep.LastSeq {
		return rep, &BrokenError{Line: rep.Entries + 1, Reason: fmt.Sprintf(
			"the head file names entry %d but the log ends at entry %d: entries removed from the end", o.Head.Seq, rep.LastSeq)}
	}
	if !found {
		return rep, &BrokenError{Line: rep.Entries + 1, Reason: fmt.Sprintf(
			"no entry has the expected hash %s: the log was cut or rewritten", o.Expect)}
	}
	return rep, nil
}

// readLine returns the next line without its newline; io.EOF with the bytes
// of a last line that has none.
func readLine(br *bufio.Reader) ([]byte, error) {
	var out []byte
	for {
		b, err := br.ReadSlice('\n')
		if len(out)+len(b) > MaxLine+1 {
			return nil, ErrTooLarge
		}
		out = append(out, b...)
		switch {
		case err == nil:
			return bytes.TrimSuffix(out, []byte{'\n'}), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return out, err
		}
	}
}

// VerifyFile verifies the log at path against its head file, when it has
// one, and expect (may be empty). head reports whether a head file was found.
func VerifyFile(path, expect string) (rep Report, head bool, err error) {
	h, head, err := ReadHead(path)
	if err != nil {
		return Report{}, false, err
	}
	f, err := os.Open(path)
	if err != nil {
		return Report{}, head, fmt.Errorf("audit log: %w", err)
	}
	defer f.Close()
	o := VerifyOptions{Expect: expect}
	if head {
		o.Head = &h
	}
	rep, err = Verify(f, o)
	return rep, head, err
}
