// Command pause is the local cluster's pod sandbox process (localk8s):
// it holds a pod's namespaces and does nothing until SIGTERM or SIGINT.
// Built from source because the cluster has no registry to pull
// registry.k8s.io/pause from. As PID 1 of a pod that shares its process
// namespace it also reaps orphaned children, as the upstream one does.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for s := range sig {
		if s != syscall.SIGCHLD {
			return
		}
		for {
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
