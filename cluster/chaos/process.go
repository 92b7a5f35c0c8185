package chaos

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"time"
)

// Exit is one end of a supervised process.
type Exit struct {
	At      time.Time `json:"at"`
	PID     int       `json:"pid"`
	Status  int       `json:"status"`           // exit status, -1 when killed by a signal
	Signal  string    `json:"signal,omitempty"` // the signal that ended it
	Planned bool      `json:"planned"`          // the nemesis or Close ended it
}

// ExitPaused is chatd's exit status after it found itself paused beyond the
// membership timeout, or finds a peer evicted it (cmd/chatd --pause-exit, --evict-exit).
const ExitPaused = 3

// Process is one supervised OS process. Its supervisor goroutine restarts it
// after every exit until Close: after an unplanned exit within a second,
// after a planned kill (Kill) when the nemesis said so.
type Process struct {
	Name    string
	path    string
	args    []string
	logPath string
	journal *Journal

	mu       sync.Mutex
	cmd      *exec.Cmd
	paused   bool
	planned  bool          // the current incarnation's end was asked for
	delay    time.Duration // restart delay after a planned kill
	exits    []Exit
	starts   int
	closing  bool
	stop     chan struct{} // closed by Close
	done     chan struct{} // closed when the supervisor ends
	upNotify chan struct{} // closed and replaced at every start
}

// unplannedRestartDelay is how long the supervisor waits before restarting a
// process that exited on its own (like cluster/local-cluster.sh).
const unplannedRestartDelay = time.Second

// NewProcess describes a process; Start runs it.
func NewProcess(name, path string, args []string, logPath string, j *Journal) *Process {
	return &Process{Name: name, path: path, args: args, logPath: logPath, journal: j,
		stop: make(chan struct{}), done: make(chan struct{}), upNotify: make(chan struct{})}
}

// Start runs the process and its supervisor.
func (p *Process) Start() error {
	p.mu.Lock()
	err := p.startLocked()
	p.mu.Unlock()
	if err != nil {
		close(p.done)
		return err
	}
	go p.supervise()
	return nil
}

// startLocked starts one incarnation; the caller holds p.mu.
func (p *Process) startLocked() error {
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("%s: log: %w", p.Name, err)
	}
	fmt.Fprintf(logf, "=== chaos: start %s at %s\n", p.Name, time.Now().UTC().Format(time.RFC3339Nano))
	cmd := exec.Command(p.path, p.args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	ownGroup(cmd)
	err = cmd.Start()
	logf.Close() // the child holds its own descriptor
	if err != nil {
		return fmt.Errorf("%s: start: %w", p.Name, err)
	}
	p.cmd, p.paused, p.planned, p.delay = cmd, false, false, 0
	p.starts++
	close(p.upNotify)
	p.upNotify = make(chan struct{})
	p.journal.Addf("process", "%s started pid %d (start #%d)", p.Name, cmd.Process.Pid, p.starts)
	return nil
}

// supervise waits for each incarnation and restarts it.
func (p *Process) supervise() {
	defer close(p.done)
	for {
		p.mu.Lock()
		cmd := p.cmd
		p.mu.Unlock()
		err := cmd.Wait()
		ex := exitOf(cmd, err)
		p.mu.Lock()
		ex.Planned = p.planned || p.closing
		p.exits = append(p.exits, ex)
		delay := unplannedRestartDelay
		if p.planned {
			delay = p.delay
		}
		closing := p.closing
		p.mu.Unlock()
		if closing {
			return
		}
		if !ex.Planned {
			p.journal.Addf("process", "%s pid %d exited by itself (status %d %s); restarting in %s", p.Name, ex.PID, ex.Status, ex.Signal, delay)
		}
		if !p.restartAfter(delay) {
			return
		}
	}
}

// restartAfter waits delay, then starts the next incarnation, retrying a
// failed start every second; false means Close came first.
func (p *Process) restartAfter(delay time.Duration) bool {
	for {
		select {
		case <-p.stop:
			return false
		case <-time.After(delay):
		}
		p.mu.Lock()
		if p.closing {
			p.mu.Unlock()
			return false
		}
		err := p.startLocked()
		p.mu.Unlock()
		if err == nil {
			return true
		}
		p.journal.Addf("process", "%s restart failed: %v", p.Name, err)
		delay = time.Second
	}
}

func exitOf(cmd *exec.Cmd, err error) Exit {
	ex := Exit{At: time.Now(), PID: cmd.Process.Pid, Status: -1}
	var ee *exec.ExitError
	if errors.As(err, &ee) || err == nil {
		ex.Status, ex.Signal = waitStatus(cmd.ProcessState)
	}
	return ex
}

// PID returns the current incarnation's process id.
func (p *Process) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd.Process.Pid
}

// Starts is how many times the process was started.
func (p *Process) Starts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.starts
}

// Exits returns every exit so far.
func (p *Process) Exits() []Exit {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Exit(nil), p.exits...)
}

// Running reports whether the current incarnation has not exited.
func (p *Process) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd != nil && !p.exitedLocked()
}

func (p *Process) exitedLocked() bool {
	return len(p.exits) > 0 && p.exits[len(p.exits)-1].PID == p.cmd.Process.Pid
}

// Kill sends SIGKILL to the current incarnation's process group; the
// supervisor restarts it after restartAfter. It returns the killed PID.
func (p *Process) Kill(restartAfter time.Duration) (int, error) {
	return p.end(restartAfter, killGroup)
}

// Terminate sends SIGTERM to the current incarnation (a graceful stop:
// chatd drains) and has the supervisor start the next one restartAfter
// after it exits. It returns the PID.
func (p *Process) Terminate(restartAfter time.Duration) (int, error) {
	return p.end(restartAfter, termProcess)
}

// end signals the current incarnation to end, planned: the supervisor
// starts the next one restartAfter after it exits.
func (p *Process) end(restartAfter time.Duration, signal func(pid int) error) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exitedLocked() {
		return 0, fmt.Errorf("%s: not running", p.Name)
	}
	p.planned, p.delay, p.paused = true, restartAfter, false
	pid := p.cmd.Process.Pid
	return pid, signal(pid)
}

// Pause sends SIGSTOP to the current incarnation and returns its PID.
func (p *Process) Pause() (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exitedLocked() {
		return 0, fmt.Errorf("%s: not running", p.Name)
	}
	pid := p.cmd.Process.Pid
	if err := stopProcess(pid); err != nil {
		return 0, err
	}
	p.paused = true
	return pid, nil
}

// Resume sends SIGCONT to the incarnation Pause stopped, if it is still the
// current one.
func (p *Process) Resume() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.paused || p.exitedLocked() {
		p.paused = false
		return nil
	}
	p.paused = false
	return continueProcess(p.cmd.Process.Pid)
}

// Paused reports whether the current incarnation is stopped by Pause.
func (p *Process) Paused() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.paused
}

// UpChan returns a channel closed at the next start.
func (p *Process) UpChan() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.upNotify
}

// Close stops supervising and kills the process group (SIGCONT first, so a
// stopped process dies too), then waits for the supervisor.
func (p *Process) Close() {
	p.mu.Lock()
	if !p.closing {
		p.closing = true
		close(p.stop)
		if p.cmd != nil && !p.exitedLocked() {
			pid := p.cmd.Process.Pid
			_ = continueGroup(pid)
			_ = killGroup(pid)
		}
	}
	p.mu.Unlock()
	<-p.done
}
