package backup

import "errors"

var (
	// ErrNotBackup is returned for a file that does not start with a Custos
	// backup header.
	ErrNotBackup = errors.New("not a Custos backup")
	// ErrNewerFormat is returned for a backup written by a newer Custos.
	ErrNewerFormat = errors.New("backup was written by a newer version of Custos")
	// ErrDamaged is returned when the copy in a backup is truncated or does
	// not match the checksum in its manifest.
	ErrDamaged = errors.New("backup is damaged")
	// ErrTargetInUse is returned when a restore would replace a database that
	// has a journal beside it: a process has it open, or crashed with a
	// transaction SQLite has yet to roll back.
	ErrTargetInUse = errors.New("database has a journal beside it: stop serve and the daemon, and open it once with custos if one crashed")
	// ErrTargetExists is returned when a restore would replace an existing
	// database without being told to.
	ErrTargetExists = errors.New("database exists (restore with --force to replace it)")
)
