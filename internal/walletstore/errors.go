package walletstore

import "errors"

var (
	// ErrInvalidPassword is returned when the password does not unwrap the
	// store's data key. Nothing is written in that case.
	ErrInvalidPassword = errors.New("invalid password for wallet store")
	// ErrNoStore is returned when the wallet file does not exist and the caller
	// did not ask to create it.
	ErrNoStore = errors.New("wallet store does not exist")
	// ErrEmptyStore is returned when a read finds a wallet file that was never
	// initialised (zero bytes: created, then interrupted before its first commit).
	ErrEmptyStore = errors.New("wallet store is empty")
	// ErrCorrupt is returned for a file that is not a Custos wallet store, or
	// one that is truncated or damaged.
	ErrCorrupt = errors.New("wallet store is corrupt or not a Custos wallet store")
	// ErrTatumFormat is returned when the file is a Tatum KMS wallet.dat, which
	// has to be imported rather than opened.
	ErrTatumFormat = errors.New("file is a Tatum KMS wallet.dat: import it with `custos import --tatum FILE`")
	// ErrNewerFormat is returned for a store written by a newer Custos.
	ErrNewerFormat = errors.New("wallet store was written by a newer version of Custos")
	// ErrNotFound is returned for a signature ID the store does not hold.
	ErrNotFound = errors.New("no such wallet")
	// ErrExists is returned when a signature ID is already taken.
	ErrExists = errors.New("signature ID already in wallet store")
	// ErrEmptyPassword is refused when a store is created or its password changed.
	ErrEmptyPassword = errors.New("password must not be empty")
	// ErrInvalidWallet is returned for a wallet record without a chain or without a secret.
	ErrInvalidWallet = errors.New("invalid wallet record")
	// ErrRekeyed is returned by a Store opened before another process
	// re-keyed the file: its data key no longer opens the records, and it
	// writes none sealed with that key.
	ErrRekeyed = errors.New("wallet store was re-keyed since it was unlocked: open it again with the new password")
	// ErrSplitProtected is returned when a password is given for a store whose
	// key-encryption key is split into shares: it opens with `custos unseal`.
	ErrSplitProtected = errors.New("wallet store is split-protected: it opens with k of its n shares (custos unseal), not a password")
	// ErrNotSplit is returned when shares are offered to a password store.
	ErrNotSplit = errors.New("wallet store is not split-protected: it opens with its password")
	// ErrMalformedShare is returned for text that is not a share (a typo, a
	// truncated copy): its checksum fails.
	ErrMalformedShare = errors.New("not a wallet store share (mistyped or truncated?)")
	// ErrForeignShare is returned for a share of another split: another
	// store, or this store before it was split again.
	ErrForeignShare = errors.New("share belongs to another split of the key")
	// ErrWrongShare is returned when the threshold of shares is reached but
	// they do not rebuild the key: one of them is altered. The submitted
	// shares are dropped and must all be given again.
	ErrWrongShare = errors.New("the shares do not rebuild the store's key: one of them is wrong")
	// ErrClosed is returned by a Store after Close.
	ErrClosed = errors.New("wallet store is closed")
)
