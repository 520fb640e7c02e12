package main

import (
	"fmt"
	"net"
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
	return []*cobra.Command{dial}
}
