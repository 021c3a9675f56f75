package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestGenesisIsTheDocumentedHash(t *testing.T) {
	sum := sha256.Sum256([]byte("custos audit log v1"))
	if hex.EncodeToString(sum[:]) != Genesis {
		t.Fatal("Genesis is not SHA-256 of \"custos audit log v1\"")
	}
}

func openLog(t *testing.T, path string, opts Options) *Log {
	t.Helper()
	if opts.Actor == "" {
		opts.Actor = "test"
	}
	l, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// writeRun appends n events to a new log and returns its path and lines.
func writeRun(t *testing.T, n int) (string, [][]byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.log")
	l := openLog(t, path, Options{})
	for i := range n {
		ev := Event{Type: "test.event", Fields: map[string]any{"i": i, "id": fmt.Sprintf("tx-%d", i), "list": []string{"a", "<b>"}}}
		if err := l.Append(t.Context(), ev); err != nil {
			t.Fatal(err)
		}
	}
	return path, lines(t, path)
}

func lines(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(b, []byte{'\n'})[:bytes.Count(b, []byte{'\n'})]
}

func rewrite(t *testing.T, path string, ls [][]byte) {
	t.Helper()
	if err := os.WriteFile(path, bytes.Join(ls, nil), 0o600); err != nil {
		t.Fatal(err)
	}
}

func verifyPath(t *testing.T, path string) (Report, error) {
	t.Helper()
	rep, head, err := VerifyFile(path, "")
	if !head {
		t.Fatal("no head file beside the log")
	}
	return rep, err
}

func TestAppendsVerify(t *testing.T) {
	path, ls := writeRun(t, 5)
	rep, err := verifyPath(t, path)
	if err != nil {
		t.Fatal(err)
	}
	last, err := ParseLine(bytes.TrimSuffix(ls[4], []byte{'\n'}))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Entries != 5 || rep.LastSeq != 5 || rep.LastHash != last.Hash {
		t.Fatalf("report %+v, last entry %+v", rep, last)
	}
	if first, _ := ParseLine(bytes.TrimSuffix(ls[0], []byte{'\n'})); first.Prev != Genesis || first.Actor != "test" || first.PID != os.Getpid() {
		t.Fatalf("first entry %+v", first)
	}
	// An earlier verify's last hash, recorded elsewhere, is still found.
	if _, _, err := VerifyFile(path, last.Hash); err != nil {
		t.Fatal(err)
	}
}

func wantBroken(t *testing.T, err error, line int, reason string) {
	t.Helper()
	var be *BrokenError
	if !errors.As(err, &be) || !errors.Is(err, ErrBroken) {
		t.Fatalf("got %v, want a broken log", err)
	}
	if be.Line != line || !strings.Contains(be.Reason, reason) {
		t.Fatalf("got %v, want line %d: %q", err, line, reason)
	}
}

func TestVerifyFindsAnEditedEntry(t *testing.T) {
	for i := range 5 {
		t.Run(fmt.Sprint(i+1), func(t *testing.T) {
			path, ls := writeRun(t, 5)
			ls[i] = bytes.Replace(ls[i], fmt.Appendf(nil, `"id":"tx-%d"`, i), fmt.Appendf(nil, `"id":"tx-%d"`, i+7), 1)
			rewrite(t, path, ls)
			_, err := verifyPath(t, path)
			wantBroken(t, err, i+1, "edited")
		})
	}
}

// An editor who also recomputes the edited entry's hash breaks the next
// entry's prev, or, for the last entry, disagrees with the head file.
func TestVerifyFindsAnEditedAndRehashedEntry(t *testing.T) {
	for i := range 5 {
		t.Run(fmt.Sprint(i+1), func(t *testing.T) {
			path, ls := writeRun(t, 5)
			e, err := ParseLine(bytes.TrimSuffix(ls[i], []byte{'\n'}))
			if err != nil {
				t.Fatal(err)
			}
			e.Fields["id"] = "forged"
			line, err := e.seal()
			if err != nil {
				t.Fatal(err)
			}
			ls[i] = append(line, '\n')
			rewrite(t, path, ls)
			_, err = verifyPath(t, path)
			if i == 4 {
				wantBroken(t, err, 5, "head file names another entry")
				return
			}
			wantBroken(t, err, i+2, "prev does not match")
		})
	}
}

func TestVerifyFindsARemovedEntry(t *testing.T) {
	for i := range 5 {
		t.Run(fmt.Sprint(i+1), func(t *testing.T) {
			path, ls := writeRun(t, 5)
			rewrite(t, path, append(ls[:i:i], ls[i+1:]...))
			_, err := verifyPath(t, path)
			if i == 4 {
				wantBroken(t, err, 5, "entries removed from the end")
				return
			}
			wantBroken(t, err, i+1, fmt.Sprintf("seq %d where %d was expected", i+2, i+1))
		})
	}
}

func TestVerifyFindsSwappedEntries(t *testing.T) {
	for i := range 4 {
		t.Run(fmt.Sprint(i+1), func(t *testing.T) {
			path, ls := writeRun(t, 5)
			ls[i], ls[i+1] = ls[i+1], ls[i]
			rewrite(t, path, ls)
			_, err := verifyPath(t, path)
			wantBroken(t, err, i+1, "removed, inserted or reordered")
		})
	}
}

func TestVerifyFindsALineCutMidway(t *testing.T) {
	path, ls := writeRun(t, 3)
	ls[2] = ls[2][:len(ls[2])/2]
	rewrite(t, path, ls)
	_, err := verifyPath(t, path)
	wantBroken(t, err, 3, "truncated mid-line")
}

// Without the head file, only an anchor kept elsewhere shows that the last
// entries are gone.
func TestVerifyExpectedHashFindsTailRemoval(t *testing.T) {
	path, ls := writeRun(t, 4)
	last, _ := ParseLine(bytes.TrimSuffix(ls[3], []byte{'\n'}))
	rewrite(t, path, ls[:3])
	if err := os.Remove(HeadPath(path)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := VerifyFile(path, ""); err != nil {
		t.Fatalf("a cut log without a head verifies on its own (documented): %v", err)
	}
	_, _, err := VerifyFile(path, last.Hash)
	wantBroken(t, err, 4, "no entry has the expected hash")
}

// Several processes append to one log (the daemon and CLI commands): each
// holds its own lock file descriptor, as two Logs in one process do here.
func TestConcurrentWritersKeepOneChain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	logs := []*Log{openLog(t, path, Options{Actor: "a"}), openLog(t, path, Options{Actor: "b"})}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 25 {
				if err := logs[w%2].Append(context.Background(), Event{Type: "x", Fields: map[string]any{"w": w, "i": i}}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	rep, err := verifyPath(t, path)
	if err != nil || rep.Entries != 200 {
		t.Fatalf("%+v %v", rep, err)
	}
}

// A crash during an append leaves a line without its newline; the next
// append drops it, says so, and the chain goes on from the entry before.
func TestTornLastLineIsDroppedAndRecorded(t *testing.T) {
	path, ls := writeRun(t, 2)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"seq":3,"time":"20`)
	f.Close()
	l := openLog(t, path, Options{})
	if err := l.Append(t.Context(), Event{Type: "after"}); err != nil {
		t.Fatal(err)
	}
	rep, err := verifyPath(t, path)
	if err != nil || rep.Entries != 4 {
		t.Fatalf("%+v %v", rep, err)
	}
	got := lines(t, path)
	if !bytes.Equal(got[1], ls[1]) || !bytes.Contains(got[2], []byte(`"event":"audit.torn_tail","fields":{"bytes":19}`)) {
		t.Fatalf("lines after repair:\n%s", bytes.Join(got, nil))
	}
}

// A damaged last entry, or a head past the end, stops every append.
func TestAppendRefusesABrokenLog(t *testing.T) {
	t.Run("edited last entry", func(t *testing.T) {
		path, ls := writeRun(t, 2)
		ls[1] = bytes.Replace(ls[1], []byte("tx-1"), []byte("tx-9"), 1)
		rewrite(t, path, ls)
		err := openLog(t, path, Options{}).Append(t.Context(), Event{Type: "x"})
		if !errors.Is(err, ErrBroken) {
			t.Fatalf("append after an edited last entry: %v", err)
		}
	})
	t.Run("own last entry edited", func(t *testing.T) {
		// The writer of the last entry finds the edit too: it knows its own
		// last line only byte for byte.
		path := filepath.Join(t.TempDir(), "audit.log")
		l := openLog(t, path, Options{})
		for _, id := range []string{"tx-0", "tx-1"} {
			if err := l.Append(t.Context(), Event{Type: "x", Fields: map[string]any{"id": id}}); err != nil {
				t.Fatal(err)
			}
		}
		ls := lines(t, path)
		ls[1] = bytes.Replace(ls[1], []byte("tx-1"), []byte("tx-9"), 1)
		rewrite(t, path, ls)
		if err := l.Append(t.Context(), Event{Type: "x"}); !errors.Is(err, ErrBroken) {
			t.Fatalf("append after its own last entry was edited: %v", err)
		}
	})
	t.Run("last entry removed", func(t *testing.T) {
		path, ls := writeRun(t, 2)
		rewrite(t, path, ls[:1])
		err := openLog(t, path, Options{}).Append(t.Context(), Event{Type: "x"})
		if !errors.Is(err, ErrBroken) {
			t.Fatalf("append after the last entry was removed: %v", err)
		}
	})
}

// fullFile is a log file on a full disk: a write stores part of its bytes,
// then fails with ENOSPC, as write(2) does.
type fullFile struct{ *os.File }

func (f fullFile) WriteAt(b []byte, off int64) (int, error) {
	n, _ := f.File.WriteAt(b[:len(b)/2], off)
	return n, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
}

func failing(open func(f *os.File) File, err error) func(string, int, os.FileMode) (File, error) {
	return func(name string, flag int, perm os.FileMode) (File, error) {
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: name, Err: err}
		}
		f, e := os.OpenFile(name, flag, perm)
		if e != nil {
			return nil, e
		}
		return open(f), nil
	}
}

func TestAppendFailsWhenTheLogCannotBeWritten(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(string, int, os.FileMode) (File, error)
		want error
	}{
		{"disk full", failing(func(f *os.File) File { return fullFile{f} }, nil), syscall.ENOSPC},
		{"read-only file system", failing(nil, syscall.EROFS), syscall.EROFS},
		{"file not writable", failing(nil, syscall.EACCES), syscall.EACCES},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, before := writeRun(t, 2)
			l := openLog(t, path, Options{OpenFile: tc.open})
			err := l.Append(t.Context(), Event{Type: "x"})
			if !errors.Is(err, tc.want) {
				t.Fatalf("append: %v, want %v", err, tc.want)
			}
			// Nothing half-written is left: the log still verifies as before.
			if rep, err := verifyPath(t, path); err != nil || rep.Entries != 2 || len(lines(t, path)) != len(before) {
				t.Fatalf("after the failure: %+v %v", rep, err)
			}
		})
	}
}

func TestOpenFailsInAnUnwritableDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes to read-only directories; the injected failures above cover it")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o700)
	if _, err := Open(filepath.Join(dir, "audit.log"), Options{}); err == nil {
		t.Fatal("opened a log in a read-only directory")
	}
}

func TestAppendRefusesAnOversizedEntry(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	err := openLog(t, path, Options{}).Append(t.Context(), Event{Type: "big", Fields: map[string]any{"x": strings.Repeat("a", MaxLine)}})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v", err)
	}
}

func TestParseLineRefusesNonCanonicalForms(t *testing.T) {
	_, ls := writeRun(t, 1)
	line := bytes.TrimSuffix(ls[0], []byte{'\n'})
	for name, bad := range map[string][]byte{
		"space":          bytes.Replace(line, []byte(`"seq":1,`), []byte(`"seq": 1,`), 1),
		"duplicate key":  bytes.Replace(line, []byte(`"seq":1,`), []byte(`"seq":1,"seq":1,`), 1),
		"case variant":   bytes.Replace(line, []byte(`"seq":1,`), []byte(`"SEQ":1,`), 1),
		"unknown member": bytes.Replace(line, []byte(`"seq":1,`), []byte(`"seq":1,"x":1,`), 1),
		"null fields":    bytes.Replace(line, []byte(`"fields":{`), []byte(`"fields":null,"f":{`), 1),
		"trailing data":  append(append([]byte{}, line...), []byte(` {}`)...),
	} {
		if _, err := ParseLine(bad); err == nil {
			t.Errorf("%s: accepted %s", name, bad)
		}
	}
}

// A lone append (a CLI command's) is written at once, however long the
// writer may hold a group open while appends stream in together.
func TestLoneAppendIsNotHeld(t *testing.T) {
	l := openLog(t, filepath.Join(t.TempDir(), "audit.log"), Options{GroupWait: time.Hour})
	for i := range 3 {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		err := l.Append(ctx, Event{Type: "x", Fields: map[string]any{"i": i}})
		cancel()
		if err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
}
