//go:build !linux

package gateway

import (
	"errors"
	"syscall"
)

// poller is Linux-only (epoll); elsewhere every connection keeps a reader
// goroutine.
type poller struct{}

func newPoller() (*poller, error) { return nil, errors.New("no poller on this system") }

func (p *poller) register(*wsReader)  {}
func (p *poller) arm(*wsReader) error { return errors.New("no poller") }
func (p *poller) forget(*wsReader)    {}
func (p *poller) close()              {}

// writeNow is Linux-only; elsewhere there is no writer pool.
func writeNow(syscall.RawConn, []byte) (int, error) { return 0, errors.New("no non-blocking writes") }

const canWriteNow = false
