package sqlite

import (
	"context"
	"database/sql"
	"runtime"
	"sync"

	"github.com/custoskms/custos/internal/sqlitedb"
)

// maxGroup bounds the writes one group commit takes, so that a writer
// queued behind a long group waits for a bounded one.
const maxGroup = 64

// group joins the writes of concurrent requests (complete, store signed
// data, record an outcome, credits, …) into one SQLite write transaction
// and one commit. SQLite runs one writer at a time anyway, and a commit
// (the WAL append, the lock handover, the busy waits of the writers behind
// it) cost more than most of these one-row writes; in the process benchmark
// (bench/process) the server spent a third of its CPU in them.
//
// One goroutine (started by newGroup, ended by close) runs the groups. Each
// write runs inside a SAVEPOINT of its own: one that fails is rolled back
// to it alone, and its caller gets its error while the others commit. A
// caller's write returns only after the commit that holds it, so that what
// the store promised to be durable before the answer still is.
type group struct {
	db     *sql.DB
	hot    *sqlitedb.Stmts
	in     chan *groupWrite
	stop   chan struct{}
	exited chan struct{}
	closer sync.Once
	// aborted runs when a group ran writes and did not commit them, before
	// their callers are answered.
	aborted func()
	// mark runs in a group's transaction before it commits when a write of
	// it that succeeded has an after; what it returns is handed to the
	// afters (the store counts the ends of pending transactions with it).
	mark func(ctx context.Context, tx *sql.Tx) (int64, error)
}

type groupWrite struct {
	ctx context.Context
	f   func(ctx context.Context, tx *sql.Tx) error
	// after, when set, runs in the group's goroutine once the commit that
	// holds f's writes is done, before f's caller is answered, with what
	// the group's mark returned in that commit: the afters of the store's
	// writes run one at a time, in the order of their commits.
	after  func(mark int64)
	result chan error
}

func newGroup(db *sql.DB, hot *sqlitedb.Stmts, aborted func(), mark func(context.Context, *sql.Tx) (int64, error)) *group {
	g := &group{db: db, hot: hot, in: make(chan *groupWrite, maxGroup), stop: make(chan struct{}), exited: make(chan struct{}),
		aborted: aborted, mark: mark}
	go g.run()
	return g
}

// write runs f in the next group commit and returns its error, or the
// commit's. f gets a context that ctx's end does not cancel: SQLite
// interrupted inside a write transaction may roll all of it back, the
// others' writes too. A caller whose ctx ends before its write began
// gets ctx's error and its write is not run.
func (g *group) write(ctx context.Context, f func(ctx context.Context, tx *sql.Tx) error) error {
	return g.writeThen(ctx, f, nil)
}

// writeThen is write, with after run once f's writes are committed
// (groupWrite.after).
func (g *group) writeThen(ctx context.Context, f func(ctx context.Context, tx *sql.Tx) error, after func(mark int64)) error {
	w := &groupWrite{ctx: ctx, f: f, after: after, result: make(chan error, 1)}
	select {
	case g.in <- w:
	case <-g.stop:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued, it is run or answered: its caller waits for the commit
	// that decides it, even past ctx's end, so that it never reports a
	// failure for a write that committed. One queued after the goroutine
	// drained the queue and ended was never run.
	select {
	case err := <-w.result:
		return err
	case <-g.exited:
		select {
		case err := <-w.result:
			return err
		default:
			return errClosed
		}
	}
}

func (g *group) run() {
	defer close(g.exited)
	for {
		var batch []*groupWrite
		select {
		case w := <-g.in:
			batch = append(batch, w)
		case <-g.stop:
			g.drain()
			return
		}
		// Let the goroutines that are ready to run (requests about to
		// write) queue their writes before the group is closed.
		runtime.Gosched()
	more:
		for len(batch) < maxGroup {
			select {
			case w := <-g.in:
				batch = append(batch, w)
			default:
				break more
			}
		}
		g.commit(batch)
	}
}

// drain answers the writes queued when the store closed.
func (g *group) drain() {
	for {
		select {
		case w := <-g.in:
			w.result <- errClosed
		default:
			return
		}
	}
}

// commit runs the writes of batch in one transaction, each within its own
// savepoint, commits, and answers each.
func (g *group) commit(batch []*groupWrite) {
	ctx := context.Background() // the group's: no one caller's end ends it
	errs := make([]error, len(batch))
	began := false // a write ran in the transaction
	var mark int64
	answer := func(commitErr error) {
		if commitErr != nil && began && g.aborted != nil {
			g.aborted()
		}
		for i, w := range batch {
			if errs[i] == nil {
				errs[i] = commitErr
			}
			if errs[i] == nil && w.after != nil {
				w.after(mark)
			}
			w.result <- errs[i]
		}
	}
	tx, err := g.db.BeginTx(ctx, nil)
	if err != nil {
		answer(err)
		return
	}
	defer tx.Rollback()
	ran := false
	for i, w := range batch {
		if err := w.ctx.Err(); err != nil {
			errs[i] = err // it gave up before its turn
			continue
		}
		wctx := context.WithoutCancel(w.ctx)
		began = true
		if len(batch) == 1 {
			errs[i] = w.f(wctx, tx)
			ran = errs[i] == nil
			continue
		}
		if _, err := g.hot.Exec(ctx, tx, `SAVEPOINT w`); err != nil {
			answer(err)
			return
		}
		if errs[i] = w.f(wctx, tx); errs[i] != nil {
			if _, err := g.hot.Exec(ctx, tx, `ROLLBACK TO w`); err != nil {
				answer(err)
				return
			}
		} else {
			ran = true
		}
		if _, err := g.hot.Exec(ctx, tx, `RELEASE w`); err != nil {
			answer(err)
			return
		}
	}
	if !ran {
		answer(nil) // nothing to commit: the deferred rollback ends it
		return
	}
	for i, w := range batch {
		if errs[i] == nil && w.after != nil && g.mark != nil {
			if mark, err = g.mark(ctx, tx); err != nil {
				answer(err)
				return
			}
			break
		}
	}
	answer(tx.Commit())
}

// close ends the group's goroutine after the group in progress; writes
// queued behind it are answered errClosed. A second close waits as well.
func (g *group) close() {
	g.closer.Do(func() { close(g.stop) })
	<-g.exited
}
