package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// runAsCommand runs a command as another numeric user, from root: what
// `docker exec --user` does, for a backend whose exec cannot choose the
// user (kubectl exec runs as the container's own). The keeper runs as
// root and becomes the party's user with it.
func runAsCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "run-as <uid>[:<gid>] -- <command> [args...]",
		Short: "Run a command as another user (numeric uid and gid; needs root)",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			uid, gid, err := parseUser(args[0])
			if err != nil {
				return err
			}
			path, err := exec.LookPath(args[1])
			if err != nil {
				return err
			}
			// Group first: once the user is dropped, the group cannot be.
			if err := syscall.Setgroups([]int{}); err != nil {
				return fmt.Errorf("dropping supplementary groups: %w", err)
			}
			if err := syscall.Setgid(gid); err != nil {
				return fmt.Errorf("becoming group %d: %w", gid, err)
			}
			if err := syscall.Setuid(uid); err != nil {
				return fmt.Errorf("becoming user %d: %w", uid, err)
			}
			return syscall.Exec(path, args[1:], os.Environ())
		},
	}
}

func parseUser(s string) (uid, gid int, err error) {
	u, g, hasGroup := strings.Cut(s, ":")
	if uid, err = strconv.Atoi(u); err != nil || uid < 0 {
		return 0, 0, fmt.Errorf("%q: the user is a numeric uid[:gid]", s)
	}
	gid = uid
	if hasGroup {
		if gid, err = strconv.Atoi(g); err != nil || gid < 0 {
			return 0, 0, fmt.Errorf("%q: the group is a numeric gid", s)
		}
	}
	return uid, gid, nil
}
