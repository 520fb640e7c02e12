package main

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

func netCommands() []*cobra.Command {
	var timeout time.Duration
	dial := &cobra.Command{
		Use:   "dial <host:port>... [--timeout 3s]",
		Short: "Test TCP connectivity, like 'nc -z -w 3 host port'",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			failed := 0
			for _, a := range args {
				start := time.Now()
				c, err := net.DialTimeout("tcp", a, timeout)
				if err != nil {
					fmt.Printf("%s: FAIL %v\n", a, err)
					failed++
					continue
				}
				c.Close()
				fmt.Printf("%s: OK (%s)\n", a, time.Since(start).Round(time.Millisecond))
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d unreachable", failed, len(args))
			}
			return nil
		},
	}
	dial.Flags().DurationVar(&timeout, "timeout", 3*time.Second, "connect timeout")

	listen := &cobra.Command{
		Use:   "listen <host:port>",
		Short: "Hold a TCP port until SIGTERM or SIGINT, like 'nc -lk host port' (another process owning the port a service needs)",
		Long: `listen binds the address, prints "listening on <host:port>", accepts and
closes every connection, and keeps the port until SIGTERM or SIGINT. A
port it cannot bind is an error naming it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := net.Listen("tcp", args[0])
			if err != nil {
				return fmt.Errorf("cannot hold %s: %w", args[0], err)
			}
			defer l.Close()
			fmt.Printf("listening on %s\n", args[0])
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					c.Close()
				}
			}()
			ch := make(chan os.Signal, 1)
			signal.Notify(ch, syscall.SIGTERM, os.Interrupt)
			<-ch
			return nil
		},
	}

	var procNet string
	ss := &cobra.Command{
		Use:   "ss [--proc /proc/net]",
		Short: "List listening TCP sockets, like 'ss -tln' (no process names, as the guide's 'ss -tuln')",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var rows []string
			for _, f := range []string{"tcp", "tcp6"} {
				fh, err := os.Open(procNet + "/" + f)
				if os.IsNotExist(err) && f == "tcp6" {
					continue // no IPv6 in this namespace
				}
				if err != nil {
					return err
				}
				r, err := listening(fh)
				fh.Close()
				if err != nil {
					return fmt.Errorf("%s/%s: %w", procNet, f, err)
				}
				rows = append(rows, r...)
			}
			sort.Strings(rows)
			fmt.Println("State   Local Address:Port")
			for _, r := range rows {
				fmt.Println("LISTEN  " + r)
			}
			return nil
		},
	}
	ss.Flags().StringVar(&procNet, "proc", "/proc/net", "where the kernel's tcp and tcp6 tables are")
	return []*cobra.Command{dial, listen, ss}
}

// listening reads a /proc/net/tcp{,6} table and returns the local
// address of every socket in state LISTEN (0A).
func listening(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	first := true
	for sc.Scan() {
		if first { // the header
			first = false
			continue
		}
		f := strings.Fields(sc.Text())
		if len(f) < 4 {
			return nil, fmt.Errorf("short line %q", sc.Text())
		}
		if f[3] != "0A" {
			continue
		}
		addr, err := procAddr(f[1])
		if err != nil {
			return nil, err
		}
		out = append(out, addr)
	}
	return out, sc.Err()
}

// procAddr decodes "0100007F:C396" (the address as the kernel stores it,
// in 32-bit words of host byte order, little-endian here) into
// 127.0.0.1:50070.
func procAddr(s string) (string, error) {
	h, p, ok := strings.Cut(s, ":")
	if !ok {
		return "", fmt.Errorf("address %q has no port", s)
	}
	raw, err := hex.DecodeString(h)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return "", fmt.Errorf("address %q: not an IPv4 or IPv6 address", s)
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return "", fmt.Errorf("address %q: port: %w", s, err)
	}
	ip := make(net.IP, len(raw))
	for w := 0; w < len(raw); w += 4 {
		for b := 0; b < 4; b++ {
			ip[w+b] = raw[w+3-b]
		}
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(int(port))), nil
}
