package actors

import (
	"context"
	"errors"
	"fmt"

	"github.com/actorchat/engine/persistence"
)

// MaxAttachments caps the files one chat message carries.
const MaxAttachments = 10

// refusal is a request answered with an error code.
type refusal struct {
	op   queuedOp
	code string
}

// checkAttachments runs in a group commit's goroutine, before the write: a
// send may only carry files its sender uploaded as attachments. Sends that
// fail are taken off the batch (refused); the rest keep their order.
func checkAttachments(ctx context.Context, st persistence.Blobs, ops []queuedOp, msgs []persistence.Message) ([]queuedOp, []persistence.Message, []refusal) {
	var refused []refusal
	keptOps, keptMsgs := ops[:0:0], msgs[:0:0]
	for i, m := range msgs {
		if code := attachmentCode(ctx, st, m); code != "" {
			refused = append(refused, refusal{op: ops[i], code: code})
			continue
		}
		keptOps, keptMsgs = append(keptOps, ops[i]), append(keptMsgs, m)
	}
	return keptOps, keptMsgs, refused
}

// attachmentCode returns why m may not carry its attachments, or "".
func attachmentCode(ctx context.Context, st persistence.Blobs, m persistence.Message) string {
	seen := map[string]bool{}
	for _, id := range m.Attachments {
		if seen[id] {
			return CodeInvalid
		}
		seen[id] = true
		b, err := st.Blob(ctx, id)
		switch {
		case errors.Is(err, persistence.ErrNotFound):
			return CodeNotFound
		case err != nil:
			return CodeUnavailable
		case b.OwnerID != m.SenderID || b.Purpose != persistence.PurposeAttachment:
			return CodeForbidden
		}
	}
	return ""
}

// refAttachments records which stored messages carry which files, so their
// conversations' members may download them.
func refAttachments(ctx context.Context, st persistence.Blobs, r commitResult) error {
	var errs []error
	for _, o := range r.outcomes {
		if o.code != "" || o.duplicate || len(o.msg.Attachments) == 0 {
			continue
		}
		if err := st.AddBlobRefs(ctx, o.msg.ConversationID, o.msg.Seq, o.msg.Attachments); err != nil {
			errs = append(errs, fmt.Errorf("attachments of seq %d: %w", o.msg.Seq, err))
		}
	}
	return errors.Join(errs...)
}
