package service

import (
	"time"

	"google.golang.org/grpc/status"
)

// Operation names used in metrics.
const (
	opPublicDecrypt = "public_decrypt"
	opDecryptShare  = "decrypt_share"
	opNewEpoch      = "new_mpc_epoch"
	opHealth        = "health_status"
	opKeyMaterial   = "key_material"
)

// observe counts one operation and its outcome.
func (s *Service) observe(op string, start time.Time, err error) {
	s.metrics.Operations.WithLabelValues(op).Inc()
	s.metrics.Duration.WithLabelValues(op).Observe(float64(time.Since(start).Microseconds()) / 1000)
	if err != nil {
		s.metrics.Errors.WithLabelValues(op, status.Code(err).String()).Inc()
	}
}
