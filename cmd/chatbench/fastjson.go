package main

import (
	"strconv"
	"unicode/utf8"
)

// decodeHotJSON decodes the frames a load run receives most, `message` and
// `ack` (docs/protocol.md), without reflection: it reads the top-level
// object's keys and keeps the fields the scenarios check, skipping the rest.
// Anything else, and anything it is not sure of (escaped keys, a string
// strconv cannot unquote, malformed input), answers ok false and the caller
// decodes with encoding/json. encoding/json was 60 % of the load generator's
// CPU with JSON frames at 70,000 deliveries/s, which left the server idle.
func decodeHotJSON(data []byte) (ev *event, ok bool) {
	p := jsonScan{b: data}
	p.space()
	if !p.byte('{') {
		return nil, false
	}
	ev = new(event)
	p.space()
	if p.byte('}') {
		return nil, false
	}
	for {
		p.space()
		key, ok := p.plainString()
		if !ok {
			return nil, false
		}
		p.space()
		if !p.byte(':') {
			return nil, false
		}
		p.space()
		if !p.field(ev, key) {
			return nil, false
		}
		p.space()
		if p.byte(',') {
			continue
		}
		if !p.byte('}') {
			return nil, false
		}
		break
	}
	p.space()
	if p.i != len(p.b) || (ev.Type != "message" && ev.Type != "ack") {
		return nil, false
	}
	return ev, true
}

type jsonScan struct {
	b []byte
	i int
}

func (p *jsonScan) space() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\t' || p.b[p.i] == '\n' || p.b[p.i] == '\r') {
		p.i++
	}
}

func (p *jsonScan) byte(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// field reads the value of key into ev when the tool uses it, or skips it.
func (p *jsonScan) field(ev *event, key []byte) bool {
	switch string(key) {
	case "type":
		return p.stringInto(&ev.Type)
	case "id":
		return p.stringInto(&ev.ID)
	case "conversationId":
		return p.stringInto(&ev.ConversationID)
	case "clientMsgId":
		return p.stringInto(&ev.ClientMsgID)
	case "body":
		return p.stringInto(&ev.Body)
	case "seq":
		start := p.i
		if !p.skipNumber() {
			return false
		}
		n, err := strconv.ParseInt(string(p.b[start:p.i]), 10, 64)
		ev.Seq = n
		return err == nil
	case "duplicate":
		switch {
		case p.literal("true"):
			ev.Duplicate = true
		case p.literal("false"):
		default:
			return false
		}
		return true
	}
	return p.skipValue(0)
}

// plainString reads a string without escapes (keys).
func (p *jsonScan) plainString() ([]byte, bool) {
	if !p.byte('"') {
		return nil, false
	}
	start := p.i
	for p.i < len(p.b) {
		switch c := p.b[p.i]; {
		case c == '"':
			s := p.b[start:p.i]
			p.i++
			return s, true
		case c == '\\' || c < 0x20:
			return nil, false
		}
		p.i++
	}
	return nil, false
}

// stringInto reads a string value, escapes included, into dst.
func (p *jsonScan) stringInto(dst *string) bool {
	start := p.i
	if !p.skipString() {
		return false
	}
	raw := p.b[start:p.i]
	inner := raw[1 : len(raw)-1]
	for _, c := range inner {
		if c == '\\' {
			s, err := strconv.Unquote(string(raw)) // JSON escapes are a subset of Go's, but \/ is not
			if err != nil {
				return false
			}
			*dst = s
			return true
		}
	}
	if !utf8.Valid(inner) {
		return false
	}
	*dst = string(inner)
	return true
}

func (p *jsonScan) skipString() bool {
	if !p.byte('"') {
		return false
	}
	for p.i < len(p.b) {
		c := p.b[p.i]
		p.i++
		switch {
		case c == '"':
			return true
		case c == '\\':
			p.i++ // the escaped byte; \uXXXX's digits are plain bytes
		case c < 0x20:
			return false
		}
	}
	return false
}

func (p *jsonScan) skipNumber() bool {
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		if (c < '0' || c > '9') && c != '-' && c != '+' && c != '.' && c != 'e' && c != 'E' {
			break
		}
		p.i++
	}
	return p.i > start
}

func (p *jsonScan) literal(s string) bool {
	if len(p.b)-p.i >= len(s) && string(p.b[p.i:p.i+len(s)]) == s {
		p.i += len(s)
		return true
	}
	return false
}

// skipValue skips any value; depth bounds nesting.
func (p *jsonScan) skipValue(depth int) bool {
	if depth > 32 || p.i >= len(p.b) {
		return false
	}
	switch c := p.b[p.i]; {
	case c == '"':
		return p.skipString()
	case c == '{' || c == '[':
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		p.i++
		p.space()
		if p.byte(end) {
			return true
		}
		for {
			p.space()
			if c == '{' {
				if !p.skipString() {
					return false
				}
				p.space()
				if !p.byte(':') {
					return false
				}
				p.space()
			}
			if !p.skipValue(depth + 1) {
				return false
			}
			p.space()
			if p.byte(',') {
				continue
			}
			return p.byte(end)
		}
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	default:
		return p.skipNumber()
	}
}
