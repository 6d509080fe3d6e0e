package runner

import (
	"fmt"
	"os"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Manifest is what the runner reads from a Docker action's action.yml.
type Manifest struct {
	// Inputs in the order action.yml declares them.
	Inputs []Input
	// Image is runs.image: "Dockerfile" for sear.
	Image string
	// Entrypoint and PostEntrypoint are runs.entrypoint and runs.post-entrypoint: what the
	// runner passes to docker run --entrypoint for the main and the post step.
	Entrypoint, PostEntrypoint string
	// Args are runs.args, passed after the image (none for sear).
	Args []string
}

// Input is one declared input.
type Input struct {
	Name     string
	Default  string // unevaluated: it may hold ${{ github.* }} expressions
	Required bool
}

// actionYAML is action.yml's shape, as far as a Docker action's runner reads it.
type actionYAML struct {
	Inputs yaml.Node `yaml:"inputs"`
	Runs   struct {
		Using          string   `yaml:"using"`
		Image          string   `yaml:"image"`
		Entrypoint     string   `yaml:"entrypoint"`
		PostEntrypoint string   `yaml:"post-entrypoint"`
		Args           []string `yaml:"args"`
	} `yaml:"runs"`
}

// ReadManifest reads a Docker action's action.yml.
func ReadManifest(path string) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the action's metadata: %w", err)
	}
	m, err := parseManifest(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

func parseManifest(data []byte) (*Manifest, error) {
	var a actionYAML
	if err := yaml.Unmarshal(data, &a); err != nil {
		return nil, err
	}
	if a.Runs.Using != "docker" {
		return nil, fmt.Errorf("runs.using is %q; this harness runs Docker actions only", a.Runs.Using)
	}
	m := &Manifest{Image: a.Runs.Image, Entrypoint: a.Runs.Entrypoint, PostEntrypoint: a.Runs.PostEntrypoint, Args: a.Runs.Args}
	// A mapping node keeps the declaration order, which a map would lose.
	if a.Inputs.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(a.Inputs.Content); i += 2 {
			var in struct {
				Default  string `yaml:"default"`
				Required bool   `yaml:"required"`
			}
			if err := a.Inputs.Content[i+1].Decode(&in); err != nil {
				return nil, fmt.Errorf("input %q: %w", a.Inputs.Content[i].Value, err)
			}
			m.Inputs = append(m.Inputs, Input{Name: a.Inputs.Content[i].Value, Default: in.Default, Required: in.Required})
		}
	}
	return m, nil
}

// InputVariable is the environment variable an input arrives in: INPUT_ and the name upper-cased
// with spaces made underscores, hyphens kept, as the runner's ActionRunner makes it
// ("aws-role-arn" arrives as INPUT_AWS-ROLE-ARN).
func InputVariable(name string) string {
	return "INPUT_" + strings.ToUpper(strings.ReplaceAll(name, " ", "_"))
}

// expression is a ${{ ... }} in an input's default.
var expression = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)

// evaluate expands the ${{ github.<name> }} expressions of an input's default with the job's
// github context, the only context the runner lets a default use that sear's defaults need.
// Anything else is an error rather than a silently wrong value.
func evaluate(s string, github map[string]string) (string, error) {
	var errs []string
	out := expression.ReplaceAllStringFunc(s, func(m string) string {
		expr := expression.FindStringSubmatch(m)[1]
		name, ok := strings.CutPrefix(expr, "github.")
		if v, known := github[name]; ok && known {
			return v
		}
		errs = append(errs, expr)
		return m
	})
	if len(errs) > 0 {
		return "", fmt.Errorf("default %q: the harness cannot evaluate %s (it knows github.* of the job's context)", s, strings.Join(errs, ", "))
	}
	return out, nil
}
