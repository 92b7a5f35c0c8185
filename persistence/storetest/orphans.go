package storetest

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/actorchat/engine/persistence"
)

// Crash leaves in a store what an upload that died part-way through
// PutBlob leaves there, which no call of the port can do. Adapters
// implement it in their own tests by writing directly what their PutBlob
// writes, with the given instant wherever PutBlob would record the time of
// the write.
type Crash interface {
	// MidContent leaves part of blob id's content, written at at, as an
	// upload that died while streaming it does.
	MidContent(t *testing.T, s persistence.Store, id string, at time.Time)
	// BeforeMetadata leaves all of blob id's content, written at at, as an
	// upload that died between the content and the metadata does.
	BeforeMetadata(t *testing.T, s persistence.Store, id string, at time.Time)
	// HasContent reports whether anything of blob id's content, or of the
	// bookkeeping of its upload, is stored.
	HasContent(t *testing.T, s persistence.Store, id string) bool
}

// testDeleteOrphanContent: what uploads that died left goes once last
// written before the cut-off, at most limit per call; newer leftovers
// (which might be uploads in flight) and complete blobs, referenced or not,
// stay.
func testDeleteOrphanContent(t *testing.T, s persistence.Store, crash Crash) {
	ctx := t.Context()
	// Small complete blobs: the MongoDB adapter's sweep reads every chunk
	// id, and FerretDB, which runs the tests, decodes every chunk it scans.
	data := pattern(4 << 10)
	for _, id := range []string{"kept", "carried"} {
		_, err := s.PutBlob(ctx, persistence.Blob{ID: id, OwnerID: "u1", Purpose: persistence.PurposeAttachment,
			ContentType: "text/plain", Name: id, CreatedAt: at(time.Second)}, bytes.NewReader(data), 1<<20)
		ok(t, err, "PutBlob "+id)
	}
	ok(t, s.AddBlobRefs(ctx, "g1", 1, []string{"carried"}), "AddBlobRefs")
	// An upload that fails cleanly, after a chunk or two, leaves nothing to sweep.
	_, err := s.PutBlob(ctx, persistence.Blob{ID: "failed", OwnerID: "u1", Purpose: persistence.PurposeAttachment,
		ContentType: "text/plain", CreatedAt: at(time.Second)}, &failingReader{r: bytes.NewReader(pattern(600 << 10))}, 1<<20)
	if err == nil {
		t.Fatal("PutBlob from a failing reader succeeded")
	}
	if crash.HasContent(t, s, "failed") {
		t.Fatal("a failed upload left content behind")
	}

	// at(n) is n seconds after a fixed instant: 1..3 are old, 100 is new.
	crash.MidContent(t, s, "mid1", at(1*time.Second))
	crash.BeforeMetadata(t, s, "meta2", at(2*time.Second))
	crash.MidContent(t, s, "mid3", at(3*time.Second))
	crash.MidContent(t, s, "mid-new", at(100*time.Second))
	crash.BeforeMetadata(t, s, "meta-new", at(100*time.Second))
	old, recent := []string{"mid1", "meta2", "mid3"}, []string{"mid-new", "meta-new"}
	for _, id := range append(old, recent...) {
		_, err := s.Blob(ctx, id)
		wantErr(t, err, persistence.ErrNotFound, "Blob of an upload that died: "+id)
		if !crash.HasContent(t, s, id) {
			t.Fatalf("the crashed upload %s left nothing to sweep", id)
		}
	}
	cutoff := at(50 * time.Second)

	n, err := s.DeleteOrphanContent(ctx, cutoff, 2)
	ok(t, err, "DeleteOrphanContent limit 2")
	if n != 2 {
		t.Fatalf("deleted %d, want 2 (the limit)", n)
	}
	n, err = s.DeleteOrphanContent(ctx, cutoff, 10)
	ok(t, err, "DeleteOrphanContent")
	if n != 1 {
		t.Fatalf("second call deleted %d, want the 1 left", n)
	}
	wantContent(t, s, crash, old, false)
	wantContent(t, s, crash, recent, true)
	wantBlobs(t, s, data, "kept", "carried")
	if n, err = s.DeleteOrphanContent(ctx, cutoff, 10); err != nil || n != 0 {
		t.Fatalf("third call deleted %d, %v; want 0", n, err)
	}

	// A cut-off after everything takes the newer leftovers too, and still
	// no complete blob (their content is older than the cut-off as well).
	n, err = s.DeleteOrphanContent(ctx, time.Now().Add(time.Hour), 10)
	if err != nil || n != len(recent) {
		t.Fatalf("DeleteOrphanContent with a future cut-off deleted %d, %v; want %d", n, err, len(recent))
	}
	wantContent(t, s, crash, recent, false)
	wantBlobs(t, s, data, "kept", "carried")
}

// testOrphanSweepDuringUpload: a sweep keeps what an upload in flight wrote
// after the cut-off. One with a cut-off after those writes (as if the
// upload had gone silent that long) may delete it, and the upload then
// fails and leaves nothing: never a blob with part of its content missing.
func testOrphanSweepDuringUpload(t *testing.T, s persistence.Store, crash Crash) {
	ctx := t.Context()
	data := pattern(700 << 10) // a few chunks in any adapter; MongoDB's driver holds them until Close

	finish := uploadInFlight(t, s, "steady", data)
	n, err := s.DeleteOrphanContent(ctx, time.Now().Add(-time.Hour), 10)
	if err != nil || n != 0 {
		t.Fatalf("sweep with a cut-off before the upload deleted %d, %v; want 0", n, err)
	}
	ok(t, finish(), "PutBlob after a sweep with an earlier cut-off")
	wantBlobs(t, s, data, "steady")

	finish = uploadInFlight(t, s, "stalled", data)
	n, err = s.DeleteOrphanContent(ctx, time.Now().Add(time.Hour), 10)
	ok(t, err, "sweep with a cut-off after the upload's writes")
	err = finish()
	switch {
	case n > 1:
		t.Fatalf("sweep deleted %d uploads, but one was in flight", n)
	case n == 1 && err == nil:
		t.Fatal("PutBlob completed after its content was swept")
	case n == 1:
		_, err = s.Blob(ctx, "stalled")
		wantErr(t, err, persistence.ErrNotFound, "Blob of a swept upload")
		if crash.HasContent(t, s, "stalled") {
			t.Fatal("a swept upload left content behind")
		}
	default: // the adapter had written nothing yet
		ok(t, err, "PutBlob after a sweep that found nothing of it")
		wantBlobs(t, s, data, "stalled")
	}
	wantBlobs(t, s, data, "steady")
}

// uploadInFlight starts a PutBlob of blob id from a pipe and writes all of
// data to it but its last 100 KiB. A pipe write returns once read, so
// PutBlob has by then written every chunk it does not hold back. finish
// writes the rest and returns PutBlob's error.
func uploadInFlight(t *testing.T, s persistence.Store, id string, data []byte) (finish func() error) {
	t.Helper()
	head, tail := data[:len(data)-100<<10], data[len(data)-100<<10:]
	pr, pw := io.Pipe()
	done, finished := make(chan error, 1), make(chan struct{})
	t.Cleanup(func() { // a failed test must not leave PutBlob reading, or the store closing under it
		pw.CloseWithError(errors.New("test over"))
		<-finished
	})
	go func() {
		defer close(finished)
		_, err := s.PutBlob(t.Context(), persistence.Blob{ID: id, OwnerID: "u1", Purpose: persistence.PurposeAttachment,
			ContentType: "text/plain", Name: id, CreatedAt: time.Now()}, pr, int64(len(data)))
		pr.CloseWithError(errors.New("PutBlob returned")) // the writer must not wait for a reader that left
		done <- err
	}()
	if _, err := pw.Write(head); err != nil {
		t.Fatalf("upload of %s stopped reading: %v", id, err)
	}
	return func() error {
		_, _ = pw.Write(tail) // fails if PutBlob gave up already
		_ = pw.Close()
		return <-done
	}
}

// wantContent fails the test unless crash.HasContent is want for every id.
func wantContent(t *testing.T, s persistence.Store, crash Crash, ids []string, want bool) {
	t.Helper()
	for _, id := range ids {
		if got := crash.HasContent(t, s, id); got != want {
			t.Fatalf("content of %s stored: %v, want %v", id, got, want)
		}
	}
}

// wantBlobs fails the test unless every id is a complete blob holding data.
func wantBlobs(t *testing.T, s persistence.Store, data []byte, ids ...string) {
	t.Helper()
	for _, id := range ids {
		_, rc, err := s.OpenBlob(t.Context(), id)
		ok(t, err, "OpenBlob of kept "+id)
		content, err := io.ReadAll(rc)
		ok(t, err, "read "+id)
		ok(t, rc.Close(), "close "+id)
		if !bytes.Equal(content, data) {
			t.Fatalf("%s: %d bytes, differ from the %d stored", id, len(content), len(data))
		}
	}
}
