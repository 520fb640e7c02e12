// Command testimage is the workload of the local cluster's test
// (localk8s_test.go), run from a FROM-scratch image:
//
//	testimage            serve HTTP on :8080, answering "hello from HOSTNAME"
//	testimage get URL    resolve URL's host, print its addresses, GET it, print the body
//
// get is what a second pod runs (kubectl exec) to prove that CoreDNS
// resolves Service names and that kube-proxy routes a ClusterIP.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "get" {
		if err := get(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "testimage get:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: testimage [get URL]")
		os.Exit(2)
	}
	serve()
}

func serve() {
	host, _ := os.Hostname()
	fmt.Printf("testimage: %s serving on :8080\n", host)
	http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "hello from %s\n", host)
	})
	srv := &http.Server{Addr: ":8080", ReadHeaderTimeout: 5 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "testimage:", err)
		os.Exit(1)
	}
}

// get prints "resolved HOST: ADDR,ADDR" then the body of one GET.
func get(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, u.Hostname())
	if err != nil {
		return err
	}
	sort.Strings(addrs)
	fmt.Printf("resolved %s: %s\n", u.Hostname(), strings.Join(addrs, ","))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", raw, resp.Status)
	}
	fmt.Print(string(body))
	return nil
}
