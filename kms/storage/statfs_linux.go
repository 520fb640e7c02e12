package storage

import "syscall"

// DiskSpace returns the size and the space available to unprivileged users
// of the filesystem holding path.
func DiskSpace(path string) (total, free uint64, err error) {
	var s syscall.Statfs_t
	if err := syscall.Statfs(path, &s); err != nil {
		return 0, 0, err
	}
	return s.Blocks * uint64(s.Bsize), s.Bavail * uint64(s.Bsize), nil
}
