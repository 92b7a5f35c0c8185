package main

// fdReserve is how many file descriptors --max-connections leaves for
// everything but WebSockets: REST requests, the store, cluster remoting,
// uploads, logs.
const fdReserve = 2000

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
