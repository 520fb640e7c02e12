package runbook

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Load reads and validates a runbook file.
func Load(path string) (*Runbook, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, raw)
}

// Parse decodes a runbook strictly (unknown keys are errors) and validates
// it; name is the file it came from, for the messages.
func Parse(name string, raw []byte) (*Runbook, error) {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	var rb Runbook
	if err := dec.Decode(&rb); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty runbook", name)
		}
		return nil, fmt.Errorf("%s: %s", name, atSteps(raw, err))
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: one runbook per file: a second YAML document follows", name)
	}
	rb.Source = name
	if err := rb.Validate(); err != nil {
		return nil, err
	}
	return &rb, nil
}

var lineRef = regexp.MustCompile(`line (\d+): `)

// atSteps names the step of each line a decoding error points at, so that
// a type error reads like a validation error: line 9: step 2 "Stop": ...
func atSteps(raw []byte, err error) string {
	steps := stepNodes(raw)
	return lineRef.ReplaceAllStringFunc(err.Error(), func(ref string) string {
		line, _ := strconv.Atoi(lineRef.FindStringSubmatch(ref)[1])
		for k := len(steps) - 1; k >= 0; k-- {
			if steps[k].Line <= line {
				return fmt.Sprintf("%sstep %d %q: ", ref, k+1, nameOf(steps[k]))
			}
		}
		return ref
	})
}

// stepNodes are the YAML nodes of a runbook's steps, as far as it is a
// mapping with a list of steps.
func stepNodes(raw []byte) []*yaml.Node {
	var root yaml.Node
	if yaml.Unmarshal(raw, &root) != nil || len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	var steps []*yaml.Node
	doc := root.Content[0].Content
	for k := 0; k+1 < len(doc); k += 2 {
		if doc[k].Value == "steps" && doc[k+1].Kind == yaml.SequenceNode {
			steps = doc[k+1].Content
		}
	}
	return steps
}

// nameOf is a step node's name, "" if it has none.
func nameOf(step *yaml.Node) string {
	name := ""
	if step.Kind == yaml.MappingNode {
		for j := 0; j+1 < len(step.Content); j += 2 {
			if step.Content[j].Value == "name" {
				name = step.Content[j+1].Value
			}
		}
	}
	return name
}
