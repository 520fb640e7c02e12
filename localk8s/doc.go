// Package localk8s is the local single-node Kubernetes cluster that the
// Kubernetes backend is tested on: up.sh, down.sh, leftovers.sh and
// build.sh (see README.md). Go holds only its test (localk8s_test.go)
// and the two programs it runs in images: pause and testimage.
package localk8s
