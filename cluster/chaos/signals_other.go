//go:build !linux

package chaos

import (
	"errors"
	"os"
	"os/exec"
)

// errNeedsLinux: the harness pauses processes with SIGSTOP and kills process
// groups, which it does on Linux only.
var errNeedsLinux = errors.New("chaos: process faults need Linux")

func ownGroup(*exec.Cmd)        {}
func killGroup(int) error       { return errNeedsLinux }
func continueGroup(int) error   { return errNeedsLinux }
func stopProcess(int) error     { return errNeedsLinux }
func termProcess(int) error     { return errNeedsLinux }
func continueProcess(int) error { return errNeedsLinux }

func waitStatus(st *os.ProcessState) (status int, signal string) {
	if st == nil {
		return -1, ""
	}
	return st.ExitCode(), ""
}
