package config

import (
	"path/filepath"
	"testing"
)

// BenchmarkLoadExamples parses and validates every example's runnable and
// cluster file, as sear plan does before anything else.
func BenchmarkLoadExamples(b *testing.B) {
	dirs, _ := filepath.Glob("../../examples/*")
	if len(dirs) == 0 {
		b.Fatal("no examples")
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, d := range dirs {
			if _, err := LoadRunnable(filepath.Join(d, "runnable.yaml")); err != nil {
				b.Fatal(err)
			}
			if _, err := LoadCluster(filepath.Join(d, "cluster.yaml")); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkParseExperiment isolates the largest example, held in memory.
func BenchmarkParseExperiment(b *testing.B) {
	src, err := readSource("../../examples/flambe-experiment/runnable.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src.data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseRunnable("runnable.yaml", src.data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkYAMLOnly is the floor: yaml.v3 decoding the same bytes into
// nodes with no validation, to show what sear's checks cost on top.
func BenchmarkYAMLOnly(b *testing.B) {
	src, err := readSource("../../examples/flambe-experiment/runnable.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src.data)))
	b.ReportAllocs()
	for b.Loop() {
		s := &source{name: "runnable.yaml", data: src.data}
		if _, ok := s.documents(); !ok {
			b.Fatal(s.errs)
		}
	}
}
