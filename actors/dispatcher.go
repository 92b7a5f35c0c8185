package actors

import (
	"runtime"
	"sync"

	"github.com/asynkron/protoactor-go/actor"
)

// mailboxDispatcher runs the mailboxes of this package's actors (sessions,
// hubs, conversation and user grains) on a few long-lived goroutines.
// Proto.Actor's default dispatcher starts a goroutine for every turn of a
// mailbox, and the fanout benchmark's profile showed those fresh goroutines
// growing their stacks (copystack) on most turns: about 8% of the node's CPU
// at 5,000 sends/s.
//
// No actor here blocks in Receive (store calls run off the mailbox, see
// runAsync; the hub's calls into sessions only take a short lock), so a
// turn never waits for another turn queued behind it. When every worker is
// busy and the queue is full, a turn gets a goroutine of its own, as with
// the default dispatcher.
//
// Only single nodes use it (Config.PooledMailboxes): in a cluster, sending
// to a remote PID blocks while Proto.Actor connects the endpoint, and the
// 3-node benchmark showed pauses of 100-200 ms in one run of three with the
// pool (with the default dispatcher only the sending actor waits).
var mailboxDispatcher = &pooledDispatcher{throughput: 300}

type pooledDispatcher struct {
	once       sync.Once
	turns      chan func()
	throughput int
}

// dispatcherQueue bounds the mailbox turns waiting for a worker.
const dispatcherQueue = 4096

func (d *pooledDispatcher) Schedule(turn func()) {
	d.once.Do(d.start)
	select {
	case d.turns <- turn:
	default:
		go turn()
	}
}

func (d *pooledDispatcher) Throughput() int { return d.throughput }

// start launches the workers: a few per core, so that a long turn (a
// conversation broadcasting to a big room) leaves the others running.
func (d *pooledDispatcher) start() {
	d.turns = make(chan func(), dispatcherQueue)
	for range 4 * runtime.GOMAXPROCS(0) {
		go func() {
			for turn := range d.turns {
				turn()
			}
		}()
	}
}

var _ actor.Dispatcher = (*pooledDispatcher)(nil)

// mailboxOptions are the props options of this package's actors: the
// pooled dispatcher when deps ask for it.
func mailboxOptions(deps *Deps, opts ...actor.PropsOption) []actor.PropsOption {
	if deps != nil && deps.Config.PooledMailboxes {
		opts = append(opts, actor.WithDispatcher(mailboxDispatcher))
	}
	return opts
}
