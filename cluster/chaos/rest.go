package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Account is a registered user and its access token.
type Account struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Password string `json:"-"`
	Token    string `json:"-"`
}

// restError is a REST error answer (docs/protocol.md, "Errors").
type restError struct {
	Status int
	Code   string
}

func (e *restError) Error() string { return fmt.Sprintf("HTTP %d %s", e.Status, e.Code) }

// rest calls the REST API of one base URL at a time.
type rest struct {
	hc *http.Client
}

func newREST() *rest { return &rest{hc: &http.Client{Timeout: 10 * time.Second}} }

func (r *rest) do(ctx context.Context, method, base, path, token string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct{ Code string } `json:"error"`
		}
		_ = json.Unmarshal(data, &e)
		return fmt.Errorf("%s %s: %w", method, path, &restError{Status: resp.StatusCode, Code: e.Error.Code})
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	return nil
}

type sessionAnswer struct {
	User        struct{ ID, Username string } `json:"user"`
	AccessToken string                        `json:"accessToken"`
}

// register creates an account.
func (r *rest) register(ctx context.Context, base, username, password string) (*Account, error) {
	var s sessionAnswer
	in := map[string]string{"username": username, "password": password}
	if err := r.do(ctx, http.MethodPost, base, "/api/register", "", in, &s); err != nil {
		return nil, err
	}
	return &Account{ID: s.User.ID, Username: s.User.Username, Password: password, Token: s.AccessToken}, nil
}

// login refreshes a's access token.
func (r *rest) login(ctx context.Context, base string, a *Account) error {
	var s sessionAnswer
	in := map[string]string{"username": a.Username, "password": a.Password}
	if err := r.do(ctx, http.MethodPost, base, "/api/login", "", in, &s); err != nil {
		return err
	}
	a.Token = s.AccessToken
	return nil
}

// createGroup creates a group owned by owner with the given other members.
func (r *rest) createGroup(ctx context.Context, base string, owner *Account, title string, members []string) (string, error) {
	var conv struct {
		ID string `json:"id"`
	}
	in := map[string]any{"kind": "group", "title": title, "members": members}
	if err := r.do(ctx, http.MethodPost, base, "/api/conversations", owner.Token, in, &conv); err != nil {
		return "", err
	}
	return conv.ID, nil
}

// StoredMessage is a message as the store holds it, read through REST.
type StoredMessage struct {
	ConversationID string `json:"conversationId"`
	Seq            int64  `json:"seq"`
	MessageID      string `json:"messageId"`
	SenderID       string `json:"senderId"`
	ClientMsgID    string `json:"clientMsgId"`
	Body           string `json:"body"`
	CreatedAt      string `json:"createdAt"`
}

// readAll reads every message of a conversation, ascending: the first page
// with before=101 (seqs 1..100: the server reads after=0 as "the newest
// page", not "the oldest page after 0"), then after=S pages until an empty
// one. A gap in the store does not end the read early.
func (r *rest) readAll(ctx context.Context, base string, reader *Account, conv string) ([]StoredMessage, error) {
	page := func(query string) ([]StoredMessage, error) {
		var p struct {
			Messages []StoredMessage `json:"messages"`
		}
		path := fmt.Sprintf("/api/conversations/%s/messages?%s", url.PathEscape(conv), query)
		err := r.do(ctx, http.MethodGet, base, path, reader.Token, nil, &p)
		return p.Messages, err
	}
	all, err := page("before=101&limit=100")
	if err != nil {
		return nil, err
	}
	after := int64(100)
	for {
		msgs, err := page(fmt.Sprintf("after=%d&limit=100", after))
		if err != nil {
			return nil, err
		}
		if len(msgs) == 0 {
			return all, nil
		}
		all = append(all, msgs...)
		last := msgs[len(msgs)-1].Seq
		if last <= after {
			return all, fmt.Errorf("conversation %s: page after %d ends at seq %d", conv, after, last)
		}
		after = last
	}
}
