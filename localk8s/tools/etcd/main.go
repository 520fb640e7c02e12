// Command etcd is etcd's own server main, built from the pinned release
// modules: etcd's repository has no go-installable main at a module
// path, so this wrapper module names the versions (go.mod) and calls it.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
