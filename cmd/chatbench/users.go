package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
)

// usersFile is the --users-file cache: accounts registered by earlier runs
// against the same node, with their access tokens. Registering costs the
// server a bcrypt hash per user (about 7 users/s on 2 cores), so a
// 10,000-member bigroom is set up once and reused; run chatd with a long
// --access-ttl for that. Without --users-file every run registers fresh
// users under its own random prefix.
type usersFile struct {
	Base  string  `json:"base"`
	Users []*user `json:"users"`
}

// cachedUsers returns the users of --users-file if it belongs to this node
// and its first token is still accepted; otherwise none.
func (b *bench) cachedUsers(ctx context.Context) []*user {
	if b.cfg.usersFile == "" {
		return nil
	}
	data, err := os.ReadFile(b.cfg.usersFile)
	if err != nil {
		return nil
	}
	var f usersFile
	if json.Unmarshal(data, &f) != nil || f.Base != b.targets[0].base || len(f.Users) == 0 {
		return nil
	}
	var me struct{}
	err = b.rest.do(ctx, b.rest.pooled, http.MethodGet, "/api/me", f.Users[0].Token, nil, &me)
	if err != nil {
		fmt.Fprintf(b.prog.w, "chatbench: ignoring %s: its tokens are not accepted (%v)\n", b.cfg.usersFile, err)
		return nil
	}
	return f.Users
}

// saveUsers writes every user of this run to --users-file.
func (b *bench) saveUsers(users []*user) error {
	if b.cfg.usersFile == "" {
		return nil
	}
	data, err := json.Marshal(usersFile{Base: b.targets[0].base, Users: users})
	if err != nil {
		return err
	}
	tmp := b.cfg.usersFile + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return errors.Join(os.Rename(tmp, b.cfg.usersFile))
}
