package sqlite

import (
	"context"
	"database/sql"
)

// txExec is what a write transaction offers its body.
type txExec interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// inTx runs fn in one write transaction (BEGIN IMMEDIATE), committing when
// it returns nil. Errors are returned untranslated.
func (s *Store) inTx(ctx context.Context, fn func(tx txExec) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}
