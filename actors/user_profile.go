package actors

import "github.com/asynkron/protoactor-go/actor"

// The user grain's part in profile changes: when the user sets a new avatar
// (the gateway sends AvatarChanged after storing it), the grain loads the
// user's conversations of at most PresenceMaxMembers members, like a
// presence announcement, and broadcasts ProfileChanged to every hub, which
// hands one profile event to each local session following one of them and
// to every session of the user. Members of bigger rooms only are not told
// (O(members) per change); their clients revalidate avatars on their own.
// Announcements are best effort: a failed load tells the user's own
// sessions only. A change while a load is in flight rides on it: the
// announcement carries the newest version, so the last event each session
// gets is current.

// userProfile is the user grain's profile state.
type userProfile struct {
	avatarVersion string // the newest avatar version announced or to announce
	loading       bool   // a conversation load for an announcement is in flight
}

// profileAudience brings the user's conversations back for a profile announcement.
type profileAudience struct {
	convs []string
	err   error
}

func (u *userGrain) onAvatarChanged(ctx actor.Context, m *AvatarChanged) {
	u.profile.avatarVersion = m.AvatarVersion
	if u.profile.loading {
		return
	}
	u.profile.loading = true
	deps, id := u.deps, u.id
	runAsync(ctx, func() any {
		convs, err := smallConversations(deps, id)
		return &profileAudience{convs: convs, err: err}
	})
}

func (u *userGrain) onProfileAudience(ctx actor.Context, a *profileAudience) {
	u.profile.loading = false
	convs := a.convs
	if a.err != nil {
		u.log.Warn("load memberships for profile change failed", "err", a.err)
		convs = nil // only the user's own sessions, who share every conversation anyway
	}
	msg := &ProfileChanged{UserId: u.id, AvatarVersion: u.profile.avatarVersion, ConversationIds: convs}
	for _, hub := range u.deps.Hubs() {
		ctx.Send(hub, msg)
	}
}
