// Command devstore runs an embedded FerretDB (SQLite backend) so that a
// local multi-node chatd cluster has one shared MongoDB-wire store:
//
//	go run ./cmd/devstore --listen 127.0.0.1:27017 --data ./data/devstore
//
// It prints the MongoDB URI on standard output and runs until SIGINT or
// SIGTERM, then closes client connections and the SQLite files.
//
// Dev and test stand-in only. FerretDB scans whole collections for sorted
// queries (LastSeq, message pages), has no partial indexes, implements
// findAndModify and updates as unconditional read-modify-replace, and has no
// authentication here. Never use it in production; chatd in production
// talks to a real MongoDB. Nothing imports this command.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/actorchat/engine/persistence/mongo/mongotest"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "devstore:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("devstore", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:27017", "TCP address to listen on (no authentication: keep it on loopback)")
	data := fs.String("data", "./data/devstore", "directory of the SQLite files, created if missing")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if host, _, err := net.SplitHostPort(*listen); err != nil {
		return fmt.Errorf("--listen %q: %w", *listen, err)
	} else if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		fmt.Fprintf(os.Stderr, "devstore: warning: listening on %s without authentication\n", *listen)
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()

	uri, stop, err := mongotest.StartServer(ctx, *data, *listen)
	if err != nil {
		return err
	}
	fmt.Println(uri)
	fmt.Fprintf(os.Stderr, "devstore: serving %s from %s; dev/test only, stop with Ctrl-C\n", uri, *data)

	<-ctx.Done()
	cancel() // a second signal now kills the process the default way
	stop()
	fmt.Fprintln(os.Stderr, "devstore: stopped")
	return nil
}
