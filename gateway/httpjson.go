package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
)

// Fixed messages of decodeJSON's failures.
const (
	msgJSONContentType = "content type must be application/json"
	msgJSONTooLarge    = "request body is too large"
	msgJSONEmpty       = "request body is empty"
	msgJSONMalformed   = "request body is not well-formed JSON"
	msgJSONFieldType   = "a field of the request body has the wrong type"
	msgJSONFields      = "request body has unknown or invalid fields"
	msgJSONTrailing    = "request body must hold exactly one JSON value"
)

// decodeJSON decodes the body of r into dst, which must be a pointer to a
// struct (typed structs only: never maps or `any`, so no client-chosen keys
// reach the store). It requires Content-Type application/json (charset, if
// given, utf-8), limits the body to maxBytes with http.MaxBytesReader,
// rejects fields dst does not declare (so `$where`-style keys are refused)
// and requires exactly one JSON value.
//
// On failure it returns the Code and fixed message to answer with and
// ok == false; it writes nothing itself, so the caller answers with
// writeError(w, code, msg).
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any, maxBytes int64) (code Code, msg string, ok bool) {
	if rv := reflect.ValueOf(dst); rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("gateway: decodeJSON destination must be a pointer to a struct, got %T", dst))
	}
	if !jsonContentType(r.Header.Get("Content-Type")) {
		return CodeInvalid, msgJSONContentType, false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		code, msg := classifyJSONError(err)
		return code, msg, false
	}
	var extra json.RawMessage
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
		return "", "", true
	case isMaxBytesError(err):
		return CodeTooLarge, msgJSONTooLarge, false
	default:
		return CodeInvalid, msgJSONTrailing, false
	}
}

// jsonContentType reports whether a Content-Type header denotes JSON in UTF-8.
func jsonContentType(header string) bool {
	mediaType, params, err := mime.ParseMediaType(header)
	if err != nil || mediaType != "application/json" {
		return false
	}
	cs, ok := params["charset"]
	return !ok || strings.EqualFold(cs, "utf-8")
}

// classifyJSONError maps a json.Decoder error to a Code and fixed message.
func classifyJSONError(err error) (Code, string) {
	var (
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
	)
	switch {
	case isMaxBytesError(err):
		return CodeTooLarge, msgJSONTooLarge
	case errors.Is(err, io.EOF):
		return CodeInvalid, msgJSONEmpty
	case errors.Is(err, io.ErrUnexpectedEOF), errors.As(err, &syntaxErr):
		return CodeInvalid, msgJSONMalformed
	case errors.As(err, &typeErr):
		return CodeInvalid, msgJSONFieldType
	default: // unknown field, and anything else the decoder refuses
		return CodeInvalid, msgJSONFields
	}
}

// isMaxBytesError reports whether err comes from an http.MaxBytesReader limit.
func isMaxBytesError(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}
