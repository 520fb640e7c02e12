package trends

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"os"
	"path/filepath"

	"github.com/kmschaos/kmschaos/harness/report"
	"github.com/kmschaos/kmschaos/harness/results"
)

// The page is one file that opens offline: the scorecard's CSS and this
// page's own are inline, the charts are inline SVG, there is no script.
//
//go:embed page.tmpl
var pageText string

//go:embed page.css
var pageCSS string

var pageTmpl = template.Must(template.New("trends").Funcs(report.Funcs()).Funcs(template.FuncMap{
	"css":    func() template.CSS { return template.CSS(pageCSS) },
	"labels": func(r RunRow) string { return results.FormatLabels(r.Labels) },
	"pct":    func(f float64) string { return fmt.Sprintf("%.1f", 100*f) },
}).Parse(pageText))

// Write renders the page and writes it at path, creating its folder.
func Write(path string, p Page) error {
	var buf bytes.Buffer
	// Render first so a template error leaves no half-written page behind.
	if err := pageTmpl.Execute(&buf, p); err != nil {
		return fmt.Errorf("trends: render HTML: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
