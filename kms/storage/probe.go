package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// UsageWarnRatio is the fill level above which a vault is reported as
// nearly full (the guide's custom health check warns above 85 %).
const UsageWarnRatio = 0.85

// Status is the result of a live probe of a vault.
type Status struct {
	Name       string
	Path       string
	Readable   bool
	Writable   bool
	TotalBytes uint64
	FreeBytes  uint64
	Err        error
}

// UsedRatio is the fraction of the filesystem in use.
func (s Status) UsedRatio() float64 {
	if s.TotalBytes == 0 {
		return 0
	}
	return 1 - float64(s.FreeBytes)/float64(s.TotalBytes)
}

// Probe lists the vault, writes and removes a small object, and reads the
// free space of its filesystem. It never leaves anything behind.
func (v *Vault) Probe() Status {
	st := Status{Name: v.Name, Path: v.Dir()}
	if total, free, err := DiskSpace(v.Path); err == nil {
		st.TotalBytes, st.FreeBytes = total, free
	}
	// Reading every object back is part of the probe: a tree whose
	// directories lost their search bit can be listed but not used.
	if err := v.readAll(); err != nil {
		st.Err = err
	} else {
		st.Readable = true
	}
	probe := filepath.Join(v.Dir(), ".health-probe")
	if err := WriteFileAtomic(probe, make([]byte, 512)); err != nil {
		if st.Err == nil {
			st.Err = fmt.Errorf("cannot write to %s: %w", v.Dir(), unwrapPath(err))
		}
		return st
	}
	os.Remove(probe)
	st.Writable = true
	return st
}

func (v *Vault) readAll() error {
	types, err := os.ReadDir(v.Dir())
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", v.Dir(), unwrapPath(err))
	}
	for _, t := range types {
		if !t.IsDir() {
			continue
		}
		dir := filepath.Join(v.Dir(), t.Name())
		files, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("cannot read %s: %w", dir, unwrapPath(err))
		}
		for _, f := range files {
			fh, err := os.Open(filepath.Join(dir, f.Name()))
			if err != nil {
				return fmt.Errorf("cannot read %s: %w", filepath.Join(dir, f.Name()), unwrapPath(err))
			}
			fh.Close()
		}
	}
	return nil
}

// unwrapPath drops the *PathError wrapper so messages name the path once.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// IsNoSpace tells whether err is a full disk.
func IsNoSpace(err error) bool { return errors.Is(err, syscall.ENOSPC) }

// IsPermission tells whether err is an access error.
func IsPermission(err error) bool { return errors.Is(err, os.ErrPermission) }

// ErrorKind classifies a storage error for metrics: nospace, permission,
// notfound, corrupt or io.
func ErrorKind(err error) string {
	var ce *CorruptError
	switch {
	case IsNoSpace(err):
		return "nospace"
	case IsPermission(err):
		return "permission"
	case errors.Is(err, ErrNotFound):
		return "notfound"
	case errors.As(err, &ce):
		return "corrupt"
	default:
		return "io"
	}
}
