package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/actorchat/engine/persistence"
)

// Store is the MongoDB implementation of persistence.Store. Its methods are
// safe for concurrent use; each runs under Config.Timeout.
type Store struct {
	client  *mongo.Client
	timeout time.Duration

	users         *mongo.Collection
	tokens        *mongo.Collection
	tokenUses     *mongo.Collection
	conversations *mongo.Collection
	members       *mongo.Collection
	messages      *mongo.Collection
	db            *mongo.Database
}

var _ persistence.Store = (*Store)(nil)

// Open connects to cfg.URI, pings the server and creates the indexes of
// every collection (a no-op when they exist). It fails with an error
// wrapping persistence.ErrUnavailable when the server cannot be reached
// within cfg.Timeout.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()

	client, err := mongo.Connect(options.Client().ApplyURI(cfg.URI))
	if err != nil {
		return nil, fmt.Errorf("mongo: connect: %w", err)
	}
	db := client.Database(cfg.Database)
	s := &Store{
		client:        client,
		timeout:       cfg.Timeout,
		db:            db,
		users:         db.Collection(collUsers),
		tokens:        db.Collection(collRefreshTokens),
		tokenUses:     db.Collection(collTokenUses),
		conversations: db.Collection(collConversations),
		members:       db.Collection(collMembers),
		messages:      db.Collection(collMessages),
	}

	err = s.do(ctx, func(ctx context.Context) error { return client.Ping(ctx, nil) })
	if err != nil {
		err = wrap("ping", err)
	} else {
		err = s.ensureIndexes(ctx)
	}
	if err != nil {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.Timeout)
		defer cancel()
		_ = client.Disconnect(dctx) // the Open error is the one worth reporting
		return nil, err
	}
	return s, nil
}

// Close disconnects the client, waiting for in-use connections until ctx
// ends. Calling it again is a no-op.
func (s *Store) Close(ctx context.Context) error {
	err := s.client.Disconnect(ctx)
	if err != nil && !errors.Is(err, mongo.ErrClientDisconnected) {
		return fmt.Errorf("mongo: close: %w", err)
	}
	return nil
}

// do runs fn with a context bounded by the per-operation timeout.
func (s *Store) do(ctx context.Context, fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	return fn(ctx)
}

// wrap translates a driver error into the persistence sentinels and adds the
// operation as context. The driver error stays in the chain for errors.As.
func wrap(op string, err error) error {
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return notFound(op)
	case isDuplicate(err):
		return fmt.Errorf("mongo: %s: %w: %w", op, persistence.ErrDuplicate, err)
	case isUnavailable(err):
		return fmt.Errorf("mongo: %s: %w: %w", op, persistence.ErrUnavailable, err)
	default:
		return fmt.Errorf("mongo: %s: %w", op, err)
	}
}

// notFound reports a missing record.
func notFound(op string) error {
	return fmt.Errorf("mongo: %s: %w", op, persistence.ErrNotFound)
}

// isDuplicate reports whether a unique index rejected the write.
func isDuplicate(err error) bool {
	return mongo.IsDuplicateKeyError(err)
}

// isUnavailable reports whether err means the server could not be reached
// or did not answer in time, so the outcome of a write is unknown.
func isUnavailable(err error) bool {
	return mongo.IsNetworkError(err) ||
		mongo.IsTimeout(err) ||
		errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, mongo.ErrClientDisconnected)
}
