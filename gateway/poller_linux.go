package gateway

import (
	"errors"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// poller waits for many sockets to become readable in one goroutine (epoll),
// so that an idle WebSocket has no goroutine and no stack. Sockets are
// registered level-triggered and one-shot: an event disables the socket until
// its reader has drained it and re-arms it, so one connection's frames are
// never read by two goroutines, and data already waiting when the socket is
// armed is reported at once.
//
// Events carry the reader's id, never a pointer or a file descriptor: a
// closed socket leaves the epoll set with its descriptor, and a descriptor
// number reused by a new connection is armed only through that connection's
// own net.Conn (RawConn.Control holds the descriptor open while it runs).
type poller struct {
	epfd, wakefd int
	mu           sync.Mutex
	readers      map[uint64]*wsReader
	next         uint64
	stopped      chan struct{}
}

// wakeID is the eventfd's key; readers count from 1.
const wakeID = 0

func newPoller() (*poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		_ = unix.Close(epfd)
		return nil, err
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, &ev); err != nil {
		_ = unix.Close(epfd)
		_ = unix.Close(wakefd)
		return nil, err
	}
	p := &poller{epfd: epfd, wakefd: wakefd, readers: map[uint64]*wsReader{}, stopped: make(chan struct{})}
	go p.loop()
	return p, nil
}

// register gives r its key; call it once, before the first arm.
func (p *poller) register(r *wsReader) {
	p.mu.Lock()
	p.next++
	r.id = p.next
	p.readers[r.id] = r
	p.mu.Unlock()
	r.registered = true
}

// arm enables r's socket for one readability event (adding it to the set
// the first time); an error means the socket is closed.
func (p *poller) arm(r *wsReader) error {
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT, Fd: int32(uint32(r.id)), Pad: int32(uint32(r.id >> 32))}
	var ctlErr error
	err := r.c.raw.Control(func(fd uintptr) {
		ctlErr = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_MOD, int(fd), &ev)
		if errors.Is(ctlErr, unix.ENOENT) {
			ctlErr = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, int(fd), &ev)
		}
	})
	return errors.Join(err, ctlErr)
}

// forget drops an ended reader (its socket is closed, which took it out of
// the epoll set).
func (p *poller) forget(r *wsReader) {
	p.mu.Lock()
	delete(p.readers, r.id)
	p.mu.Unlock()
}

func (p *poller) loop() {
	defer close(p.stopped)
	events := make([]unix.EpollEvent, 256)
	for {
		n, err := unix.EpollWait(p.epfd, events, -1)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return
		}
		for i := range events[:n] {
			id := uint64(uint32(events[i].Fd)) | uint64(uint32(events[i].Pad))<<32
			if id == wakeID {
				return
			}
			p.mu.Lock()
			r := p.readers[id]
			p.mu.Unlock()
			if r != nil {
				r.readable()
			}
		}
	}
}

// close stops the loop and releases the descriptors. Readers still
// registered are not woken: call it once every connection has ended.
func (p *poller) close() {
	one := []byte{1, 0, 0, 0, 0, 0, 0, 0}
	_, _ = unix.Write(p.wakefd, one)
	<-p.stopped
	_ = unix.Close(p.epfd)
	_ = unix.Close(p.wakefd)
}

// writeNow writes buf to the socket without waiting for it: n is what the
// socket took, 0 when its send buffer is full.
func writeNow(raw syscall.RawConn, buf []byte) (n int, err error) {
	var werr error
	err = raw.Write(func(fd uintptr) bool {
		for {
			n, werr = unix.Write(int(fd), buf)
			if werr != unix.EINTR {
				return true // never wait: a full socket goes to a goroutine of its own
			}
		}
	})
	if n < 0 {
		n = 0
	}
	if errors.Is(werr, unix.EAGAIN) {
		werr = nil
	}
	return n, errors.Join(err, werr)
}

// canWriteNow: the writer pool works here.
const canWriteNow = true
