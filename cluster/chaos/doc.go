// Package chaos runs a chat cluster as real OS processes on loopback
// (one devstore, several chatd nodes), drives it with WebSocket clients that
// speak the documented wire protocol (docs/protocol.md), injects faults
// (SIGKILL, SIGSTOP/SIGCONT of nodes and of the store), heals the cluster and
// checks the recorded histories against the protocol's guarantees.
//
// It owns:
//   - the harness: binaries built once, free loopback ports, supervised
//     processes (Process) whose stderr goes to a log file each, a Cluster;
//   - the workload: clients (client.go) that send continuously, retry
//     unknown outcomes with the same clientMsgId, reconnect round-robin and
//     sync; every event lands in a ClientHistory;
//   - the nemesis: seeded fault injection with a journal of every fault;
//   - the checker: pure functions over histories and the final store
//     contents (Check), one per invariant I1..I9;
//   - figures: operations, errors, retries, faults, reconnects, failover.
//
// Goroutines: per Process one supervisor that waits for the process and
// restarts it after an unplanned exit; per client one loop goroutine that
// owns all of the client's state and writes its socket, plus one reader
// goroutine per open WebSocket; one nemesis goroutine during the run. Run
// starts and awaits all of them; every process it started is killed by PID
// (process group) before Run returns.
package chaos
