package gateway_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
)

// TestProfileEvents: a new avatar reaches, as a profile event with its
// version, every session of the members of a shared conversation and the
// user's own other sessions, never a user who shares no conversation; the
// avatar URL revalidates by ETag and is immutable under its version.
func TestProfileEvents(t *testing.T) {
	for _, a := range adapters() {
		t.Run(a.name, func(t *testing.T) {
			st, _ := a.open(t)
			s := startStack(t, st)
			alice, bob, carol, dave := s.register("alice"), s.register("bob"), s.register("carol"), s.register("dave")
			s.createGroup(alice, "shared", bob)
			s.createGroup(carol, "no alice here", dave)
			a1, a2, b1, b2, cc := s.connect(alice), s.connect(alice), s.connect(bob), s.connect(bob), s.connect(carol)

			setAvatar := func(content []byte) string {
				t.Helper()
				code, raw := s.upload("PUT", "/api/me/avatar", alice.Token, "me.png", "image/png", content)
				var out struct {
					Avatar        struct{ ID string }
					AvatarVersion string
				}
				if code != http.StatusOK || json.Unmarshal(raw, &out) != nil || out.AvatarVersion == "" || out.AvatarVersion != out.Avatar.ID {
					t.Fatalf("set avatar: %d %s, want 200 with avatarVersion = avatar.id", code, raw)
				}
				return out.AvatarVersion
			}
			isProfile := func(version string) func(frame) bool {
				return func(f frame) bool { return f.Type == "profile" && f.UserID == alice.ID && f.AvatarVersion == version }
			}

			first := pngBytes(100)
			v1 := setAvatar(first)
			for name, c := range map[string]*client{"alice's first session": a1, "alice's second session": a2, "bob's first session": b1, "bob's second session": b2} {
				c.waitFor(isProfile(v1), name+": profile event of alice's avatar")
			}
			second := pngBytes(200)
			v2 := setAvatar(second)
			if v2 == v1 {
				t.Fatalf("two avatars with the same version %q", v1)
			}
			b1.waitFor(isProfile(v2), "bob: profile event of alice's second avatar")
			a2.waitFor(isProfile(v2), "alice: profile event of her second avatar")

			// Carol shares no conversation with alice: after a round trip
			// through her session (behind both events on the hub), nothing.
			cc.do(map[string]any{"type": "ping"})
			for _, f := range cc.seen {
				if f.Type == "profile" {
					t.Fatalf("carol shares no conversation with alice but got %+v", f)
				}
			}

			// The avatar URL: revalidated by its version as ETag, immutable under ?v= of the current version.
			resp, body := s.get("/api/users/"+alice.ID+"/avatar", bob.Token)
			if resp.StatusCode != http.StatusOK || !bytes.Equal(body, second) || resp.Header.Get("ETag") != `"`+v2+`"` ||
				resp.Header.Get("Cache-Control") != "private, no-cache" {
				t.Fatalf("avatar: %d %v, want the second image, ETag %q, no-cache", resp.StatusCode, resp.Header, v2)
			}
			resp, body = s.get("/api/users/"+alice.ID+"/avatar?v="+v2, bob.Token)
			if resp.StatusCode != http.StatusOK || !bytes.Equal(body, second) || resp.Header.Get("Cache-Control") != "private, max-age=31536000, immutable" {
				t.Fatalf("avatar at its version: %d %v, want the second image, immutable", resp.StatusCode, resp.Header)
			}
			resp, body = s.get("/api/users/"+alice.ID+"/avatar?v="+v1, bob.Token)
			if resp.StatusCode != http.StatusOK || !bytes.Equal(body, second) || resp.Header.Get("Cache-Control") != "private, no-cache" {
				t.Fatalf("avatar at an old version: %d %v, want the current image, no-cache", resp.StatusCode, resp.Header)
			}
			req, _ := http.NewRequest("GET", s.URL+"/api/users/"+alice.ID+"/avatar", nil)
			req.Header.Set("Authorization", "Bearer "+bob.Token)
			req.Header.Set("If-None-Match", `"`+v2+`"`)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = res.Body.Close()
			if res.StatusCode != http.StatusNotModified {
				t.Fatalf("avatar with If-None-Match of the current version: %d, want 304", res.StatusCode)
			}
			req.Header.Set("If-None-Match", `"`+v1+`"`)
			if res, err = http.DefaultClient.Do(req); err != nil {
				t.Fatal(err)
			}
			_ = res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Fatalf("avatar with If-None-Match of an old version: %d, want 200", res.StatusCode)
			}
			req.Header.Del("Authorization")
			if res, err = http.DefaultClient.Do(req); err != nil {
				t.Fatal(err)
			}
			_ = res.Body.Close()
			if res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("avatar without a token: %d, want 401", res.StatusCode)
			}
		})
	}
}
