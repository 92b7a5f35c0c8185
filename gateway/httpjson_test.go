package gateway

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// jsonTestBody is a typed destination for decodeJSON tests.
type jsonTestBody struct {
	Username string `json:"username"`
	N        int    `json:"n"`
}

func TestDecodeJSON(t *testing.T) {
	const limit = 64
	cases := []struct {
		name        string
		contentType string
		body        string
		wantCode    Code
		want        jsonTestBody
	}{
		{"ok", "application/json", `{"username":"alice","n":2}`, "", jsonTestBody{"alice", 2}},
		{"ok charset and whitespace", "application/json; charset=UTF-8", " {\"n\":1}\n ", "", jsonTestBody{N: 1}},
		{"malformed", "application/json", `{"username":`, CodeInvalid, jsonTestBody{}},
		{"syntax error", "application/json", `{username:"a"}`, CodeInvalid, jsonTestBody{}},
		{"unknown field", "application/json", `{"username":"a","admin":true}`, CodeInvalid, jsonTestBody{}},
		{"dollar where key", "application/json", `{"$where":"sleep(1000)"}`, CodeInvalid, jsonTestBody{}},
		{"operator object", "application/json", `{"username":{"$ne":""}}`, CodeInvalid, jsonTestBody{}},
		{"wrong type", "application/json", `{"n":"2"}`, CodeInvalid, jsonTestBody{}},
		{"trailing data", "application/json", `{"n":1} x`, CodeInvalid, jsonTestBody{}},
		{"two values", "application/json", `{"n":1}{"n":2}`, CodeInvalid, jsonTestBody{}},
		{"array", "application/json", `[{"n":1}]`, CodeInvalid, jsonTestBody{}},
		{"empty", "application/json", ``, CodeInvalid, jsonTestBody{}},
		{"oversized", "application/json", `{"username":"` + strings.Repeat("a", limit) + `"}`, CodeTooLarge, jsonTestBody{}},
		{"oversized trailing", "application/json", `{"n":1}` + strings.Repeat(" ", limit), CodeTooLarge, jsonTestBody{}},
		{"wrong content type", "text/plain", `{"n":1}`, CodeInvalid, jsonTestBody{}},
		{"form content type", "application/x-www-form-urlencoded", `{"n":1}`, CodeInvalid, jsonTestBody{}},
		{"no content type", "", `{"n":1}`, CodeInvalid, jsonTestBody{}},
		{"non utf-8 charset", "application/json; charset=latin1", `{"n":1}`, CodeInvalid, jsonTestBody{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(tc.body))
			if tc.contentType != "" {
				r.Header.Set("Content-Type", tc.contentType)
			}
			var got jsonTestBody
			code, msg, ok := decodeJSON(httptest.NewRecorder(), r, &got, limit)
			if ok != (tc.wantCode == "") || code != tc.wantCode {
				t.Fatalf("decodeJSON = %q, %q, %v; want code %q", code, msg, ok, tc.wantCode)
			}
			if !ok && msg == "" {
				t.Fatal("failure without a message")
			}
			if ok && got != tc.want {
				t.Fatalf("decoded %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestDecodeJSONRequiresStructPointer(t *testing.T) {
	for _, dst := range []any{&map[string]any{}, new(any), jsonTestBody{}, nil} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("decodeJSON(%T) did not panic", dst)
				}
			}()
			r := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(`{}`))
			r.Header.Set("Content-Type", "application/json")
			decodeJSON(httptest.NewRecorder(), r, dst, 64)
		}()
	}
}

func TestWriteErrorJSON(t *testing.T) {
	w := httptest.NewRecorder()
	writeError(w, CodeRateLimited, "slow down")
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("status = %d", w.Code)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("content type = %q", ct)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("cache control = %q", cc)
	}
	want := `{"error":{"code":"rate_limited","message":"slow down"}}` + "\n"
	if w.Body.String() != want {
		t.Fatalf("body = %q, want %q", w.Body.String(), want)
	}
}

func TestWriteJSONUnencodable(t *testing.T) {
	w := httptest.NewRecorder()
	w.Header().Set("Cache-Control", "private, max-age=5")
	writeJSON(w, http.StatusOK, map[string]any{"f": func() {}})
	if w.Code != http.StatusInternalServerError {
		t.Fatalf("status = %d, want 500", w.Code)
	}
	var body errorBody
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error.Code != CodeInternal {
		t.Fatalf("body %q: %v", w.Body.String(), err)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "private, max-age=5" {
		t.Fatalf("caller's Cache-Control overwritten: %q", cc)
	}
}

func TestErrorCodesJSONStatus(t *testing.T) {
	want := map[Code]int{
		CodeUnauthorized: 401, CodeForbidden: 403, CodeNotFound: 404, CodeInvalid: 400,
		CodeTooLarge: 413, CodeRateLimited: 429, CodeUnavailable: 503, CodeInternal: 500,
		CodeConflict: 409, Code("bogus"): 500,
	}
	for code, status := range want {
		if got := code.HTTPStatus(); got != status {
			t.Errorf("%q.HTTPStatus() = %d, want %d", code, got, status)
		}
	}
}
