package secrets

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/secrets")

// goldenDir holds an example secrets JSON and the INI it becomes.
var goldenDir = filepath.Join("..", "..", "testdata", "secrets")

func TestGolden(t *testing.T) {
	t.Parallel()
	input, err := os.ReadFile(filepath.Join(goldenDir, "example.json"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := Convert(input, Options{})
	if err != nil {
		t.Fatal(err)
	}
	iniPath := filepath.Join(goldenDir, "example.ini")
	if *update {
		if err := os.WriteFile(iniPath, f.INI, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(iniPath)
	if err != nil {
		t.Fatal(err)
	}
	if string(f.INI) != string(want) {
		t.Errorf("INI differs from %s (run go test -run TestGolden -update to accept):\ngot:\n%s\nwant:\n%s", iniPath, f.INI, want)
	}
	assertReadsBack(t, f, expectedRead(t, input))
}
