package main

import (
	"bytes"
	"net"
	"strings"
	"testing"
	"time"
)

func TestNoAddressesIsAUsageError(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(nil, &out, &errb, time.Millisecond); code != 2 {
		t.Fatalf("exit %d, want 2; stderr %q", code, errb.String())
	}
	if !strings.Contains(errb.String(), "--addresses <ADDRESSES>") {
		t.Fatalf("stderr %q does not name the missing flag", errb.String())
	}
}

// The real kms-init unwraps tonic's connect: an unreachable core is a
// panic whose message names the cause, not the address.
func TestAnUnreachableCoreIsAPanicNamingNoAddress(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close() // nothing listens there now
	var out, errb bytes.Buffer
	if code := run([]string{"-a", "http://" + addr}, &out, &errb, time.Millisecond); code != 1 {
		t.Fatalf("exit %d, want 1; stderr %q", code, errb.String())
	}
	want := "thread 'tokio-runtime-worker' panicked at core/service/src/bin/kms-init.rs:43:18:\ncalled `Result::unwrap()` on an `Err` value: tonic::transport::Error(Transport, ConnectError(\"tcp connect error\", Os { code: 111, kind: ConnectionRefused, message: \"Connection refused\" }))\n"
	if !strings.Contains(errb.String(), want) || !strings.Contains(errb.String(), "Error: JoinError::Panic(Id(1), ") {
		t.Fatalf("stderr:\n%s\nwant the panic:\n%s", errb.String(), want)
	}
	if strings.Contains(errb.String(), addr) || out.Len() != 0 {
		t.Fatalf("the address or progress was printed: stdout %q stderr %q", out.String(), errb.String())
	}
}
