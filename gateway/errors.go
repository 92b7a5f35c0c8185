package gateway

import (
	"encoding/json"
	"net/http"
)

// Code is a client-facing error code. The set is closed: every error the
// gateway reports to a browser, over REST or the WebSocket, carries exactly
// one of the constants below, together with a fixed human-readable message
// that never contains an internal error's text.
type Code string

// The client error codes.
const (
	// CodeUnauthorized: no credentials, or credentials that are invalid,
	// expired or revoked. The client should (re)authenticate.
	CodeUnauthorized Code = "unauthorized"
	// CodeForbidden: authenticated, but not allowed to do this.
	CodeForbidden Code = "forbidden"
	// CodeNotFound: the addressed resource does not exist (or is hidden).
	CodeNotFound Code = "not_found"
	// CodeInvalid: the request is malformed or fails validation. Retrying
	// the same request will fail again.
	CodeInvalid Code = "invalid"
	// CodeTooLarge: the request body or frame exceeds its size limit.
	CodeTooLarge Code = "too_large"
	// CodeRateLimited: too many requests; retry later.
	CodeRateLimited Code = "rate_limited"
	// CodeUnavailable: a dependency (the store) is unreachable or timed out;
	// retry later. The outcome of a write that failed this way is unknown.
	CodeUnavailable Code = "unavailable"
	// CodeInternal: an unexpected server error.
	CodeInternal Code = "internal"
	// CodeConflict: the request conflicts with existing state, e.g. the
	// username is already taken.
	CodeConflict Code = "conflict"
)

// HTTPStatus returns the HTTP status code that goes with c; unknown codes
// map to 500.
func (c Code) HTTPStatus() int {
	switch c {
	case CodeUnauthorized:
		return http.StatusUnauthorized
	case CodeForbidden:
		return http.StatusForbidden
	case CodeNotFound:
		return http.StatusNotFound
	case CodeInvalid:
		return http.StatusBadRequest
	case CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case CodeRateLimited:
		return http.StatusTooManyRequests
	case CodeUnavailable:
		return http.StatusServiceUnavailable
	case CodeConflict:
		return http.StatusConflict
	default:
		return http.StatusInternalServerError
	}
}

// errorBody is the JSON shape of every REST error response.
type errorBody struct {
	Error errorDetail `json:"error"`
}

// errorDetail carries a Code and its fixed message.
type errorDetail struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

// writeError writes {"error":{"code":…,"message":…}} with code's HTTP status.
// message must be a fixed, safe string chosen by the caller, never the text
// of an internal error.
func writeError(w http.ResponseWriter, code Code, message string) {
	writeJSON(w, code.HTTPStatus(), errorBody{Error: errorDetail{Code: code, Message: message}})
}

// internalErrorJSON is written when a response value cannot be encoded.
const internalErrorJSON = `{"error":{"code":"internal","message":"internal error"}}` + "\n"

// writeJSON writes v as JSON with the given status. It sets Content-Type and
// nosniff, and Cache-Control: no-store unless the caller already set a
// Cache-Control header (API responses are private and often carry tokens).
// v is encoded before anything is written, so an encoding failure still
// yields a well-formed 500 response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(internalErrorJSON)
	} else {
		body = append(body, '\n')
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	_, _ = w.Write(body) // a failed write means the client went away
}
