package gateway_test

import "syscall"

// setReceiveBuffer sets a socket's SO_RCVBUF before it connects.
func setReceiveBuffer(fd uintptr, bytes int) error {
	return syscall.SetsockoptInt(syscall.Handle(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, bytes)
}
