// Command kms-admin is the small toolbox of the shell-less party image:
// what an operator runs inside a container (list, copy, chmod, digest,
// connectivity, restore a tree byte for byte) and what fault injection needs (fill a disk, corrupt an
// object, forge key material, edit /etc/hosts).
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	if err := newRoot().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "kms-admin:", err)
		os.Exit(1)
	}
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "kms-admin <command>",
		Short: "File, storage and network toolbox for the shell-less KMS party image",
		Long: `kms-admin stands in for the shell tools a FROM scratch image lacks.

Operator commands follow their coreutils namesakes (ls, cat, cp, rm, mkdir,
chmod, chown, df, sha256sum); mirror restores a tree with its owners and
modes like 'rsync -a --delete'; dial tests a TCP port like 'nc -z', ss
lists the listening ones like 'ss -tln', listen holds one like 'nc -lk'. Fault
commands change storage the way real incidents do: fill, flip,
corrupt-share, scramble-prss, forge-public, crash-write, hosts. hold keeps a container
alive (the storage keeper) until SIGTERM.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(fileCommands()...)
	root.AddCommand(faultCommands()...)
	root.AddCommand(netCommands()...)
	root.AddCommand(p2pCommands()...)
	root.AddCommand(runAsCommand())
	return root
}
