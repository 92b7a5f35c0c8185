package persistence

import (
	"context"
	"errors"
	"io"
	"time"
)

// ErrTooLarge means a blob's content exceeded the size it was allowed.
var ErrTooLarge = errors.New("persistence: too large")

// Blob purposes.
const (
	// PurposeAttachment: a file carried by chat messages; readable by the
	// members of a conversation whose message references it.
	PurposeAttachment = "attachment"
	// PurposeAvatar: a user's picture; readable by any signed-in user.
	PurposeAvatar = "avatar"
)

// Blob is an uploaded file's metadata. Its content is stored by the adapter
// (chunks in SQLite, GridFS on MongoDB) and only ever streamed.
type Blob struct {
	ID          string
	OwnerID     string // who uploaded it
	Purpose     string
	ContentType string // sniffed by the server, never the client's claim
	Name        string // the client's file name, for Content-Disposition
	Size        int64
	CreatedAt   time.Time
}

// Blobs stores uploaded files, which messages reference them, and avatars.
type Blobs interface {
	// PutBlob streams r into a new blob described by b (everything but
	// Size) and returns it with its size. It holds at most one chunk in
	// memory. When r has more than max bytes it stores nothing and returns
	// ErrTooLarge. The blob is visible only once complete.
	PutBlob(ctx context.Context, b Blob, r io.Reader, max int64) (Blob, error)
	// Blob returns a blob's metadata or ErrNotFound.
	Blob(ctx context.Context, id string) (Blob, error)
	// OpenBlob returns a blob's metadata and a reader of its content, which
	// the caller closes; ErrNotFound when absent.
	OpenBlob(ctx context.Context, id string) (Blob, io.ReadCloser, error)
	// AddBlobRefs records that the message at seq of the conversation
	// carries the blobs. Idempotent.
	AddBlobRefs(ctx context.Context, conversationID string, seq int64, blobIDs []string) error
	// BlobConversations returns the conversations whose messages carry the blob.
	BlobConversations(ctx context.Context, blobID string) ([]string, error)
	// SetAvatar makes blobID the user's avatar.
	SetAvatar(ctx context.Context, userID, blobID string) error
	// Avatar returns the id of the user's avatar blob, "" when none.
	Avatar(ctx context.Context, userID string) (string, error)
	// DeleteUnreferencedBlobs deletes, content included, up to limit blobs
	// created before createdBefore that no message carries and that are no
	// user's avatar (abandoned uploads, replaced avatars), and returns how
	// many it deleted.
	DeleteUnreferencedBlobs(ctx context.Context, createdBefore time.Time, limit int) (int, error)
	// DeleteOrphanContent deletes the content that uploads which never
	// completed left behind (the process died while PutBlob streamed it, or
	// between the content and the metadata) and last wrote before
	// olderThan, up to limit uploads, and returns how many it deleted.
	// An upload in flight has content without metadata too: olderThan must
	// lie further back than an upload may go without writing. An upload
	// whose content this deletes fails instead of completing (see the
	// adapters for how narrow they make that race). It never deletes the
	// content of a complete blob, referenced or not.
	DeleteOrphanContent(ctx context.Context, olderThan time.Time, limit int) (int, error)
}
