package persistence

import "errors"

// Sentinel errors. Adapters wrap them with context; callers test with errors.Is.
var (
	// ErrNotFound means the record does not exist.
	ErrNotFound = errors.New("persistence: not found")
	// ErrDuplicate means a unique index rejected the write.
	ErrDuplicate = errors.New("persistence: duplicate key")
	// ErrRevoked means a refresh token exists but was already used or revoked.
	ErrRevoked = errors.New("persistence: refresh token revoked")
	// ErrUnavailable means the store could not be reached or timed out; the
	// outcome of a write that returns it is unknown.
	ErrUnavailable = errors.New("persistence: store unavailable")
)
