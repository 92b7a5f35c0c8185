package persistence

// Features groups the parts of the port that serve chat features beyond
// plain messaging (read state, presence, …). Store embeds it; each part has its own
// file in this package and in every adapter.
type Features interface {
	Unread
	Presence
	Events
	Reactions
	Titles
	Notifications
	Blobs
}
