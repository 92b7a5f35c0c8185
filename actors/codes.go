package actors

// Error codes carried in grain replies and Failure events. They are the
// closed set of client error codes documented in docs/protocol.md.
const (
	CodeForbidden   = "forbidden"
	CodeNotFound    = "not_found"
	CodeInvalid     = "invalid"
	CodeConflict    = "conflict"
	CodeRateLimited = "rate_limited"
	CodeUnavailable = "unavailable"
	CodeInternal    = "internal"
)
