// Package health holds the grading rules of a party's view of its cluster,
// shared by the server and the health-check tool.
package health

import kmsv1 "github.com/kmschaos/kmschaos/proto/kms/v1"

// ThresholdRequired is n/3+1, the nodes threshold operations need.
func ThresholdRequired(n int) int { return n/3 + 1 }

// MinHealthy is 2n/3+1, a two-thirds majority.
func MinHealthy(n int) int { return 2*n/3 + 1 }

// Grade rates a party that reaches `reachable` nodes (itself included) out
// of n: Optimal when all, Healthy from a 2/3 majority, Degraded above the
// threshold, Unhealthy otherwise. For n=13: 13, 9-12, 6-8, <=5.
func Grade(n, reachable int) kmsv1.HealthStatus {
	switch {
	case reachable >= n:
		return kmsv1.HealthStatus_HEALTH_STATUS_OPTIMAL
	case reachable >= MinHealthy(n):
		return kmsv1.HealthStatus_HEALTH_STATUS_HEALTHY
	case reachable > ThresholdRequired(n):
		return kmsv1.HealthStatus_HEALTH_STATUS_DEGRADED
	default:
		return kmsv1.HealthStatus_HEALTH_STATUS_UNHEALTHY
	}
}

// Name is the word operators read: Optimal, Healthy, Degraded, Unhealthy.
func Name(s kmsv1.HealthStatus) string {
	switch s {
	case kmsv1.HealthStatus_HEALTH_STATUS_OPTIMAL:
		return "Optimal"
	case kmsv1.HealthStatus_HEALTH_STATUS_HEALTHY:
		return "Healthy"
	case kmsv1.HealthStatus_HEALTH_STATUS_DEGRADED:
		return "Degraded"
	case kmsv1.HealthStatus_HEALTH_STATUS_UNHEALTHY:
		return "Unhealthy"
	}
	return "Unknown"
}
