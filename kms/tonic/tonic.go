// Package tonic words gRPC errors as the real party's Rust stack (tonic)
// prints them: a code's description in log lines and in kms-init's
// panics, a Status's Debug form, a transport error's. What the real
// tools show an operator, so that ours show no more.
package tonic

import (
	"errors"
	"fmt"
	"net"
	"syscall"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Description is tonic's Code::description, which its Display prints.
func Description(c codes.Code) string { return descriptions[c] }

// descriptions are tonic's descriptions of the gRPC codes
// (Code::description), which its Display prints: what the real party's
// log lines say for a code.
var descriptions = map[codes.Code]string{
	codes.OK:                 "The operation completed successfully",
	codes.Canceled:           "The operation was cancelled",
	codes.Unknown:            "Unknown error",
	codes.InvalidArgument:    "Client specified an invalid argument",
	codes.DeadlineExceeded:   "Deadline expired before operation could complete",
	codes.NotFound:           "Some requested entity was not found",
	codes.AlreadyExists:      "Some entity that we attempted to create already exists",
	codes.PermissionDenied:   "The caller does not have permission to execute the specified operation",
	codes.ResourceExhausted:  "Some resource has been exhausted",
	codes.FailedPrecondition: "The system is not in a state required for the operation's execution",
	codes.Aborted:            "The operation was aborted",
	codes.OutOfRange:         "Operation was attempted past the valid range",
	codes.Unimplemented:      "Operation is not implemented or not supported",
	codes.Internal:           "Internal error",
	codes.Unavailable:        "The service is currently unavailable",
	codes.DataLoss:           "Unrecoverable data loss or corruption",
	codes.Unauthenticated:    "The request does not have valid authentication credentials",
}

// names are the codes as tonic's Debug of a Code spells them.
var names = map[codes.Code]string{
	codes.OK: "Ok", codes.Canceled: "Cancelled", codes.Unknown: "Unknown",
	codes.InvalidArgument: "InvalidArgument", codes.DeadlineExceeded: "DeadlineExceeded",
	codes.NotFound: "NotFound", codes.AlreadyExists: "AlreadyExists",
	codes.PermissionDenied: "PermissionDenied", codes.ResourceExhausted: "ResourceExhausted",
	codes.FailedPrecondition: "FailedPrecondition", codes.Aborted: "Aborted",
	codes.OutOfRange: "OutOfRange", codes.Unimplemented: "Unimplemented",
	codes.Internal: "Internal", codes.Unavailable: "Unavailable",
	codes.DataLoss: "DataLoss", codes.Unauthenticated: "Unauthenticated",
}

// StatusDebug is a gRPC error as tonic's Debug of a Status prints it (the
// response's metadata left out).
func StatusDebug(err error) string {
	st := status.Convert(err)
	return fmt.Sprintf("Status { code: %s, message: %q, source: None }", names[st.Code()], st.Message())
}

// TransportError is a failed connection as tonic's Debug of its
// transport error prints it: the cause, never the address.
func TransportError(err error) string {
	var dns *net.DNSError
	switch {
	case errors.As(err, &dns):
		return `tonic::transport::Error(Transport, ConnectError("dns error", Custom { kind: Uncategorized, error: "failed to lookup address information: Name or service not known" }))`
	case errors.Is(err, syscall.ECONNREFUSED):
		return `tonic::transport::Error(Transport, ConnectError("tcp connect error", Os { code: 111, kind: ConnectionRefused, message: "Connection refused" }))`
	case errors.Is(err, syscall.EHOSTUNREACH):
		return `tonic::transport::Error(Transport, ConnectError("tcp connect error", Os { code: 113, kind: HostUnreachable, message: "No route to host" }))`
	default:
		return `tonic::transport::Error(Transport, ConnectError("tcp connect error", Os { code: 110, kind: TimedOut, message: "Connection timed out" }))`
	}
}

// Name is a code as tonic's Debug of a Code spells it.
func Name(c codes.Code) string { return names[c] }
