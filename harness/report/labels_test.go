package report

import (
	"strings"
	"testing"
	"time"
)

// A labelled lane's instants carry their label beside them, except one
// that would overlap the label before it (its hover text still has it);
// another lane's instants are labelled on hover only.
func TestTimelineLabelsInstantsWithoutOverlap(t *testing.T) {
	svg := string(Timeline{Label: "x", Span: 100 * time.Second, Lanes: []Lane{LanePlayers, LaneProbes}, Labelled: []Lane{LanePlayers},
		Events: []Event{
			{At: 10 * time.Second, Lane: LanePlayers, Label: "✗ pause p4", Status: Fail},
			{At: 11 * time.Second, Lane: LanePlayers, Label: "✓ kill p1", Status: OK},
			{At: 50 * time.Second, Lane: LanePlayers, Label: "✓ memory p3", Status: OK},
			{At: 20 * time.Second, Lane: LaneProbes, Label: "a probe", Status: OK},
		}}.SVG())
	var labels []string
	for _, part := range strings.Split(svg, `<text class="mark-label"`)[1:] {
		labels = append(labels, part[strings.Index(part, ">")+1:strings.Index(part, "</text>")])
	}
	if strings.Join(labels, "|") != "✗ pause p4|✓ memory p3" {
		t.Errorf("labels %q, want the first and the third (the second would overlap the first)", labels)
	}
	if !strings.Contains(svg, "<title>✓ kill p1 [ok]") {
		t.Error("the unlabelled instant lost its hover text")
	}
}
