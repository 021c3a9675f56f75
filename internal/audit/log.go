package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/gofrs/flock"

	"github.com/custoskms/custos/internal/groupcommit"
)

// File is what the log reads and writes through; *os.File is one. Tests put
// a failing one in its place (a full disk, a read-only file system).
type File interface {
	io.ReaderAt
	io.WriterAt
	Stat() (os.FileInfo, error)
	Truncate(size int64) error
	Sync() error
	Close() error
}

// Options controls Open; zero fields take the defaults noted.
type Options struct {
	// Actor names the process kind in each entry ("daemon", "cli").
	Actor string
	// User is the operating-system user recorded in each entry (default: the
	// current user's name, else their uid).
	User string
	// OpenFile opens the log and its head file (default os.OpenFile).
	OpenFile func(name string, flag int, perm os.FileMode) (File, error)
	// Now is the clock of the entries' times (default time.Now).
	Now func() time.Time
	// LockTimeout bounds the wait for another process's append (default 10 s).
	LockTimeout time.Duration
	// GroupWait is how long the writer waits for more appends before it
	// writes a group, when the group before held several (default 2 ms;
	// negative never waits). Each write costs a lock, a read of the tail, an
	// fsync and the head's rewrite whatever it carries: under a steady stream
	// of appends (the daemon's key uses and signatures) a short wait makes
	// the groups several times larger and the writes as many times fewer,
	// while a lone append (a CLI command) never waits.
	GroupWait time.Duration
}

// Log appends entries to one log file. Appends from any number of
// goroutines are grouped: one writer takes the file lock (shared with the
// other processes appending to the file), reads the last entry, writes the
// group, fsyncs once and answers every caller. Append returns only after its
// entry is on disk. Safe for concurrent use; Close it when done.
type Log struct {
	path string
	opts Options
	lock *flock.Flock

	mu     sync.RWMutex // held for reading while sending, so Close never races a send
	closed bool
	reqs   chan request
	done   chan struct{}

	// wrote is the last line this Log wrote and its entry's seq and hash
	// (all a commit takes from the entry before its own); the writer
	// goroutine alone uses it. When the file still ends with exactly that
	// line, the commit after knows its entry without parsing it again: the
	// line was written canonical, so the same bytes are the same entry.
	wrote struct {
		line  []byte
		entry Entry
	}
}

type request struct {
	events []Event
	reply  chan error
}

// maxGroup bounds how many appends one write carries.
const maxGroup = 256

// Open prepares the log at path (creating its directory, 0700, when
// missing). Nothing is written until the first Append, but the directory and
// lock file must be creatable: a log that cannot be written fails here.
func Open(path string, opts Options) (*Log, error) {
	if path == "" {
		return nil, errors.New("audit log: no path")
	}
	if opts.Actor == "" {
		opts.Actor = filepath.Base(os.Args[0])
	}
	if opts.User == "" {
		opts.User = currentUser()
	}
	if opts.OpenFile == nil {
		opts.OpenFile = func(name string, flag int, perm os.FileMode) (File, error) { return os.OpenFile(name, flag, perm) }
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = 10 * time.Second
	}
	if opts.GroupWait == 0 {
		opts.GroupWait = 2 * time.Millisecond
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	lk := flock.New(path+".lock", flock.SetPermissions(0o600))
	if err := lockOnce(lk); err != nil {
		return nil, fmt.Errorf("audit log %s: %w", path, err)
	}
	l := &Log{path: path, opts: opts, lock: lk, reqs: make(chan request, maxGroup), done: make(chan struct{})}
	go l.writer()
	return l, nil
}

// lockOnce takes and releases the lock, so that an unwritable directory or
// lock file shows at Open rather than at the first decision.
func lockOnce(lk *flock.Flock) error {
	if err := lk.Lock(); err != nil {
		return err
	}
	return lk.Unlock()
}

func currentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return strconv.Itoa(os.Getuid())
}

// Path is the log file's path.
func (l *Log) Path() string { return l.path }

// Append records events, in order and without others between them, and
// returns once they are on disk. An error means they may not be: the caller
// must treat the act as not audited.
func (l *Log) Append(ctx context.Context, events ...Event) error {
	if len(events) == 0 {
		return nil
	}
	r := request{events: events, reply: make(chan error, 1)}
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return ErrClosed
	}
	select {
	case l.reqs <- r:
	case <-ctx.Done():
		l.mu.RUnlock()
		return ctx.Err()
	}
	l.mu.RUnlock()
	select {
	case err := <-r.reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close waits for the appends under way and stops the writer.
func (l *Log) Close() error {
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		close(l.reqs)
	}
	l.mu.Unlock()
	<-l.done
	return l.lock.Close()
}

func (l *Log) writer() {
	defer close(l.done)
	g := groupcommit.New(l.reqs, maxGroup, l.opts.GroupWait)
	for {
		group, ok := g.Next()
		if !ok {
			return
		}
		var events []Event
		for _, r := range group {
			events = append(events, r.events...)
		}
		err := l.commit(events)
		for _, r := range group {
			r.reply <- err
		}
	}
}

// commit writes events under the file lock: the last entry on disk (another
// process may have appended since) gives their seq and prev.
func (l *Log) commit(events []Event) (err error) {
	ctx, cancel := context.WithTimeout(context.Background(), l.opts.LockTimeout)
	defer cancel()
	ok, err := l.lock.TryLockContext(ctx, 2*time.Millisecond)
	if err != nil || !ok {
		return fmt.Errorf("audit log %s: %w: %w", l.path, ErrLocked, errors.Join(err, ctx.Err()))
	}
	defer func() {
		if uerr := l.lock.Unlock(); uerr != nil && err == nil {
			err = fmt.Errorf("audit log %s: unlock: %w", l.path, uerr)
		}
	}()
	f, err := l.opts.OpenFile(l.path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	defer f.Close()
	last, end, torn, err := readTail(f, l.wrote.line, l.wrote.entry)
	if err != nil {
		return fmt.Errorf("audit log %s: %w", l.path, err)
	}
	head, err := l.readHead()
	if err != nil {
		return err
	}
	if head.Seq > last.Seq || head.Seq == last.Seq && head.Seq > 0 && head.Hash != last.Hash {
		return fmt.Errorf("audit log %s: %w: the head file names entry %d, the log ends at entry %d: entries were removed",
			l.path, ErrBroken, head.Seq, last.Seq)
	}
	if torn > 0 {
		// Only a crash during an append leaves a line without its newline:
		// that append never returned, so its entry was never relied upon.
		if err := f.Truncate(end); err != nil {
			return fmt.Errorf("audit log %s: dropping a torn last line: %w", l.path, err)
		}
		events = append([]Event{{Type: "audit.torn_tail", Fields: map[string]any{"bytes": torn}}}, events...)
	}
	// About what a daemon's entry takes, so that the buffer seldom grows.
	buf := make([]byte, 0, 512*len(events))
	now := l.opts.Now().UTC().Format(time.RFC3339Nano)
	pid := os.Getpid()
	prev, seq := last.Hash, last.Seq
	var (
		lastLine  []byte
		lastEntry Entry
	)
	for _, ev := range events {
		seq++
		e := Entry{Seq: seq, Time: now, Actor: l.opts.Actor, User: l.opts.User, PID: pid,
			Event: ev.Type, Fields: ev.Fields, Prev: prev}
		start := len(buf)
		if buf, err = e.appendSealed(buf); err != nil {
			return err
		}
		buf = append(buf, '\n')
		prev = e.Hash
		lastLine, lastEntry = buf[start:len(buf)-1], Entry{Seq: e.Seq, Hash: e.Hash}
	}
	if _, err := f.WriteAt(buf, end); err != nil {
		// Leave no partial line behind for the next append to find.
		_ = f.Truncate(end)
		return fmt.Errorf("audit log %s: %w", l.path, err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Truncate(end)
		return fmt.Errorf("audit log %s: %w", l.path, err)
	}
	// A copy: the group's buffer is not kept for one line.
	l.wrote.line, l.wrote.entry = bytes.Clone(lastLine), lastEntry
	return l.writeHead(Head{Seq: seq, Hash: prev})
}

// readTail finds the last complete entry of f (the zero Entry with prev
// Genesis for an empty log), where the complete lines end, and how many
// bytes follow them without a newline (a torn last line). The last entry
// must parse and hash correctly: the log is not appended to after a damaged
// entry. A last line equal to known, a canonical line read or written
// before, is known's entry.
func readTail(f File, known []byte, knownEntry Entry) (last Entry, end, torn int64, err error) {
	fi, err := f.Stat()
	if err != nil {
		return Entry{}, 0, 0, err
	}
	size := fi.Size()
	last = Entry{Hash: Genesis}
	if size == 0 {
		return last, 0, 0, nil
	}
	// Read backwards in growing chunks until the start of the last line.
	chunk := int64(4096)
	for {
		n := min(chunk, size)
		buf := make([]byte, n)
		if _, err := f.ReadAt(buf, size-n); err != nil && !errors.Is(err, io.EOF) {
			return Entry{}, 0, 0, err
		}
		complete := buf
		if i := bytes.LastIndexByte(buf, '\n'); i >= 0 {
			complete = buf[:i+1]
		} else if n < size {
			chunk *= 4
			continue
		} else {
			complete = nil
		}
		torn = int64(len(buf) - len(complete))
		end = size - torn
		if end == 0 {
			return last, 0, torn, nil
		}
		body := complete[:len(complete)-1]
		start := bytes.LastIndexByte(body, '\n')
		if start < 0 && n < size {
			if chunk > MaxLine+2 {
				return Entry{}, 0, 0, &BrokenError{Reason: "last line is longer than the longest entry"}
			}
			chunk *= 4
			continue
		}
		line := body[start+1:]
		if known != nil && bytes.Equal(line, known) {
			return knownEntry, end, torn, nil
		}
		e, err := ParseLine(line)
		if err != nil {
			return Entry{}, 0, 0, fmt.Errorf("%w: last entry: %w", ErrBroken, err)
		}
		return e, end, torn, nil
	}
}
