package chaos

import (
	"os"
	"os/exec"
	"syscall"
)

// The harness faults processes with signals: SIGKILL to a process group,
// SIGSTOP and SIGCONT to pause one. This file is the only place that sends
// them.

// ownGroup makes cmd the leader of a process group of its own (so a group
// kill reaches anything it spawns) and has the kernel kill it if the
// harness dies first.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func killGroup(pid int) error       { return syscall.Kill(-pid, syscall.SIGKILL) }
func continueGroup(pid int) error   { return syscall.Kill(-pid, syscall.SIGCONT) }
func stopProcess(pid int) error     { return syscall.Kill(pid, syscall.SIGSTOP) }
func termProcess(pid int) error     { return syscall.Kill(pid, syscall.SIGTERM) }
func continueProcess(pid int) error { return syscall.Kill(pid, syscall.SIGCONT) }

// waitStatus is an ended process's exit status, or -1 and the signal that
// ended it.
func waitStatus(st *os.ProcessState) (status int, signal string) {
	ws, ok := st.Sys().(syscall.WaitStatus)
	switch {
	case !ok:
		return -1, ""
	case ws.Signaled():
		return -1, ws.Signal().String()
	default:
		return ws.ExitStatus(), ""
	}
}
