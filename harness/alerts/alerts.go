// Package alerts holds the alerts the real KMS's operations pages name
// (docs/operations/emergency-procedures.md "Critical Monitoring Alerts",
// docs/operations/advanced/metrics.md's Alarm lines) as a Prometheus rules
// file, embedded so that a Prometheus the harness starts can load it as
// written. What each alert reads, and which of the pages' alerts have no
// metric to read, is in docs/alerts.md.
package alerts

import _ "embed"

// Rules is kms.rules.yml, a Prometheus rules file (groups of alerting
// rules), as shipped.
//
//go:embed kms.rules.yml
var Rules []byte
