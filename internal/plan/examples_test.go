package plan_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/plan"
)

// fakeDistributed stands in for Dask's distributed package, which the test
// machine need not have: a Client whose map runs on this process, so the
// example's own code (reading its data, writing its outputs) runs as it
// would on the cluster.
const fakeDistributed = `class Client:
    def scheduler_info(self):
        return {"workers": {"tls://10.0.0.2:1": {}, "tls://10.0.0.3:1": {}}}
    def scatter(self, data):
        return list(data)
    def map(self, fn, *seqs, pure=True, **kwargs):
        return [fn(*args, **kwargs) for args in zip(*seqs)]
    def gather(self, futures):
        return list(futures)
`

// TestExamplesWriteWhatTheyCollect runs each !Script example's command, as
// sear runs it on the orchestrator, in a copy of its directory, and checks
// that the data it reads is there, that every outputs glob of its cluster
// file matches something it wrote, and that metrics.json lands in
// SEAR_OUTPUT_DIR. An example that collects nothing teaches nothing.
func TestExamplesWriteWhatTheyCollect(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal("python3 is needed to run the examples (scripts/test installs it)")
	}
	fake := t.TempDir()
	os.Mkdir(filepath.Join(fake, "distributed"), 0o755)
	os.WriteFile(filepath.Join(fake, "distributed", "__init__.py"), []byte(fakeDistributed), 0o644)
	dirs, _ := filepath.Glob("../../examples/*")
	ran := 0
	for _, dir := range dirs {
		r, c := loadRunnable(t, dir+"/runnable.yaml"), loadCluster(t, dir+"/cluster.yaml")
		if r.Kind != config.KindScript {
			continue // Flambé is not installed here
		}
		ran++
		t.Run(filepath.Base(dir), func(t *testing.T) {
			work, out := t.TempDir(), t.TempDir()
			if err := os.CopyFS(work, os.DirFS(dir)); err != nil {
				t.Fatal(err)
			}
			argv := plan.Command(r)
			for i, a := range argv {
				argv[i] = strings.ReplaceAll(a, "$SEAR_OUTPUT_DIR", out)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, python, argv[1:]...)
			cmd.Dir = work
			cmd.Env = append(os.Environ(), "SEAR_OUTPUT_DIR="+out, "PYTHONPATH="+fake+string(os.PathListSeparator)+work)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, b)
			}
			for _, g := range c.Outputs {
				m, err := filepath.Glob(filepath.Join(work, strings.TrimSuffix(g, "/**")))
				if err != nil || len(m) == 0 {
					t.Errorf("%s: outputs pattern %q matches nothing the job wrote (%v)", c.File, g, err)
				}
			}
			if _, err := os.Stat(filepath.Join(out, "metrics.json")); err != nil {
				t.Errorf("the job wrote no metrics.json in SEAR_OUTPUT_DIR: %v", err)
			}
		})
	}
	if ran < 2 {
		t.Errorf("ran %d !Script examples, want the quickstart and the script", ran)
	}
}
