package cluster

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"
)

// Records are small named documents a cluster keeps about itself in the
// keeper (StateDir, on the golden volume's tmpfs): what a later process
// must find — the faults injected by hand, say — kept with the cluster,
// gone with it, never on the host's disk. They hold no secret.

var recordName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,99}$`)

func recordPath(name string) (string, error) {
	if !recordName.MatchString(name) || name == path.Base(statePath) {
		return "", fmt.Errorf("bad record name %q", name)
	}
	return path.Join(stateDir, name), nil
}

// PutRecord writes (or replaces) a record.
func (c *Cluster) PutRecord(ctx context.Context, name string, data []byte) error {
	p, err := recordPath(name)
	if err != nil {
		return err
	}
	return c.keeper.CopyIn(ctx, data, p, 0o600)
}

// Record reads one record; ok is false if there is none.
func (c *Cluster) Record(ctx context.Context, name string) (data []byte, ok bool, err error) {
	p, err := recordPath(name)
	if err != nil {
		return nil, false, err
	}
	b, err := c.ReadFile(ctx, p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, false, nil
		}
		return nil, false, err
	}
	return b, true, nil
}

// DeleteRecord removes a record; a missing one is not an error.
func (c *Cluster) DeleteRecord(ctx context.Context, name string) error {
	p, err := recordPath(name)
	if err != nil {
		return err
	}
	return c.admin(ctx, "rm", "-f", p)
}

// Records returns every record whose name starts with prefix, by name.
func (c *Cluster) Records(ctx context.Context, prefix string) (map[string][]byte, error) {
	ls, err := c.KeeperExec(ctx, c.Profile.AdminCmd("ls", stateDir)...)
	if err != nil {
		return nil, err
	}
	if ls.ExitCode != 0 {
		return nil, fmt.Errorf("listing the cluster's records: %s", ls.Output())
	}
	out := map[string][]byte{}
	for _, line := range strings.Split(strings.TrimSpace(ls.Stdout), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "d") {
			continue
		}
		name := path.Base(f[len(f)-1])
		if !strings.HasPrefix(name, prefix) || name == path.Base(statePath) || !recordName.MatchString(name) {
			continue
		}
		// One read per record: records are few (the faults active now).
		b, err := c.ReadFile(ctx, path.Join(stateDir, name))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed since the listing (healed meanwhile)
			}
			return nil, err
		}
		out[name] = b
	}
	return out, nil
}
