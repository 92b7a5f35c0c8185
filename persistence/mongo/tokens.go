package mongo

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/actorchat/engine/persistence"
)

// Refresh tokens are single-use. MongoDB's findAndModify on
// {hash, revokedAt absent} would make the use atomic by itself, but
// FerretDB implements findAndModify and updates as read, modify and replace
// the whole document, with no condition on the write: eight concurrent uses
// of one token let two of them win. The one write that is atomic on every
// MongoDB-wire server is an insert into a unique index, so a use claims the
// token by inserting {_id: hash} into refresh_token_uses; the claim decides
// who won, and revokedAt on the token records it for readers.
//
// A use therefore costs three round trips (read, claim, mark); refreshes
// are rare next to messages. A crash between claim and mark leaves a claimed
// token without revokedAt; the next use of it loses the claim, reports
// ErrRevoked with the claim's time and writes the missing revokedAt.

// CreateRefreshToken implements persistence.Tokens. Errors never carry the
// driver's message, which would quote the hash.
func (s *Store) CreateRefreshToken(ctx context.Context, t persistence.RefreshToken) error {
	err := s.do(ctx, func(ctx context.Context) error {
		_, err := s.tokens.InsertOne(ctx, toTokenDoc(t))
		return err
	})
	if err == nil {
		return nil
	}
	op := "create refresh token of user " + t.UserID
	if isDuplicate(err) {
		return fmt.Errorf("mongo: %s: %w", op, persistence.ErrDuplicate)
	}
	return wrap(op, err)
}

// UseRefreshToken implements persistence.Tokens: read the token, claim it,
// then mark it revoked (see the comment at the top of this file).
func (s *Store) UseRefreshToken(ctx context.Context, hash string, now time.Time) (persistence.RefreshToken, error) {
	const op = "use refresh token"
	var d tokenDoc
	err := s.do(ctx, func(ctx context.Context) error {
		return s.tokens.FindOne(ctx, bson.D{{Key: fHash, Value: hash}}).Decode(&d)
	})
	if err != nil {
		return persistence.RefreshToken{}, wrap(op, err)
	}
	if d.RevokedAt != nil {
		return d.record(), revoked(op, d.UserID)
	}

	err = s.do(ctx, func(ctx context.Context) error {
		_, err := s.tokenUses.InsertOne(ctx, tokenUseDoc{Hash: hash, UserID: d.UserID, UsedAt: now})
		return err
	})
	switch {
	case err == nil:
		// The claim is the truth; if marking fails, the next use repairs it.
		// Failing here would turn a transient error into a reuse (and a
		// logout) when the client retries.
		_ = s.markRevoked(ctx, hash, now)
		return d.record(), nil
	case !isDuplicate(err):
		return persistence.RefreshToken{}, wrap(op, err)
	}

	// Lost the claim to a concurrent (or crashed) use.
	var use tokenUseDoc
	err = s.do(ctx, func(ctx context.Context) error {
		return s.tokenUses.FindOne(ctx, bson.D{{Key: fID, Value: hash}}).Decode(&use)
	})
	if err != nil {
		return persistence.RefreshToken{}, wrap(op, err)
	}
	if err := s.markRevoked(ctx, hash, use.UsedAt); err != nil {
		return persistence.RefreshToken{}, wrap(op, err)
	}
	t := d.record()
	t.RevokedAt = use.UsedAt
	return t, revoked(op, d.UserID)
}

// markRevoked sets revokedAt on the token unless it already has one.
func (s *Store) markRevoked(ctx context.Context, hash string, at time.Time) error {
	filter := bson.D{{Key: fHash, Value: hash}, {Key: fRevokedAt, Value: bson.D{{Key: "$exists", Value: false}}}}
	update := bson.D{{Key: "$set", Value: bson.D{{Key: fRevokedAt, Value: at}}}}
	return s.do(ctx, func(ctx context.Context) error {
		_, err := s.tokens.UpdateOne(ctx, filter, update)
		return err
	})
}

func revoked(op, userID string) error {
	return fmt.Errorf("mongo: %s of user %s: %w", op, userID, persistence.ErrRevoked)
}

// RevokeUserRefreshTokens implements persistence.Tokens. A use racing with
// it either claimed the token first (and succeeds) or reads it revoked.
func (s *Store) RevokeUserRefreshTokens(ctx context.Context, userID string, now time.Time) error {
	filter := bson.D{{Key: fUserID, Value: userID}, {Key: fRevokedAt, Value: bson.D{{Key: "$exists", Value: false}}}}
	update := bson.D{{Key: "$set", Value: bson.D{{Key: fRevokedAt, Value: now}}}}
	err := s.do(ctx, func(ctx context.Context) error {
		_, err := s.tokens.UpdateMany(ctx, filter, update)
		return err
	})
	if err != nil {
		return wrap("revoke refresh tokens of user "+userID, err)
	}
	return nil
}

// SetRefreshSuccessor implements persistence.Tokens.
func (s *Store) SetRefreshSuccessor(ctx context.Context, hash, successor string) error {
	var matched int64
	err := s.do(ctx, func(ctx context.Context) error {
		res, err := s.tokens.UpdateOne(ctx, bson.D{{Key: fHash, Value: hash}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "successor", Value: successor}}}})
		if err == nil {
			matched = res.MatchedCount
		}
		return err
	})
	if err != nil {
		return wrap("set refresh token successor", err)
	}
	if matched == 0 {
		return fmt.Errorf("mongo: set refresh token successor: %w", persistence.ErrNotFound)
	}
	return nil
}
