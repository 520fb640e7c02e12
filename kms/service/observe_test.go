package service

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kmschaos/kmschaos/kms/metrics"
)

// A failed operation is counted under the real party's error label (the
// snake-case tag of its gRPC code, "other" with its warning for a code the
// real mapping lacks), not under Go's name of the code.
func TestOperationErrorsCarryTheRealLabels(t *testing.T) {
	var logs bytes.Buffer
	s := &Service{metrics: metrics.New(1), log: slog.New(slog.NewTextHandler(&logs, nil))}
	for _, err := range []error{
		status.Error(codes.ResourceExhausted, "x"),
		status.Error(codes.Internal, "x"),
		status.Error(codes.NotFound, "x"),
		status.Error(codes.DeadlineExceeded, "x"),
		errors.New("not a status"),
	} {
		s.observe(opPublicDecrypt, time.Now(), err)
	}
	for tag, want := range map[string]float64{"resource_exhausted": 1, "internal_error": 1, "not_found": 1, "other": 2, "unknown": 0, "ResourceExhausted": 0} {
		if got := testutil.ToFloat64(s.metrics.Errors.WithLabelValues(opPublicDecrypt, tag)); got != want {
			t.Errorf("kms_operation_errors_total{error=%q} = %v, want %v", tag, got, want)
		}
	}
	// A plain error is Unknown to gRPC, which the real mapping counts as
	// "other" too: two warnings, each naming the code as tonic does.
	for _, w := range []string{"Unexcepted grpc error code: Deadline expired before operation could complete. Counted as other",
		"Unexcepted grpc error code: Unknown error. Counted as other"} {
		if !strings.Contains(logs.String(), w) {
			t.Errorf("log lacks %q:\n%s", w, logs.String())
		}
	}
}
