package gateway_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
	"testing"

	"github.com/actorchat/engine/gateway"
)

// pngBytes is a PNG signature followed by n bytes of filler: enough for the
// server's content sniffing.
func pngBytes(n int) []byte {
	return append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{7}, n)...)
}

// upload posts one file as multipart/form-data (part "file", declared
// content type declared) and returns the status and body.
func (s *stack) upload(method, path, token, name, declared string, content []byte) (int, []byte) {
	s.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, name))
	h.Set("Content-Type", declared)
	part, _ := mw.CreatePart(h)
	_, _ = part.Write(content)
	_ = mw.Close()
	req, _ := http.NewRequest(method, s.URL+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// get fetches path with token and returns the response with its body read.
func (s *stack) get(path, token string) (*http.Response, []byte) {
	s.t.Helper()
	req, _ := http.NewRequest("GET", s.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp, raw
}

// TestUploadsAndAvatars: files are sniffed against an allowlist (HTML
// disguised as PNG is refused), size- and rate-limited, attached only by
// their uploader, downloadable by members of a conversation whose message
// carries them (with nosniff and a safe Content-Disposition), and avatars by
// anyone signed in.
func TestUploadsAndAvatars(t *testing.T) {
	for _, a := range adapters() {
		t.Run(a.name, func(t *testing.T) {
			st, _ := a.open(t)
			s := startStack(t, st, func(c *gateway.Config) {
				c.Limits.MaxUploadBytes, c.Limits.UploadRate, c.Limits.UploadBurst = 64<<10, 0.001, 10
			})
			alice, bob, carol := s.register("alice"), s.register("bob"), s.register("carol")
			conv := s.createGroup(alice, "files", bob)
			ca, cb := s.connect(alice), s.connect(bob)
			uploaded := func(status int, raw []byte) string {
				t.Helper()
				var out struct {
					Upload struct{ ID, ContentType string }
				}
				if status != http.StatusCreated || jsonUnmarshal(raw, &out) != nil || out.Upload.ID == "" {
					t.Fatalf("upload: %d %s", status, raw)
				}
				return out.Upload.ID
			}
			img := pngBytes(40 << 10)
			pic := uploaded(s.upload("POST", "/api/uploads", alice.Token, "../../cat \"x\".png", "image/png", img))                        // 1
			txt := uploaded(s.upload("POST", "/api/uploads", alice.Token, "notes.txt", "application/octet-stream", []byte("just text\n"))) // 2
			pdf := uploaded(s.upload("POST", "/api/uploads", alice.Token, "doc.pdf", "application/pdf", []byte("%PDF-1.4\n%…\n")))         // 3

			if code, raw := s.upload("POST", "/api/uploads", alice.Token, "evil.png", "image/png", []byte("<html><script>alert(1)</script></html>")); code != http.StatusBadRequest || !strings.Contains(string(raw), `"invalid"`) { // 4
				t.Fatalf("HTML disguised as PNG: %d %s, want 400 invalid", code, raw)
			}
			if code, raw := s.upload("POST", "/api/uploads", alice.Token, "big.png", "image/png", pngBytes(100<<10)); code != http.StatusRequestEntityTooLarge { // 5
				t.Fatalf("oversized upload: %d %s, want 413", code, raw)
			}

			// Only the uploader may attach a file.
			wantError(cb, cb.do(map[string]any{"type": "send", "conversationId": conv, "clientMsgId": "b1", "body": "mine?", "attachments": []string{pic}}), "forbidden", "attaching someone else's upload")
			wantError(cb, cb.do(map[string]any{"type": "send", "conversationId": conv, "clientMsgId": "b2", "body": "x", "attachments": []string{"f_nope"}}), "not_found", "attaching an unknown upload")
			ack := ca.do(map[string]any{"type": "send", "conversationId": conv, "clientMsgId": "a1", "body": "", "attachments": []string{pic, txt}})
			if ack.Type != "ack" || ack.Seq != 1 {
				t.Fatalf("send with attachments: %+v (refused sends must store nothing)", ack)
			}
			if m := cb.waitMessages(conv, 1)[0]; !slices.Equal(m.Attachments, []string{pic, txt}) {
				t.Fatalf("bob got %+v, want both attachments", m)
			}

			resp, body := s.get("/api/uploads/"+pic, bob.Token)
			if resp.StatusCode != 200 || !bytes.Equal(body, img) || resp.Header.Get("Content-Type") != "image/png" ||
				resp.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "inline") ||
				strings.Contains(resp.Header.Get("Content-Disposition"), "..") {
				t.Fatalf("member downloads the image: %d %v (%d bytes)", resp.StatusCode, resp.Header, len(body))
			}
			resp, body = s.get("/api/uploads/"+txt, bob.Token)
			if resp.StatusCode != 200 || string(body) != "just text\n" || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" ||
				!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
				t.Fatalf("member downloads the text: %d %v", resp.StatusCode, resp.Header)
			}
			if resp, _ := s.get("/api/uploads/"+pic, carol.Token); resp.StatusCode != http.StatusForbidden {
				t.Fatalf("non-member download: %d, want 403", resp.StatusCode)
			}
			if resp, _ := s.get("/api/uploads/"+pdf, bob.Token); resp.StatusCode != http.StatusForbidden {
				t.Fatalf("download of a file no message carries: %d, want 403", resp.StatusCode)
			}
			if resp, _ := s.get("/api/uploads/"+pdf, alice.Token); resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" {
				t.Fatalf("uploader downloads her pdf: %d %v", resp.StatusCode, resp.Header)
			}

			// Avatars: images only, readable by anyone signed in.
			gif := append([]byte("GIF89a"), bytes.Repeat([]byte{1}, 100)...)
			if code, raw := s.upload("PUT", "/api/me/avatar", bob.Token, "me.gif", "image/gif", gif); code != 200 { // 6
				t.Fatalf("set avatar: %d %s", code, raw)
			}
			if code, _ := s.upload("PUT", "/api/me/avatar", bob.Token, "me.png", "image/png", []byte("not an image at all")); code != http.StatusBadRequest { // 7
				t.Fatalf("text as avatar: %d, want 400", code)
			}
			if resp, body := s.get("/api/users/"+bob.ID+"/avatar", carol.Token); resp.StatusCode != 200 || !bytes.Equal(body, gif) || resp.Header.Get("Content-Type") != "image/gif" {
				t.Fatalf("avatar download: %d %v", resp.StatusCode, resp.Header)
			}
			if resp, _ := s.get("/api/users/"+carol.ID+"/avatar", bob.Token); resp.StatusCode != http.StatusNotFound {
				t.Fatalf("missing avatar: %d, want 404", resp.StatusCode)
			}

			// Deleting the message withdraws its files from the members.
			if f := ca.do(map[string]any{"type": "delete", "conversationId": conv, "clientMsgId": "d1", "targetSeq": 1}); f.Type != "ack" {
				t.Fatalf("delete: %+v", f)
			}
			if resp, _ := s.get("/api/uploads/"+pic, bob.Token); resp.StatusCode != http.StatusForbidden {
				t.Fatalf("download after the message was deleted: %d, want 403", resp.StatusCode)
			}

			// The upload rate limit is per user: burst 10, alice used 5 above.
			limited := false
			for i := 0; i < 6 && !limited; i++ {
				code, _ := s.upload("POST", "/api/uploads", alice.Token, "n.txt", "text/plain", []byte("again"))
				limited = code == http.StatusTooManyRequests
			}
			if !limited {
				t.Fatal("uploads were never rate limited")
			}
		})
	}
}
