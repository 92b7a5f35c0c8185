package mongo

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/actorchat/engine/persistence"
)

// CreateUser implements persistence.Users.
func (s *Store) CreateUser(ctx context.Context, u persistence.User) error {
	err := s.do(ctx, func(ctx context.Context) error {
		_, err := s.users.InsertOne(ctx, toUserDoc(u))
		return err
	})
	if err != nil {
		return wrap(fmt.Sprintf("create user %q", u.ID), err)
	}
	return nil
}

// UserByID implements persistence.Users.
func (s *Store) UserByID(ctx context.Context, id string) (persistence.User, error) {
	return s.findUser(ctx, "user "+id, bson.D{{Key: fID, Value: id}})
}

// UserByUsername implements persistence.Users.
func (s *Store) UserByUsername(ctx context.Context, username string) (persistence.User, error) {
	return s.findUser(ctx, fmt.Sprintf("user by username %q", username), bson.D{{Key: fUsername, Value: username}})
}

func (s *Store) findUser(ctx context.Context, op string, filter bson.D) (persistence.User, error) {
	var d userDoc
	err := s.do(ctx, func(ctx context.Context) error {
		return s.users.FindOne(ctx, filter).Decode(&d)
	})
	if err != nil {
		return persistence.User{}, wrap(op, err)
	}
	return d.record(), nil
}

// UsersByIDs implements persistence.Users.
func (s *Store) UsersByIDs(ctx context.Context, ids []string) ([]persistence.User, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var docs []userDoc
	err := s.do(ctx, func(ctx context.Context) error {
		cur, err := s.users.Find(ctx, bson.D{{Key: fID, Value: bson.D{{Key: "$in", Value: ids}}}})
		if err != nil {
			return err
		}
		return cur.All(ctx, &docs)
	})
	if err != nil {
		return nil, wrap(fmt.Sprintf("users by %d ids", len(ids)), err)
	}
	users := make([]persistence.User, len(docs))
	for i, d := range docs {
		users[i] = d.record()
	}
	return users, nil
}
