package sqlite

import "errors"

// ErrNotPendingStore is returned by Check for a SQLite file that is not a
// pending store, or whose schema is newer than this build.
var ErrNotPendingStore = errors.New("not a Custos pending store")

// errClosed answers a write that came after the store closed.
var errClosed = errors.New("the pending store is closed")
