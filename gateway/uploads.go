package gateway

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/actorchat/engine/actors"
	"github.com/actorchat/engine/persistence"
)

// Content types an upload may have, as http.DetectContentType names them.
// The client's declared type is ignored: the server sniffs the content.
var (
	imageTypes  = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}
	uploadTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true,
		"application/pdf": true, "text/plain; charset=utf-8": true}
)

// uploadView is a stored file as clients see it.
type uploadView struct {
	ID          string `json:"id"`
	ContentType string `json:"contentType"`
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	CreatedAt   string `json:"createdAt"`
}

func toUploadView(b persistence.Blob) uploadView {
	return uploadView{ID: b.ID, ContentType: b.ContentType, Name: b.Name, Size: b.Size, CreatedAt: millis(b.CreatedAt)}
}

// handleUpload stores a file for later messages: POST /api/uploads,
// multipart/form-data with one part named "file".
func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request) {
	me, _ := UserFrom(r.Context())
	if !s.users.allowUpload(me.UserID) {
		s.metrics.rateLimited.Inc()
		writeError(w, CodeRateLimited, "too many uploads; slow down")
		return
	}
	b, code, msg := s.receiveFile(w, r, me.UserID, persistence.PurposeAttachment, uploadTypes)
	if code != "" {
		writeError(w, code, msg)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"upload": toUploadView(b)})
}

// handleSetAvatar stores an image as the caller's avatar: PUT /api/me/avatar.
// Its version (the upload's id) is then announced by the user's grain as a
// profile event to the user's sessions and to the members of the user's
// small conversations (best effort: the avatar is stored either way).
func (s *Server) handleSetAvatar(w http.ResponseWriter, r *http.Request) {
	me, _ := UserFrom(r.Context())
	if !s.users.allowUpload(me.UserID) {
		s.metrics.rateLimited.Inc()
		writeError(w, CodeRateLimited, "too many uploads; slow down")
		return
	}
	b, code, msg := s.receiveFile(w, r, me.UserID, persistence.PurposeAvatar, imageTypes)
	if code != "" {
		writeError(w, code, msg)
		return
	}
	if err := s.deps.Directory.SetAvatar(r.Context(), me.UserID, b.ID); err != nil {
		s.storeError(w, "set avatar", err)
		return
	}
	if s.deps.Users != nil {
		if _, err := s.deps.Users.RequestUser(me.UserID, &actors.AvatarChanged{AvatarVersion: b.ID}); err != nil {
			s.log.Warn("announce avatar change failed", "user_id", me.UserID, "err", err)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"avatar": toUploadView(b), "avatarVersion": b.ID})
}

// receiveFile streams the "file" part of a multipart request into the store,
// after sniffing its first 512 bytes against allowed. Nothing is stored
// unless the whole file is accepted.
func (s *Server) receiveFile(w http.ResponseWriter, r *http.Request, owner, purpose string, allowed map[string]bool) (persistence.Blob, Code, string) {
	max := s.cfg.Limits.MaxUploadBytes
	r.Body = http.MaxBytesReader(w, r.Body, max+64<<10) // the part's headers and boundaries
	mr, err := r.MultipartReader()
	if err != nil {
		return persistence.Blob{}, CodeInvalid, "multipart/form-data with a part named file expected"
	}
	for {
		part, err := mr.NextPart()
		switch {
		case isMaxBytesError(err):
			return persistence.Blob{}, CodeTooLarge, "file too large"
		case err != nil:
			return persistence.Blob{}, CodeInvalid, "multipart/form-data with a part named file expected"
		case part.FormName() != "file":
			continue // NextPart skips the rest of this part
		}
		return s.storePart(r.Context(), part, owner, purpose, allowed, max)
	}
}

func (s *Server) storePart(ctx context.Context, part io.Reader, owner, purpose string, allowed map[string]bool, max int64) (persistence.Blob, Code, string) {
	head := make([]byte, 512)
	n, err := io.ReadFull(part, head)
	switch {
	case isMaxBytesError(err):
		return persistence.Blob{}, CodeTooLarge, "file too large"
	case n == 0:
		return persistence.Blob{}, CodeInvalid, "the file is empty"
	case err != nil && !errors.Is(err, io.ErrUnexpectedEOF):
		return persistence.Blob{}, CodeInvalid, "could not read the file"
	}
	ct := http.DetectContentType(head[:n])
	if !allowed[ct] {
		return persistence.Blob{}, CodeInvalid, "file type not allowed"
	}
	name := ""
	if p, ok := part.(interface{ FileName() string }); ok {
		name = safeFileName(p.FileName())
	}
	b := persistence.Blob{ID: "f_" + strings.ReplaceAll(uuid.NewString(), "-", ""), OwnerID: owner, Purpose: purpose,
		ContentType: ct, Name: name, CreatedAt: time.Now()}
	stored, err := s.deps.Directory.PutBlob(ctx, b, io.MultiReader(bytes.NewReader(head[:n]), part), max)
	switch {
	case errors.Is(err, persistence.ErrTooLarge) || isMaxBytesError(err):
		return persistence.Blob{}, CodeTooLarge, "file too large"
	case err != nil:
		s.log.Warn("store upload failed", "err", err)
		return persistence.Blob{}, CodeUnavailable, "temporarily unavailable; retry"
	}
	return stored, "", ""
}

// handleDownload serves a file to a member of a conversation whose message
// carries it (or its uploader); avatars to anyone signed in.
func (s *Server) handleDownload(w http.ResponseWriter, r *http.Request) {
	me, _ := UserFrom(r.Context())
	id := r.PathValue("id")
	b, err := s.deps.Directory.Blob(r.Context(), id)
	if err != nil {
		s.storeError(w, "blob", err)
		return
	}
	ok, err := s.mayRead(r.Context(), me.UserID, b)
	if err != nil {
		s.storeError(w, "blob access", err)
		return
	}
	if !ok {
		writeError(w, CodeForbidden, "not a member of a conversation with this file")
		return
	}
	s.serveBlob(w, r, id, uploadCaching)
}

// Cache-Control of downloads. An upload's content never changes under its
// id. An avatar does change under its user's URL: it is revalidated every
// time (its ETag is its version, so that costs a 304), except under the URL
// of its current version (?v=), which is immutable.
const (
	uploadCaching    = "private, max-age=3600"
	avatarCaching    = "private, no-cache"
	avatarVersioned  = "private, max-age=31536000, immutable"
	avatarVersionKey = "v"
)

// handleAvatar serves a user's avatar to anyone signed in, with its version
// (the upload's id) as ETag: a matching If-None-Match answers 304.
func (s *Server) handleAvatar(w http.ResponseWriter, r *http.Request) {
	id, err := s.deps.Directory.Avatar(r.Context(), r.PathValue("id"))
	if err != nil {
		s.storeError(w, "avatar", err)
		return
	}
	if id == "" {
		writeError(w, CodeNotFound, "no avatar")
		return
	}
	caching := avatarCaching
	if r.URL.Query().Get(avatarVersionKey) == id {
		caching = avatarVersioned
	}
	etag := `"` + id + `"`
	w.Header().Set("ETag", etag)
	if etagMatches(r.Header.Get("If-None-Match"), etag) {
		w.Header().Set("Cache-Control", caching)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	s.serveBlob(w, r, id, caching)
}

// etagMatches reports whether an If-None-Match header lists etag (weak
// comparison, as RFC 9110 asks for If-None-Match) or is "*".
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

func (s *Server) mayRead(ctx context.Context, userID string, b persistence.Blob) (bool, error) {
	if b.Purpose == persistence.PurposeAvatar || b.OwnerID == userID {
		return true, nil
	}
	convs, err := s.deps.Directory.BlobConversations(ctx, b.ID)
	if err != nil {
		return false, err
	}
	for _, c := range convs {
		_, err := s.deps.Directory.Member(ctx, c, userID)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, persistence.ErrNotFound) {
			return false, err
		}
	}
	return false, nil
}

// serveBlob streams a stored file with headers that keep a browser from
// running it: the sniffed type, nosniff, a sandboxing CSP, and a
// Content-Disposition of attachment for everything but images.
func (s *Server) serveBlob(w http.ResponseWriter, r *http.Request, id, caching string) {
	b, rc, err := s.deps.Directory.OpenBlob(r.Context(), id)
	if err != nil {
		s.storeError(w, "open blob", err)
		return
	}
	defer rc.Close()
	h := w.Header()
	h.Set("Content-Type", b.ContentType)
	h.Set("Content-Length", strconv.FormatInt(b.Size, 10))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", caching)
	h.Set("Content-Disposition", disposition(b))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	if _, err := io.Copy(w, rc); err != nil {
		s.log.Debug("download ended early", "err", err)
	}
}

// disposition is inline for images, attachment otherwise, with the file name
// encoded safely (RFC 2231 for non-ASCII).
func disposition(b persistence.Blob) string {
	kind := "attachment"
	if imageTypes[b.ContentType] {
		kind = "inline"
	}
	if b.Name != "" {
		if v := mime.FormatMediaType(kind, map[string]string{"filename": b.Name}); v != "" {
			return v
		}
	}
	return kind
}

// safeFileName keeps the base name of a client's file name, without control
// characters or quotes, at most 200 bytes of valid UTF-8.
func safeFileName(name string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	if name == "." || name == "/" {
		return ""
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '"' || r == utf8.RuneError {
			return -1
		}
		return r
	}, name)
	for len(name) > 200 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	return name
}
