package alerts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/kmschaos/kmschaos/internal/promtest"
)

// run runs promtool in dir and fails the test with its output unless it
// exits 0.
func run(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command(promtest.Tool(t, "promtool"), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// ruleFile is the part of a rules file these tests read.
type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func TestRulesAreValid(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "kms.rules.yml"), Rules, 0o644); err != nil {
		t.Fatal(err)
	}
	// Syntax, expressions, and the annotations' templates.
	run(t, dir, "check", "rules", "kms.rules.yml")
}

// TestAlertsFireWhenThePagesSay runs testdata/kms.rules_test.yml: each
// alert fires on its synthetic series at the time its for: says, and not
// on the series just under its threshold. The rules are the embedded ones
// with their annotations taken off, because promtool compares an alert's
// annotations too and the test would otherwise repeat each text.
func TestAlertsFireWhenThePagesSay(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal(Rules, &doc); err != nil {
		t.Fatal(err)
	}
	stripAnnotations(&doc)
	stripped, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile(filepath.Join("testdata", "kms.rules_test.yml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, b := range map[string][]byte{"kms.rules.yml": stripped, "kms.rules_test.yml": tests} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run(t, dir, "test", "rules", "kms.rules_test.yml")
}

// stripAnnotations removes every "annotations" key of a rule.
func stripAnnotations(n *yaml.Node) {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "annotations" {
				n.Content = append(n.Content[:i], n.Content[i+2:]...)
				i -= 2
			}
		}
	}
	for _, c := range n.Content {
		stripAnnotations(c)
	}
}

// TestEveryAlertIsTestedAndSaysWhereItComesFrom holds the rules to what
// docs/alerts.md promises an operator: a severity, a summary and a
// description to act on, the page it comes from, the signal it reads,
// whose threshold it is; and holds the unit tests to every alert.
func TestEveryAlertIsTestedAndSaysWhereItComesFrom(t *testing.T) {
	var f ruleFile
	if err := yaml.Unmarshal(Rules, &f); err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile(filepath.Join("testdata", "kms.rules_test.yml"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			n++
			if r.Alert == "" {
				t.Errorf("group %s: a rule that is not an alert", g.Name)
				continue
			}
			if s := r.Labels["severity"]; s != "critical" && s != "warning" {
				t.Errorf("%s: severity %q, want critical or warning", r.Alert, s)
			}
			for _, k := range []string{"summary", "description", "source", "signal", "threshold"} {
				if strings.TrimSpace(r.Annotations[k]) == "" {
					t.Errorf("%s: no %s annotation", r.Alert, k)
				}
			}
			if !strings.HasPrefix(r.Annotations["source"], "docs/operations/") {
				t.Errorf("%s: source %q does not name a page of the real KMS's docs/operations", r.Alert, r.Annotations["source"])
			}
			if !strings.Contains(string(tests), "alertname: "+r.Alert+"\n") {
				t.Errorf("%s: no case in testdata/kms.rules_test.yml", r.Alert)
			}
		}
	}
	if n == 0 {
		t.Fatal("no rules in kms.rules.yml")
	}
}
