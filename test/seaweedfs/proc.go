package seaweedfs

import (
	"bytes"
	"io"
	"sync"
	"syscall"
)

// logBuf is weed's output: written by the copiers of its stdout and stderr, read
// by a failing test.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

var _ io.Writer = (*logBuf)(nil)

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// sysProcAttr puts weed in a process group of its own, and has the kernel kill it
// when the test binary dies, so no server outlives its tests.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup kills the process group that pid leads.
func killGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }
