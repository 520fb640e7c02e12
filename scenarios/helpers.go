package scenarios

import "context"

// bg is the context probes capture their starting point with (a restart
// count, a metric's value) when a plan is built.
var bg = context.Background()
