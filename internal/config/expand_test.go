package config

import (
	"strings"
	"testing"
	"time"
)

// scriptLaughs is a billion-laughs !Script of 1,166 bytes: three levels of
// ten-fold anchors under a 200-byte string, then the top anchor repeated as
// 200 arguments. Each argument stays under the 10,000 values one argument
// may hold, so before the bytes were bounded it was accepted with a command
// line of 41,070,900 bytes, 35,223 times the file, built in 0.6 s.
func scriptLaughs() string {
	var b strings.Builder
	b.WriteString("!Script\nscript: train\nargs: [\n")
	b.WriteString("&a [&s " + strings.Repeat("x", 200) + strings.Repeat(", *s", 9) + "],\n")
	b.WriteString("&b [*a" + strings.Repeat(", *a", 9) + "],\n")
	b.WriteString("&c [*b" + strings.Repeat(", *b", 9) + "],\n")
	b.WriteString("*c" + strings.Repeat(", *c", 199) + "]\n")
	return b.String()
}

// kwargsLaughs is scriptLaughs with the repetition in kwargs: 2,365 bytes
// that came to a command line of 40,868,072 (17,280 times) before.
func kwargsLaughs() string {
	var b strings.Builder
	b.WriteString("!Script\nscript: train\nargs: [\n")
	b.WriteString("&a [&s " + strings.Repeat("x", 200) + strings.Repeat(", *s", 9) + "],\n")
	b.WriteString("&b [*a" + strings.Repeat(", *a", 9) + "],\n")
	b.WriteString("&c [*b" + strings.Repeat(", *b", 9) + "]]\n")
	b.WriteString("kwargs: {")
	for i := range 199 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("k" + itoa3(i) + ": *c")
	}
	b.WriteString("}\n")
	return b.String()
}

// clusterLaughs repeats one 4 KiB setup command 5,000 times: 24,139 bytes
// whose setup_cmds came to 20,485,000 bytes (848 times) before, run on
// every node and printed in the plan. A cluster file has no room for
// nesting (its fields take plain values), so the ratio grows with the
// anchor instead: a 2 MiB anchor aliased from the rest of a 4 MiB file
// came to over 1 TB.
func clusterLaughs() string {
	var b strings.Builder
	b.WriteString("!LocalCluster\nname: laughs\nsetup_cmds: [&a \"echo " + strings.Repeat("x", 4091) + "\"")
	b.WriteString(strings.Repeat(", *a", 4999) + "]\n")
	return b.String()
}

func itoa3(i int) string {
	return string([]byte{byte('0' + i/100), byte('0' + i/10%10), byte('0' + i%10)})
}

// TestAliasExpansionIsBoundedInBytes refuses documents whose aliases
// expand past maxExpanded, quickly, at the alias that goes past it.
func TestAliasExpansionIsBoundedInBytes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, doc string
		cluster   bool
		at        string // line:col of the alias reported
	}{
		{"script args", scriptLaughs(), false, "7:17"},
		{"script kwargs", kwargsLaughs(), false, "7:56"},
		{"cluster setup_cmds", clusterLaughs(), true, "3:5137"},
		{"extensions document", "a: &x \"" + strings.Repeat("y", 2000) + "\"\n" + extensionAliases(600) + "---\n!Script\nscript: train\n", false, "526:8"},
		{"cluster tags", "!AWSCluster\nname: c\nfactories_num: 0\nfactories_type: t3.micro\norchestrator_type: t3.micro\ntags:\n  t0: &v \"" + strings.Repeat("v", 200) + "\"\n" + tagAliases(6000), true, "5224:10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			var err error
			if tt.cluster {
				_, err = ParseCluster("bomb.yaml", []byte(tt.doc))
			} else {
				_, err = ParseRunnable("bomb.yaml", []byte(tt.doc))
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("took %v to refuse %d bytes", took, len(tt.doc))
			}
			if err == nil {
				t.Fatalf("a %d-byte document whose aliases expand past %d bytes was accepted", len(tt.doc), maxExpanded)
			}
			msg := err.Error()
			for _, want := range []string{"bomb.yaml:" + tt.at, "1.0 MiB", "do not repeat large anchors; put the data in a file the job reads"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error does not contain %q:\n%.2000s", want, msg)
				}
			}
			if n := strings.Count(msg, "\n") + 1; n != 1 {
				t.Errorf("want one error, got %d:\n%.2000s", n, msg)
			}
			if len(msg) > 1000 {
				t.Errorf("error is %d bytes; it must not carry the expansion", len(msg))
			}
			checkErr(t, []byte(tt.doc), err)
		})
	}
}

// extensionAliases names n extensions all at the anchor *x.
func extensionAliases(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("e" + itoa3(i%1000) + string(rune('a'+i/1000)) + ": *x\n")
	}
	return b.String()
}

func tagAliases(n int) string {
	var b strings.Builder
	for i := 1; i < n; i++ {
		b.WriteString("  t" + itoa3(i%1000) + string(rune('a'+i/1000)) + ": *v\n")
	}
	return b.String()
}

// TestModestAliasesAreAccepted keeps what anchors are for: repeating a
// few lines, well under the bound.
func TestModestAliasesAreAccepted(t *testing.T) {
	t.Parallel()
	doc := "!Script\nscript: train\nargs: [&l [1, 2, 3], *l, *l]\nkwargs:\n  lr: &lr 0.001\n  warmup_lr: *lr\n"
	r, err := ParseRunnable("ok.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := "python3 -m train [1, 2, 3] [1, 2, 3] [1, 2, 3] --lr 0.001 --warmup_lr 0.001"
	if got := strings.Join(r.Script.Argv(), " "); got != want {
		t.Errorf("argv %q, want %q", got, want)
	}
	cluster := "!LocalCluster\nname: c\nsetup_cmds: [&p \"pip install -r requirements.txt\", *p]\noutputs: &o [out/*.json]\n"
	c, err := ParseCluster("ok.yaml", []byte(cluster))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.SetupCmds) != 2 || c.SetupCmds[1] != "pip install -r requirements.txt" {
		t.Errorf("setup_cmds %q", c.SetupCmds)
	}
	// Just under the bound is still read.
	under := "!LocalCluster\nname: c\nsetup_cmds: [&a \"" + strings.Repeat("x", 1000) + "\"" + strings.Repeat(", *a", maxExpanded/1002-1) + "]\n"
	if _, err := ParseCluster("ok.yaml", []byte(under)); err != nil {
		t.Errorf("%d bytes of aliases refused: %v", maxExpanded, err)
	}
}

// TestScriptCommandLineIsBounded refuses a !Script command line longer
// than maxCommandLine even when no alias makes it: the file itself is
// that long.
func TestScriptCommandLineIsBounded(t *testing.T) {
	t.Parallel()
	doc := "!Script\nscript: train\nargs:\n" + strings.Repeat("- "+strings.Repeat("z", 1000)+"\n", 1100)
	r, err := ParseRunnable("long.yaml", []byte(doc))
	if err == nil {
		t.Fatalf("accepted a command line of %d arguments", len(r.Script.Args))
	}
	for _, want := range []string{"long.yaml:3:1: this !Script's command line is 1.1 MiB, more than the 1.0 MiB", "put the data in a file the job reads"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not contain %q: %v", want, err)
		}
	}
}
