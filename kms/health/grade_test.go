package health

import "testing"

func TestGradeThirteen(t *testing.T) {
	want := map[int]string{13: "Optimal", 12: "Healthy", 9: "Healthy", 8: "Degraded", 6: "Degraded", 5: "Unhealthy", 1: "Unhealthy"}
	for r, w := range want {
		if got := Name(Grade(13, r)); got != w {
			t.Errorf("13 parties, %d reachable: %s, want %s", r, got, w)
		}
	}
	if ThresholdRequired(13) != 5 || MinHealthy(13) != 9 {
		t.Fatal("thresholds for n=13")
	}
	for r, w := range map[int]string{4: "Optimal", 3: "Healthy", 2: "Unhealthy"} {
		if got := Name(Grade(4, r)); got != w {
			t.Errorf("4 parties, %d reachable: %s, want %s", r, got, w)
		}
	}
}
