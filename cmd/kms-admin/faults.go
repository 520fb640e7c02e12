package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/kmschaos/kmschaos/kms/material"
	"github.com/kmschaos/kmschaos/kms/prss"
	"github.com/kmschaos/kmschaos/kms/storage"
	"github.com/kmschaos/kmschaos/kms/tss"
)

// fillerName is the file fill creates; removing it frees the space again.
const fillerName = ".kmschaos-filler"

func faultCommands() []*cobra.Command {
	var percent float64
	fill := &cobra.Command{
		Use:   "fill <dir> [--percent N]",
		Short: "Fill the filesystem of <dir> to N % used (100: completely) with " + fillerName,
		Long: `fill writes <dir>/` + fillerName + ` until the filesystem holding <dir> is --percent
full; at 100 it writes until the disk refuses (ENOSPC). Remove the file to
free the space: kms-admin rm <dir>/` + fillerName,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !(percent > 0 && percent <= 100) { // NaN fails too
				return fmt.Errorf("--percent must be greater than 0 and at most 100, got %g", percent)
			}
			total, free, err := storage.DiskSpace(args[0])
			if err != nil {
				return err
			}
			want := int64(free)
			if percent < 100 {
				used := float64(total - free)
				want = int64(float64(total)*percent/100 - used)
			}
			if want <= 0 {
				fmt.Printf("already %.0f%% used\n", 100*(1-float64(free)/float64(total)))
				return nil
			}
			f, err := os.OpenFile(filepath.Join(args[0], fillerName), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
			if err != nil {
				return err
			}
			defer f.Close()
			buf := make([]byte, 64<<10)
			var written int64
			for written < want {
				n := int64(len(buf))
				if want-written < n {
					n = want - written
				}
				m, err := f.Write(buf[:n])
				written += int64(m)
				if err != nil {
					if storage.IsNoSpace(err) {
						break
					}
					return err
				}
			}
			_ = f.Sync()
			_, free, _ = storage.DiskSpace(args[0])
			fmt.Printf("wrote %d bytes; %.0f%% used, %d bytes free\n", written, 100*(1-float64(free)/float64(total)), free)
			return nil
		},
	}
	fill.Flags().Float64Var(&percent, "percent", 100, "target fill level in percent")

	var offset int
	flip := &cobra.Command{
		Use:   "flip <file> [--offset N]",
		Short: "Flip one byte of a file in place (default: its middle): a corrupt object whose digest no longer matches",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			if len(b) == 0 {
				return errors.New("empty file")
			}
			at := offset
			if at < 0 || at >= len(b) {
				at = len(b) / 2
			}
			b[at] ^= 0x55
			return writeKeepMode(args[0], b)
		},
	}
	flip.Flags().IntVar(&offset, "offset", -1, "byte to flip")

	corruptShare := &cobra.Command{
		Use:   "corrupt-share <FheKeyInfo file>",
		Short: "Change a key share's value and re-seal its digest: corrupt but loadable",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return reseal(args[0], material.FheKeyInfo, func(p []byte) ([]byte, error) {
				ks, digests, err := material.DecodeKeyInfo(p)
				if err != nil {
					return nil, err
				}
				ks.X = tss.G.NewScalar().Add(ks.X, tss.G.NewScalar().SetUint64(1))
				return material.EncodeKeyInfo(ks, digests)
			})
		},
	}

	scramble := &cobra.Command{
		Use:   "scramble-prss <EpochData file>",
		Short: "Replace a party's PRSS keys with random ones and re-seal: valid file, silently wrong keys",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return reseal(args[0], material.EpochData, func(p []byte) ([]byte, error) {
				e, err := material.DecodeEpoch(p)
				if err != nil {
					return nil, err
				}
				keys := e.Keys.Export()
				for s := range keys {
					var k [prss.KeyLen]byte
					rand.Read(k[:])
					keys[s] = k
				}
				nk, err := prss.NewKeys(e.Keys.EpochID, e.Keys.N, e.Keys.T, e.Keys.Party, keys)
				if err != nil {
					return nil, err
				}
				e.Keys = nk
				return material.EncodeEpoch(e)
			})
		},
	}

	forge := &cobra.Command{
		Use:   "forge-public <PublicKey file>",
		Short: "Replace public material with that of another key under the same id: public material not matching the shares",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return reseal(args[0], material.PublicKey, func(p []byte) ([]byte, error) {
				pk, err := material.DecodePublicKey(p)
				if err != nil {
					return nil, err
				}
				other, _, err := tss.Deal(rand.Reader, pk.N, pk.T)
				if err != nil {
					return nil, err
				}
				other.KeyID = pk.KeyID
				return material.EncodePublicKey(other)
			})
		},
	}

	var pid, seq int
	var like string
	crashWrite := &cobra.Command{
		Use:   "crash-write <file> --like <object> [--pid N] [--seq N]",
		Short: "Leave the temp file a write of <file> killed before its rename leaves: .<name>.partial.<pid>.<seq>, as big as <object>",
		Long: `crash-write makes, beside <file>, the temp file the party's write of <file>
leaves when the party is killed between writing it and renaming it into
place: <dir>/.<name>.partial.<pid>.<seq>, random bytes as many as <object>
holds (a key-sized write), owned like <dir>. <file> itself is not created.
It prints the temp file's path.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			size, err := os.Stat(like)
			if err != nil {
				return err
			}
			dir := filepath.Dir(args[0])
			owner, err := os.Stat(dir)
			if err != nil {
				return err
			}
			tmp := filepath.Join(dir, storage.PartialName(filepath.Base(args[0]), pid, uint64(seq)))
			b := make([]byte, size.Size())
			rand.Read(b)
			if err := os.WriteFile(tmp, b, 0o600); err != nil {
				return err
			}
			if st, ok := owner.Sys().(*syscall.Stat_t); ok {
				if err := os.Lchown(tmp, int(st.Uid), int(st.Gid)); err != nil {
					return err
				}
			}
			fmt.Println(tmp)
			return nil
		},
	}
	crashWrite.Flags().StringVar(&like, "like", "", "object whose size the temp file takes")
	crashWrite.Flags().IntVar(&pid, "pid", 1, "pid of the killed writer")
	crashWrite.Flags().IntVar(&seq, "seq", 0, "its write's sequence number")
	_ = crashWrite.MarkFlagRequired("like")

	hosts := &cobra.Command{
		Use:   "hosts (add <name> <ip> | remove <name>) [--file /etc/hosts]",
		Short: "Add or remove a name in the hosts file (a DNS record appearing or vanishing)",
		Args:  cobra.RangeArgs(2, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			file, _ := cmd.Flags().GetString("file")
			b, err := os.ReadFile(file)
			if err != nil {
				return err
			}
			var keep []string
			for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
				f := strings.Fields(l)
				if len(f) >= 2 && !strings.HasPrefix(f[0], "#") && contains(f[1:], args[1]) {
					continue
				}
				keep = append(keep, l)
			}
			switch {
			case args[0] == "add" && len(args) == 3:
				keep = append(keep, args[2]+"\t"+args[1])
			case args[0] == "remove" && len(args) == 2:
			default:
				return errors.New("usage: hosts add <name> <ip> | hosts remove <name>")
			}
			// /etc/hosts is a bind mount: rewrite in place, not by rename.
			return os.WriteFile(file, []byte(strings.Join(keep, "\n")+"\n"), 0o644)
		},
	}
	hosts.Flags().String("file", "/etc/hosts", "hosts file to edit")
	return []*cobra.Command{fill, flip, corruptShare, scramble, forge, crashWrite, hosts}
}

// reseal rewrites a stored object's payload and its digest, keeping it loadable.
func reseal(path, typ string, mutate func([]byte) ([]byte, error)) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	id := filepath.Base(path)
	payload, err := storage.Open(path, typ, id, raw)
	if err != nil {
		return err
	}
	var merr error
	out, err := storage.Reseal(raw, func([]byte) []byte {
		p, err := mutate(payload)
		merr = err
		return p
	})
	if err != nil {
		return err
	}
	if merr != nil {
		return merr
	}
	return writeKeepMode(path, out)
}

// writeKeepMode replaces a file atomically, keeping its mode and owner:
// the party must still be able to read what a fault rewrote.
func writeKeepMode(path string, b []byte) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if err := storage.WriteFileAtomic(path, b); err != nil {
		return err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		if err := os.Lchown(path, int(st.Uid), int(st.Gid)); err != nil {
			return err
		}
	}
	return os.Chmod(path, fi.Mode().Perm())
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
