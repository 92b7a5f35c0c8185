package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/actorchat/engine/persistence"
)

const userColumns = `id, username, display_name, password_hash, created_at`

// CreateUser inserts u; ErrDuplicate when the username or id is taken.
func (s *Store) CreateUser(ctx context.Context, u persistence.User) error {
	_, err := s.w.ExecContext(ctx,
		`INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?)`,
		u.ID, u.Username, u.DisplayName, u.PasswordHash, millis(u.CreatedAt))
	if err != nil {
		return fmt.Errorf("create user %s: %w", u.ID, translate(err))
	}
	return nil
}

// UserByID returns the user or ErrNotFound.
func (s *Store) UserByID(ctx context.Context, id string) (persistence.User, error) {
	row := s.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id)
	u, err := scanUser(row)
	if err != nil {
		return persistence.User{}, fmt.Errorf("user %s: %w", id, translate(err))
	}
	return u, nil
}

// UserByUsername returns the user with that username or ErrNotFound.
func (s *Store) UserByUsername(ctx context.Context, username string) (persistence.User, error) {
	row := s.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE username = ?`, username)
	u, err := scanUser(row)
	if err != nil {
		return persistence.User{}, fmt.Errorf("user by username: %w", translate(err))
	}
	return u, nil
}

// UsersByIDs returns the users that exist among ids, each once, in no
// particular order. The ids travel as one JSON array parameter, so any
// number of them uses one statement and the primary key.
func (s *Store) UsersByIDs(ctx context.Context, ids []string) ([]persistence.User, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("users by ids: %w", err)
	}
	rows, err := s.r.QueryContext(ctx,
		`SELECT `+userColumns+` FROM users WHERE id IN (SELECT value FROM json_each(?))`, string(list))
	if err != nil {
		return nil, fmt.Errorf("users by ids: %w", translate(err))
	}
	users, err := collect(rows, scanUser)
	if err != nil {
		return nil, fmt.Errorf("users by ids: %w", translate(err))
	}
	return users, nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dst ...any) error }

func scanUser(sc scanner) (persistence.User, error) {
	var u persistence.User
	var created int64
	if err := sc.Scan(&u.ID, &u.Username, &u.DisplayName, &u.PasswordHash, &created); err != nil {
		return persistence.User{}, err
	}
	u.CreatedAt = fromMillis(created)
	return u, nil
}

// collect scans every row with scan and closes rows.
func collect[T any](rows *sql.Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
