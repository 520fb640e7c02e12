//go:build !linux

package storage

import "errors"

// DiskSpace is only implemented on Linux, where the party runs.
func DiskSpace(string) (uint64, uint64, error) {
	return 0, 0, errors.New("disk space: unsupported platform")
}
