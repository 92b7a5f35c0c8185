package storetest

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/actorchat/engine/persistence"
)

func blobCases(crash Crash) []testCase {
	return []testCase{
		{"Blobs/PutOpenAndLimit", testBlobs},
		{"Blobs/RefsAndAvatars", testBlobRefs},
		{"Blobs/AttachmentsRoundTrip", testAttachmentsRoundTrip},
		{"Blobs/DeleteUnreferenced", testDeleteUnreferencedBlobs},
		{"Blobs/DeleteOrphanContent", func(t *testing.T, s persistence.Store) { testDeleteOrphanContent(t, s, crash) }},
		{"Blobs/OrphanSweepDuringUpload", func(t *testing.T, s persistence.Store) { testOrphanSweepDuringUpload(t, s, crash) }},
	}
}

// pattern returns n bytes that differ between chunks, so a reordered or
// repeated chunk shows.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/1000)
	}
	return b
}

// failingReader gives what r holds, then fails instead of ending.
type failingReader struct {
	r io.Reader
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, errors.New("client went away")
	}
	return n, err
}

func testBlobs(t *testing.T, s persistence.Store) {
	ctx := t.Context()
	data := pattern(700 << 10) // several chunks in any adapter
	meta := persistence.Blob{ID: "b1", OwnerID: "u1", Purpose: persistence.PurposeAttachment, ContentType: "image/png", Name: "cat $1.png", CreatedAt: at(0)}
	got, err := s.PutBlob(ctx, meta, bytes.NewReader(data), int64(len(data)))
	ok(t, err, "PutBlob of exactly max bytes")
	if got.Size != int64(len(data)) {
		t.Fatalf("PutBlob size %d, want %d", got.Size, len(data))
	}
	b, rc, err := s.OpenBlob(ctx, "b1")
	ok(t, err, "OpenBlob")
	content, err := io.ReadAll(rc)
	ok(t, err, "read blob")
	ok(t, rc.Close(), "close blob")
	if !bytes.Equal(content, data) {
		t.Fatalf("blob content: %d bytes, differs from the %d stored", len(content), len(data))
	}
	meta.Size = int64(len(data))
	b.CreatedAt, meta.CreatedAt = ms(b.CreatedAt), ms(meta.CreatedAt)
	if b != meta {
		t.Fatalf("blob metadata %+v, want %+v", b, meta)
	}
	if m, err := s.Blob(ctx, "b1"); err != nil || m.Size != meta.Size || m.OwnerID != "u1" {
		t.Fatalf("Blob = %+v, %v", m, err)
	}

	// One byte over: nothing is stored.
	_, err = s.PutBlob(ctx, persistence.Blob{ID: "b2", OwnerID: "u1", Purpose: persistence.PurposeAttachment, ContentType: "text/plain", CreatedAt: at(0)},
		bytes.NewReader(data), int64(len(data)-1))
	wantErr(t, err, persistence.ErrTooLarge, "PutBlob over max")
	_, err = s.Blob(ctx, "b2")
	wantErr(t, err, persistence.ErrNotFound, "Blob after a refused upload")
	// A client that goes away mid-upload leaves nothing either.
	_, err = s.PutBlob(ctx, persistence.Blob{ID: "b3", OwnerID: "u1", Purpose: persistence.PurposeAttachment, ContentType: "text/plain", CreatedAt: at(0)},
		&failingReader{r: bytes.NewReader(data[:300<<10])}, int64(len(data)))
	if err == nil {
		t.Fatal("PutBlob from a failing reader succeeded")
	}
	_, _, err = s.OpenBlob(ctx, "b3")
	wantErr(t, err, persistence.ErrNotFound, "OpenBlob after a failed upload")
	_, _, err = s.OpenBlob(ctx, "nope")
	wantErr(t, err, persistence.ErrNotFound, "OpenBlob of an unknown id")
}

func testBlobRefs(t *testing.T, s persistence.Store) {
	ctx := t.Context()
	ok(t, s.AddBlobRefs(ctx, "g1", 3, []string{"b1", "b2"}), "AddBlobRefs")
	ok(t, s.AddBlobRefs(ctx, "g2", 1, []string{"b1"}), "AddBlobRefs g2")
	ok(t, s.AddBlobRefs(ctx, "g1", 5, []string{"b1"}), "AddBlobRefs again in g1")
	ok(t, s.AddBlobRefs(ctx, "g1", 3, []string{"b1"}), "AddBlobRefs repeated")
	convs, err := s.BlobConversations(ctx, "b1")
	ok(t, err, "BlobConversations")
	slices.Sort(convs)
	if !slices.Equal(convs, []string{"g1", "g2"}) {
		t.Fatalf("BlobConversations(b1) = %v, want [g1 g2]", convs)
	}
	convs, err = s.BlobConversations(ctx, "b9")
	ok(t, err, "BlobConversations of an unreferenced blob")
	if len(convs) != 0 {
		t.Fatalf("BlobConversations(b9) = %v, want none", convs)
	}

	id, err := s.Avatar(ctx, "u1")
	ok(t, err, "Avatar of a user without one")
	if id != "" {
		t.Fatalf("Avatar = %q, want none", id)
	}
	ok(t, s.SetAvatar(ctx, "u1", "a1"), "SetAvatar")
	ok(t, s.SetAvatar(ctx, "u1", "a2"), "SetAvatar again")
	ok(t, s.SetAvatar(ctx, "u2", "a3"), "SetAvatar u2")
	if id, err = s.Avatar(ctx, "u1"); err != nil || id != "a2" {
		t.Fatalf("Avatar(u1) = %q, %v; want a2", id, err)
	}
}

func testAttachmentsRoundTrip(t *testing.T, s persistence.Store) {
	ctx := t.Context()
	createGroup(t, s, "g1")
	with := newMessage("g1", 1, "u1", "a")
	with.Attachments = []string{"b1", "b2"}
	without := newMessage("g1", 2, "u1", "b")
	appendAll(t, s, with, without)
	got, err := s.Messages(ctx, "g1", persistence.MessageQuery{})
	ok(t, err, "Messages")
	wantMessages(t, "messages with attachments", got, []persistence.Message{with, without})

	// Deleting the message drops its files and their references.
	ok(t, s.AddBlobRefs(ctx, "g1", 1, with.Attachments), "AddBlobRefs")
	ok(t, s.AddBlobRefs(ctx, "g1", 2, []string{"b2"}), "AddBlobRefs of another message")
	ok(t, s.DeleteMessage(ctx, "g1", 1, 3), "DeleteMessage")
	m, err := s.MessageBySeq(ctx, "g1", 1)
	ok(t, err, "MessageBySeq")
	if len(m.Attachments) != 0 {
		t.Fatalf("deleted message still carries %v", m.Attachments)
	}
	if convs, err := s.BlobConversations(ctx, "b1"); err != nil || len(convs) != 0 {
		t.Fatalf("BlobConversations(b1) after the delete = %v, %v; want none", convs, err)
	}
	if convs, err := s.BlobConversations(ctx, "b2"); err != nil || len(convs) != 1 {
		t.Fatalf("BlobConversations(b2) = %v, %v; want g1 (seq 2 still carries it)", convs, err)
	}
}

// testDeleteUnreferencedBlobs: only blobs older than the cut-off that no
// message carries and no avatar uses go, content included, at most limit
// per call.
func testDeleteUnreferencedBlobs(t *testing.T, s persistence.Store) {
	ctx := t.Context()
	put := func(id string, age int) {
		t.Helper()
		_, err := s.PutBlob(ctx, persistence.Blob{ID: id, OwnerID: "u1", Purpose: persistence.PurposeAttachment,
			ContentType: "text/plain", Name: id, CreatedAt: at(time.Duration(age) * time.Second)}, bytes.NewReader([]byte("content of "+id)), 1<<20)
		ok(t, err, "PutBlob "+id)
	}
	// at(n) is n seconds after a fixed instant: 1..5 are old, 100 is new.
	put("orphan1", 1)
	put("orphan2", 2)
	put("carried", 3)
	put("avatar", 4)
	put("replaced", 5)
	put("fresh", 100)
	ok(t, s.AddBlobRefs(ctx, "g1", 1, []string{"carried"}), "AddBlobRefs")
	ok(t, s.SetAvatar(ctx, "u1", "replaced"), "SetAvatar")
	ok(t, s.SetAvatar(ctx, "u1", "avatar"), "SetAvatar again")
	cutoff := at(50 * time.Second)

	n, err := s.DeleteUnreferencedBlobs(ctx, cutoff, 2)
	ok(t, err, "DeleteUnreferencedBlobs limit 2")
	if n != 2 {
		t.Fatalf("deleted %d, want 2 (the limit)", n)
	}
	n, err = s.DeleteUnreferencedBlobs(ctx, cutoff, 10)
	ok(t, err, "DeleteUnreferencedBlobs")
	if n != 1 {
		t.Fatalf("second call deleted %d, want the 1 left", n)
	}
	for _, id := range []string{"orphan1", "orphan2", "replaced"} {
		_, _, err := s.OpenBlob(ctx, id)
		wantErr(t, err, persistence.ErrNotFound, "OpenBlob of deleted "+id)
	}
	for _, id := range []string{"carried", "avatar", "fresh"} {
		_, rc, err := s.OpenBlob(ctx, id)
		ok(t, err, "OpenBlob of kept "+id)
		content, err := io.ReadAll(rc)
		ok(t, err, "read "+id)
		ok(t, rc.Close(), "close "+id)
		if string(content) != "content of "+id {
			t.Fatalf("%s content %q", id, content)
		}
	}
	if n, err = s.DeleteUnreferencedBlobs(ctx, cutoff, 10); err != nil || n != 0 {
		t.Fatalf("third call deleted %d, %v; want 0", n, err)
	}
}
