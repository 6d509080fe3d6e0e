package plan_test

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sear-ci/sear/internal/plan"
)

// TestWarningsGolden keeps what sear plan warns about before anything costs
// money, one cluster file of testdata/warnings per warning, as text and
// JSON: an engine, Flambé or pip with no way onto the image, an accelerator
// without its driver, factories that would idle, a max_duration past the
// hosted runner's limit. A cluster file whose name starts with
// "experiment" is planned with an !Experiment, the others with a !Script.
//
//	go test ./internal/plan -run WarningsGolden -update
func TestWarningsGolden(t *testing.T) {
	// quiet are the files that show what needs no warning: apt installing
	// the engine, a GPU type on the GPU image sear picks.
	quiet := map[string]bool{"dask-apt": true, "gpu-default-image": true}
	files, _ := filepath.Glob("testdata/warnings/*.yaml")
	planned := 0
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		if name == "script" || name == "experiment" {
			continue
		}
		planned++
		t.Run(name, func(t *testing.T) {
			runnable := "testdata/warnings/script.yaml"
			if strings.HasPrefix(name, "experiment") {
				runnable = "testdata/warnings/experiment.yaml"
			}
			p := plan.Make(plan.Input{Runnable: loadRunnable(t, runnable), Cluster: loadCluster(t, f), Repository: "OWNER/REPO"})
			var text, js bytes.Buffer
			if err := p.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			if err := p.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			// The warnings and what they are about; the policies have
			// their own golden files.
			var keep []string
			for _, line := range strings.Split(text.String(), "\n") {
				if strings.HasPrefix(line, "warning: ") || strings.HasPrefix(line, "note: ") || strings.HasPrefix(line, "  node ") || strings.HasPrefix(line, "  runs on ") {
					keep = append(keep, line)
				}
			}
			golden(t, "testdata/golden/warnings/"+name+".txt", []byte(strings.Join(keep, "\n")+"\n"))
			var got struct{ Warnings []string }
			if err := json.Unmarshal(js.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if strings.Join(got.Warnings, "\n") != strings.Join(p.Warnings, "\n") || len(p.Warnings) == 0 && !quiet[name] {
				t.Errorf("JSON warnings %q, text warnings %q; want the same, and some", got.Warnings, p.Warnings)
			}
		})
	}
	if planned < 10 {
		t.Fatalf("planned %d cluster files of testdata/warnings", planned)
	}
}
