package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/actorchat/engine/persistence"
)

func notificationCases() []testCase {
	return []testCase{
		{"Notifications/AppendListAndUniqueness", testNotifications},
	}
}

func testNotifications(t *testing.T, s persistence.Store) {
	ctx := t.Context()
	n := func(user string, seq int64, key string) persistence.Notification {
		return persistence.Notification{UserID: user, Seq: seq, ID: fmt.Sprintf("%s-%d", user, seq), Key: key, Kind: "mentioned",
			ConversationID: "g1", ActorID: "u9", MessageSeq: seq * 10, Title: "$title", CreatedAt: at(time.Duration(seq) * time.Second)}
	}
	last, err := s.LastNotificationSeq(ctx, "u1")
	ok(t, err, "LastNotificationSeq of nobody")
	if last != 0 {
		t.Fatalf("LastNotificationSeq of a user without notifications = %d", last)
	}
	for seq := int64(1); seq <= 3; seq++ {
		ok(t, s.AppendNotification(ctx, n("u1", seq, fmt.Sprint("k", seq))), "AppendNotification")
	}
	ok(t, s.AppendNotification(ctx, n("u2", 1, "k1")), "AppendNotification of another user, same key")
	wantErr(t, s.AppendNotification(ctx, n("u1", 3, "k9")), persistence.ErrDuplicate, "AppendNotification at a taken seq")
	wantErr(t, s.AppendNotification(ctx, n("u1", 4, "k2")), persistence.ErrDuplicate, "AppendNotification with a taken key")

	last, err = s.LastNotificationSeq(ctx, "u1")
	ok(t, err, "LastNotificationSeq")
	if last != 3 {
		t.Fatalf("LastNotificationSeq = %d, want 3", last)
	}
	got, err := s.Notifications(ctx, "u1", 1, 10)
	ok(t, err, "Notifications")
	if len(got) != 2 {
		t.Fatalf("Notifications after 1 = %d entries, want 2", len(got))
	}
	for i, want := range []persistence.Notification{n("u1", 2, "k2"), n("u1", 3, "k3")} {
		got[i].CreatedAt, want.CreatedAt = ms(got[i].CreatedAt), ms(want.CreatedAt)
		if got[i] != want {
			t.Fatalf("notification %d = %+v, want %+v", i, got[i], want)
		}
	}
	byKey, err := s.NotificationByKey(ctx, "u1", "k2")
	ok(t, err, "NotificationByKey")
	if byKey.Seq != 2 {
		t.Fatalf("NotificationByKey(k2) has seq %d, want 2", byKey.Seq)
	}
	_, err = s.NotificationByKey(ctx, "u1", "k9")
	wantErr(t, err, persistence.ErrNotFound, "NotificationByKey of an unknown key")
	page, err := s.Notifications(ctx, "u1", 0, 2)
	ok(t, err, "Notifications limited")
	if len(page) != 2 || page[0].Seq != 1 {
		t.Fatalf("first page of 2: %+v", page)
	}
}
