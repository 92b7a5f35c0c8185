package main

import "syscall"

// fdReserve is how many file descriptors --max-connections leaves for
// everything but WebSockets: REST requests, the store, cluster remoting,
// uploads, logs.
const fdReserve = 2000

// openFileLimit returns the process's open-file limit (Go raises the soft
// limit to the hard one at start-up), or 0 when it cannot be read.
func openFileLimit() int {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil || r.Cur > 1<<30 {
		return 0
	}
	return int(r.Cur)
}

// connectionBudget is the default of --max-connections: the open-file limit
// minus fdReserve (18,000 under a 20,000 limit), at least 64. Past it a node
// refuses WebSockets with close code 1013 ("try another node") instead of
// failing to accept with "too many open files".
func connectionBudget(limit int) int {
	if limit <= 0 {
		return 18000
	}
	return max(limit-fdReserve, 64)
}
