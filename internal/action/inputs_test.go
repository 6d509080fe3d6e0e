package action

import (
	"errors"
	"strings"
	"testing"
)

// inputsEnv is a runner's environment with the step's required inputs and, by
// their names in action.yml, the given ones.
func inputsEnv(inputs map[string]string) Getenv {
	vars := map[string]string{"INPUT_RUNNABLE": "r.yaml", "INPUT_CLUSTER": "c.yaml"}
	for name, v := range inputs {
		vars["INPUT_"+strings.ToUpper(name)] = v
	}
	return func(k string) string { return vars[k] }
}

// Threat: sear writes what the job (a pull request's code) produces into
// output-dir. As `.` the outputs replace the repository's files that later
// steps run; inside .git (in any case: macOS and Windows runners fold it)
// an output becomes a hook that git runs; outside the workspace it reaches
// the runner's own files. Defence: such an output-dir is refused.
func TestOutputDirRefusals(t *testing.T) {
	t.Parallel()
	for dir, want := range map[string]string{
		".": "the workspace itself", "./": "the workspace itself", "a/..": "the workspace itself",
		".git/hooks": "inside .git", "sub/.GIT": "inside .git", ".git": "inside .git", "x/Git~1/y": "inside .git", ".git./hooks": "inside .git",
		"../x": "leaves the workspace", "a/../../b": "leaves the workspace", "..": "leaves the workspace",
		"/abs": "give a path relative to the workspace", "/github/workspace/out": "give a path relative to the workspace",
	} {
		_, err := ReadStepInputs(inputsEnv(map[string]string{"output-dir": dir}))
		var ie *InputError
		if !errors.As(err, &ie) || len(ie.Problems) != 1 || !strings.Contains(ie.Problems[0], "`output-dir`") || !strings.Contains(ie.Problems[0], want) {
			t.Errorf("output-dir %q: %v, want a problem that says %q", dir, err, want)
		}
	}
	for dir, want := range map[string]string{"": "sear-output", "./results/": "results", "out/.github": "out/.github", "a/.gitignore": "a/.gitignore", "x.git": "x.git"} {
		in, err := ReadStepInputs(inputsEnv(map[string]string{"output-dir": dir}))
		if err != nil || in.OutputDir != want {
			t.Errorf("output-dir %q: %q, %v; want %q", dir, in.OutputDir, err, want)
		}
	}
}

func TestMaxOutputInputs(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]int64{
		"500MB": 500e6, "2GiB": 2 << 30, "1073741824": 1 << 30, "1.5 GB": 1.5e9, "10kib": 10240, "7B": 7, "1TiB": 1 << 40,
	} {
		in, err := ReadStepInputs(inputsEnv(map[string]string{"max-output-bytes": s}))
		if err != nil || in.MaxOutputBytes != want {
			t.Errorf("max-output-bytes %q: %d, %v; want %d", s, in.MaxOutputBytes, err, want)
		}
	}
	in, err := ReadStepInputs(inputsEnv(map[string]string{"max-output-files": "250"}))
	if err != nil || in.MaxOutputFiles != 250 || in.MaxOutputBytes != 0 {
		t.Errorf("%+v, %v", in, err)
	}
	// Every problem at once, each naming its input and the fix.
	_, err = ReadStepInputs(inputsEnv(map[string]string{"max-output-bytes": "2 gigs", "max-output-files": "-3", "output-dir": ".git"}))
	var ie *InputError
	if !errors.As(err, &ie) || len(ie.Problems) != 3 {
		t.Fatalf("err %v, want three problems", err)
	}
	for i, want := range []string{"`output-dir` is \".git\"", "`max-output-bytes` is \"2 gigs\"; give a size such as `500MB`", "`max-output-files` is \"-3\"; give a whole number"} {
		if !strings.Contains(ie.Problems[i], want) {
			t.Errorf("problem %d: %s, want %s", i, ie.Problems[i], want)
		}
	}
	for _, bad := range []string{"0", "MB", "1.2.3GB", "5PB", "99999999999TB", "-1", "0.1"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q): no error", bad)
		}
	}
}

// TestMaxCostInput: max-cost is a positive number of US dollars; a
// currency sign, a code, zero or a slip into the millions is refused with
// what to write.
func TestMaxCostInput(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]float64{"": 0, "25": 25, "7.50": 7.5, "0.3": 0.3} {
		in, err := ReadStepInputs(inputsEnv(map[string]string{"max-cost": s}))
		if err != nil || in.MaxCost != want {
			t.Errorf("max-cost %q: %v, %v; want %v", s, in.MaxCost, err, want)
		}
	}
	for _, s := range []string{"$25", "25 USD", "0", "-4", "NaN", "Inf", "2000000", "twenty"} {
		_, err := ReadStepInputs(inputsEnv(map[string]string{"max-cost": s}))
		var ie *InputError
		if !errors.As(err, &ie) || len(ie.Problems) != 1 || !strings.Contains(ie.Problems[0], "`max-cost` is \""+s+"\"; give a positive number of US dollars, without a currency sign") {
			t.Errorf("max-cost %q: %v", s, err)
		}
	}
}
