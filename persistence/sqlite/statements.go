package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// statements are the hot statements, prepared once at Open. Writer
// statements are bound to the writer pool and used inside transactions
// through tx.StmtContext, which reuses the preparation because the pool has
// one connection; reader statements are prepared lazily on each reader
// connection by database/sql.
type statements struct {
	insertMessage *sql.Stmt // w
	markRead      *sql.Stmt // w
	lastSeq       *sql.Stmt // r
	pageAfter     *sql.Stmt // r
	pageBefore    *sql.Stmt // r
	byClientID    *sql.Stmt // r
	member        *sql.Stmt // r
}

// prepare prepares every statement; on error the ones prepared so far stay
// set for close.
func (st *statements) prepare(ctx context.Context, w, r *sql.DB) error {
	for _, p := range []struct {
		db    *sql.DB
		query string
		dst   **sql.Stmt
	}{
		{w, insertMessageSQL, &st.insertMessage},
		{w, markReadSQL, &st.markRead},
		{r, lastSeqSQL, &st.lastSeq},
		{r, pageAfterSQL, &st.pageAfter},
		{r, pageBeforeSQL, &st.pageBefore},
		{r, byClientIDSQL, &st.byClientID},
		{r, memberSQL, &st.member},
	} {
		stmt, err := p.db.PrepareContext(ctx, p.query)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", p.query, err)
		}
		*p.dst = stmt
	}
	return nil
}

// close finalises every prepared statement.
func (st *statements) close() error {
	var errs []error
	for _, stmt := range []*sql.Stmt{
		st.insertMessage, st.markRead, st.lastSeq, st.pageAfter, st.pageBefore, st.byClientID, st.member,
	} {
		if stmt != nil {
			errs = append(errs, stmt.Close())
		}
	}
	return errors.Join(errs...)
}
