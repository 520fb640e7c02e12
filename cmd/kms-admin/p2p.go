package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	p2pv1 "github.com/kmschaos/kmschaos/proto/p2p/v1"
)

// p2pCommands hold what an outsider on the cluster network can try against
// a party's party-to-party port.
func p2pCommands() []*cobra.Command {
	var identity string
	var timeout time.Duration
	c := &cobra.Command{
		Use:   "p2p-intrude <host:port>",
		Short: "Ask a party for decryption shares as a non-party: without TLS, with TLS but no certificate, with a self-made certificate",
		Long: `p2p-intrude calls the party-to-party DecryptShare of the party at
<host:port> the way a host on the cluster network that is not a party could:
in plaintext, over TLS without a client certificate, and over TLS with a
self-made certificate whose CN is --identity (a party's mpc_identity). It
prints one line per attempt, "refused" or "SERVED", and exits 1 if any
attempt was answered by the service: a party must refuse all three.`,
		Example: "  kms-admin p2p-intrude kms-party-3:50001 --identity kms-party-1",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			selfMade, err := selfSigned(identity)
			if err != nil {
				return err
			}
			attempts := []struct {
				name  string
				creds credentials.TransportCredentials
			}{
				{"plaintext", insecure.NewCredentials()},
				{"TLS without a certificate", credentials.NewTLS(&tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13})},
				{"TLS with a self-made certificate (CN " + identity + ")", credentials.NewTLS(&tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{selfMade}})},
			}
			served := 0
			for _, a := range attempts {
				err := intrude(args[0], a.creds, timeout)
				if err == nil {
					served++
					fmt.Printf("%s: SERVED\n", a.name)
					continue
				}
				fmt.Printf("%s: refused: %s\n", a.name, err)
			}
			if served > 0 {
				return fmt.Errorf("%d of %d attempts were served", served, len(attempts))
			}
			return nil
		},
	}
	c.Flags().StringVar(&identity, "identity", "kms-party-1", "CN of the self-made certificate")
	c.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "bound of each attempt")
	return []*cobra.Command{c}
}

// intrude makes one DecryptShare call; nil when the service answered it
// (even with an error of its own, such as an unknown key): the caller got
// through. A transport failure (the handshake refused) is returned.
func intrude(addr string, creds credentials.TransportCredentials, timeout time.Duration) error {
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_, err = p2pv1.NewPeerClient(conn).DecryptShare(ctx, &p2pv1.ShareRequest{From: 1, SessionId: "intruder", KeyId: "0000000000000000000000000000000000000000000000000000000000000000"})
	st, ok := status.FromError(err)
	if err == nil || (ok && st.Code() != codes.Unavailable && st.Code() != codes.DeadlineExceeded && st.Code() != codes.Unauthenticated) {
		return nil
	}
	return fmt.Errorf("%s: %s", st.Code(), st.Message())
}

func selfSigned(cn string) (tls.Certificate, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, DNSNames: []string{cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k}, nil
}
