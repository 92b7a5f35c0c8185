package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are applied in order, each once, at Open. migrations[i] brings
// the schema to version i+1, recorded in PRAGMA user_version. Append new
// versions; never edit an applied one.
//
// Every query of the adapter is served by one of these indexes:
//   - users: PRIMARY KEY(id), UNIQUE users_username(username);
//   - refresh_tokens: PRIMARY KEY(hash), refresh_tokens_active(user_id) over
//     active tokens only, for RevokeUserRefreshTokens;
//   - conversations: PRIMARY KEY(id), UNIQUE conversations_dm_key(dm_key)
//     over DMs only (groups have an empty key, which must not collide);
//   - members: PRIMARY KEY(conversation_id, user_id) clustering a
//     conversation's members (WITHOUT ROWID: small rows, no second copy of
//     the key), members_user(user_id) for UserMemberships;
//   - messages: UNIQUE messages_seq(conversation_id, seq) for LastSeq and
//     every page (After, Before, latest are range scans on it), UNIQUE
//     messages_client(conversation_id, sender_id, client_msg_id) for
//     idempotent retries and MessageByClientID. Messages stay a rowid table:
//     bodies can be large, and a WITHOUT ROWID table would spill them into
//     the key b-tree.
//   - blob_chunks: PRIMARY KEY(blob_id, n) for reading a blob and for
//     deleting its content;
//   - blob_uploads: PRIMARY KEY(blob_id) for an upload's own writes,
//     blob_uploads_at(at) for DeleteOrphanContent, which so reads only the
//     uploads in flight or abandoned, never the chunks of complete blobs.
//
// Times are unix milliseconds. Tables are STRICT, so a wrong type fails
// instead of being stored.
var migrations = []string{
	`
CREATE TABLE users (
	id            TEXT    NOT NULL PRIMARY KEY,
	username      TEXT    NOT NULL,
	display_name  TEXT    NOT NULL,
	password_hash TEXT    NOT NULL,
	created_at    INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX users_username ON users (username);

CREATE TABLE refresh_tokens (
	hash       TEXT    NOT NULL PRIMARY KEY,
	user_id    TEXT    NOT NULL REFERENCES users (id),
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	revoked_at INTEGER -- NULL while active
) STRICT;
CREATE INDEX refresh_tokens_active ON refresh_tokens (user_id) WHERE revoked_at IS NULL;

CREATE TABLE conversations (
	id         TEXT    NOT NULL PRIMARY KEY,
	kind       TEXT    NOT NULL,
	title      TEXT    NOT NULL,
	dm_key     TEXT    NOT NULL, -- '' for groups
	created_by TEXT    NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX conversations_dm_key ON conversations (dm_key) WHERE dm_key <> '';

CREATE TABLE members (
	conversation_id TEXT    NOT NULL REFERENCES conversations (id),
	user_id         TEXT    NOT NULL,
	role            TEXT    NOT NULL,
	joined_at       INTEGER NOT NULL,
	last_read_seq   INTEGER NOT NULL,
	PRIMARY KEY (conversation_id, user_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX members_user ON members (user_id);

CREATE TABLE messages (
	conversation_id TEXT    NOT NULL REFERENCES conversations (id),
	seq             INTEGER NOT NULL,
	id              TEXT    NOT NULL,
	kind            TEXT    NOT NULL,
	sender_id       TEXT    NOT NULL,
	client_msg_id   TEXT    NOT NULL,
	body            TEXT    NOT NULL,
	created_at      INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX messages_seq ON messages (conversation_id, seq);
CREATE UNIQUE INDEX messages_client ON messages (conversation_id, sender_id, client_msg_id);
`,
	// 2: activation epochs of conversation grains (persistence.Fencing).
	`ALTER TABLE conversations ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;`,
	// 3: when each user was last online (persistence.Presence).
	`
CREATE TABLE last_seen (
	user_id TEXT    NOT NULL PRIMARY KEY,
	at      INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
`,
	// 4: sequenced events about messages and members, and the current state
	// of chat messages (persistence.Events). messages_target serves a
	// delete's clearing of the edits of its target.
	`
ALTER TABLE messages ADD COLUMN target_seq  INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN subject_id  TEXT    NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN edited_at   INTEGER; -- NULL: never edited
ALTER TABLE messages ADD COLUMN deleted     INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN updated_seq INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_target ON messages (conversation_id, target_seq) WHERE target_seq > 0;
`,
	// 5: reactions on chat messages (persistence.Reactions), clustered by
	// message so a page's reactions are one range scan.
	`
CREATE TABLE reactions (
	conversation_id TEXT    NOT NULL,
	seq             INTEGER NOT NULL,
	emoji           TEXT    NOT NULL,
	user_id         TEXT    NOT NULL,
	created_at      INTEGER NOT NULL,
	PRIMARY KEY (conversation_id, seq, emoji, user_id)
) STRICT, WITHOUT ROWID;
`,
	// 6: per-user notification streams (persistence.Notifications).
	`
CREATE TABLE notifications (
	user_id         TEXT    NOT NULL,
	seq             INTEGER NOT NULL,
	id              TEXT    NOT NULL,
	key             TEXT    NOT NULL,
	kind            TEXT    NOT NULL,
	conversation_id TEXT    NOT NULL,
	actor_id        TEXT    NOT NULL,
	message_seq     INTEGER NOT NULL,
	title           TEXT    NOT NULL,
	created_at      INTEGER NOT NULL,
	PRIMARY KEY (user_id, seq)
) STRICT;
CREATE UNIQUE INDEX notifications_key ON notifications (user_id, key);
`,
	// 7: uploaded files (persistence.Blobs): content in chunks written one
	// small transaction each (an upload never holds the writer while it
	// reads the network), metadata last, so a blob exists once complete;
	// which messages carry which blob; avatars; and the attachments of a
	// message (a JSON array of blob ids, '' for none).
	`
CREATE TABLE blob_chunks (
	blob_id TEXT    NOT NULL,
	n       INTEGER NOT NULL,
	data    BLOB    NOT NULL,
	PRIMARY KEY (blob_id, n)
) STRICT;
CREATE TABLE blobs (
	id           TEXT    NOT NULL PRIMARY KEY,
	owner_id     TEXT    NOT NULL,
	purpose      TEXT    NOT NULL,
	content_type TEXT    NOT NULL,
	name         TEXT    NOT NULL,
	size         INTEGER NOT NULL,
	chunks       INTEGER NOT NULL,
	created_at   INTEGER NOT NULL
) STRICT;
CREATE TABLE blob_refs (
	blob_id         TEXT    NOT NULL,
	conversation_id TEXT    NOT NULL,
	seq             INTEGER NOT NULL,
	PRIMARY KEY (blob_id, conversation_id, seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX blob_refs_message ON blob_refs (conversation_id, seq);
CREATE TABLE avatars (
	user_id TEXT NOT NULL PRIMARY KEY,
	blob_id TEXT NOT NULL
) STRICT, WITHOUT ROWID;
ALTER TABLE messages ADD COLUMN attachments TEXT NOT NULL DEFAULT '';
`,
	// 8: finding unreferenced blobs (DeleteUnreferencedBlobs) by age and
	// whether an avatar uses them.
	`
CREATE INDEX blobs_created ON blobs (created_at);
CREATE INDEX avatars_blob ON avatars (blob_id);
`,
	// 9: the token that replaced a rotated refresh token (the refresh
	// grace window: a lost answer to a refresh may be retried).
	`ALTER TABLE refresh_tokens ADD COLUMN successor TEXT NOT NULL DEFAULT '';`,
	// 10: member lists read page by page in join order (MembersPage).
	`CREATE INDEX members_joined ON members (conversation_id, joined_at, user_id);`,
	// 11: uploads not yet complete (DeleteOrphanContent): PutBlob registers
	// one before its first chunk, touches it with every chunk and removes it
	// in the transaction that writes the blobs row, so a row left behind
	// means an upload in flight or one that died. Chunks that uploads
	// before this version left without a blobs row (Open runs no upload,
	// so those died) are registered as last written at 0: long ago.
	`
CREATE TABLE blob_uploads (
	blob_id TEXT    NOT NULL PRIMARY KEY,
	at      INTEGER NOT NULL -- when the upload last wrote a chunk
) STRICT, WITHOUT ROWID;
CREATE INDEX blob_uploads_at ON blob_uploads (at);
INSERT INTO blob_uploads (blob_id, at)
	SELECT DISTINCT blob_id, 0 FROM blob_chunks c WHERE NOT EXISTS (SELECT 1 FROM blobs b WHERE b.id = c.blob_id);
`,
}

// migrate brings the schema of db up to date in one immediate transaction,
// so that concurrent Opens of one file apply each migration once. It is
// idempotent: an up-to-date database is left untouched.
func migrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the writer's _txlock
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit

	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("migrate: read version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("migrate: database schema version %d is newer than this binary's %d", version, len(migrations))
	}
	for v := version; v < len(migrations); v++ {
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			return fmt.Errorf("migrate: to version %d: %w", v+1, err)
		}
	}
	if version == len(migrations) {
		return nil
	}
	// PRAGMA takes no bound parameters; the value is our own integer.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
		return fmt.Errorf("migrate: write version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}
