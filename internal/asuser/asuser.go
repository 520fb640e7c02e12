// Package asuser lets a test that runs as root see file permissions as the
// party's non-root user does.
package asuser

import (
	"os"
	"runtime"
	"syscall"
)

// Run runs fn on a thread whose filesystem uid is uid (as is when the test
// is not root).
func Run(uid int, fn func()) {
	if os.Geteuid() != 0 {
		fn()
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // the thread dies with the goroutine: its fsuid never leaks
		_, _, _ = syscall.Syscall(syscall.SYS_SETFSUID, uintptr(uid), 0, 0)
		fn()
	}()
	<-done
}
