package report

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// WriteFiles writes the scorecard into dir as scorecard.txt,
// scorecard.json and report.html, and returns their paths: what the suite
// and `kmschaos run` both write.
func (r *Run) WriteFiles(dir string) ([]string, error) {
	text, js, html := filepath.Join(dir, "scorecard.txt"), filepath.Join(dir, "scorecard.json"), filepath.Join(dir, "report.html")
	if err := r.WriteJSON(js); err != nil {
		return nil, err
	}
	if err := r.WriteHTML(html); err != nil {
		return nil, err
	}
	if err := r.WriteTextFile(text); err != nil {
		return nil, err
	}
	return []string{text, js, html}, nil
}

// Machine describes this host for a run's scorecard: name, cores, memory,
// platform and Go version.
func Machine() string {
	host, _ := os.Hostname()
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int
		_, _ = fmt.Sscanf(strings.TrimPrefix(strings.SplitN(string(b), "\n", 2)[0], "MemTotal:"), "%d", &kb)
		mem = fmt.Sprintf(", %.0f GiB", float64(kb)/(1<<20))
	}
	return fmt.Sprintf("%s: %d cores%s, %s/%s, %s", host, runtime.NumCPU(), mem, runtime.GOOS, runtime.GOARCH, runtime.Version())
}
