package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// Head is the last entry the log's writers know of, kept in a small file
// beside the log (PATH.head). A hash chain cannot tell on its own that its
// last entries were cut off; the head can, as long as whoever cut them did
// not also rewrite the head (docs/design.md §7.4).
type Head struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

// HeadPath is the head file of the log at path.
func HeadPath(path string) string { return path + ".head" }

// ReadHead reads the head file of the log at path; ok is false when there is
// none (a log written before heads, or never written).
func ReadHead(path string) (h Head, ok bool, err error) {
	b, err := os.ReadFile(HeadPath(path))
	if errors.Is(err, os.ErrNotExist) {
		return Head{}, false, nil
	}
	if err != nil {
		return Head{}, false, fmt.Errorf("audit head: %w", err)
	}
	if err := json.Unmarshal(b, &h); err != nil || !isHash(h.Hash) || h.Seq == 0 {
		return Head{}, false, fmt.Errorf("%w: head file %s is not a head", ErrBroken, HeadPath(path))
	}
	return h, true, nil
}

func (l *Log) readHead() (Head, error) {
	h, _, err := ReadHead(l.path)
	return h, err
}

// writeHead overwrites the head in place. It is written after the entries it
// names are synced and is not synced itself: after a crash it may name an
// earlier entry, never one the log lacks. The seq only grows, so a new head
// is never shorter than the old one.
func (l *Log) writeHead(h Head) error {
	b, err := json.Marshal(h)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	f, err := l.opts.OpenFile(HeadPath(l.path), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("audit head: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, 0); err != nil {
		return fmt.Errorf("audit head: %w", err)
	}
	if err := f.Truncate(int64(len(b))); err != nil {
		return fmt.Errorf("audit head: %w", err)
	}
	return nil
}
