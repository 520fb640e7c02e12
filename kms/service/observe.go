package service

import (
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kmschaos/kmschaos/kms/tonic"
)

// Operation names used in metrics: the real party's
// (observability/src/metrics_names.rs). It counts no health status call and
// no party-to-party call, so neither does this one.
const (
	opPublicDecrypt = "public_decrypt_request"
	opNewEpoch      = "new_mpc_epoch"
	opDestroyEpoch  = "destroy_mpc_epoch"
	// Counted by the real party; named here only in refusals (metriced).
	opGetEpochResult = "get_mpc_epoch_result"
	opKeyMaterial    = "key_material_availability"
)

// observe counts one operation and its outcome.
func (s *Service) observe(op string, start time.Time, err error) {
	s.metrics.Operations.WithLabelValues(op).Inc()
	s.metrics.Duration.WithLabelValues(op).Observe(float64(time.Since(start).Microseconds()) / 1000)
	if err != nil {
		s.metrics.Errors.WithLabelValues(op, s.errTag(status.Code(err))).Inc()
	}
}

// errTags are the error label values of kms_operation_errors_total, as the
// real party maps gRPC codes to them (observability/src/metrics_names.rs,
// map_tonic_code_to_metric_err_tag).
var errTags = map[codes.Code]string{
	codes.FailedPrecondition: "failed_precondition",
	codes.ResourceExhausted:  "resource_exhausted",
	codes.Canceled:           "cancelled",
	codes.InvalidArgument:    "invalid_argument",
	codes.Aborted:            "aborted",
	codes.AlreadyExists:      "already_exists",
	codes.NotFound:           "not_found",
	codes.Internal:           "internal_error",
	codes.Unavailable:        "unavailable",
}

// errTag is the error label of a failed operation: any other code counts
// as "other", with the real party's warning (its typo included).
func (s *Service) errTag(c codes.Code) string {
	if tag, ok := errTags[c]; ok {
		return tag
	}
	s.log.Warn(fmt.Sprintf("Unexcepted grpc error code: %s. Counted as other", tonic.Description(c)))
	return "other"
}
