package run

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/remote"
	"github.com/sear-ci/sear/internal/shell"
)

// benchReps is how many rounds a benchmark of this file takes, each
// trying every tool in turn, so that the machine's noise falls on all of
// them alike: SEAR_BENCH_REPS, default 5.
func benchReps(b *testing.B) int {
	if s := os.Getenv("SEAR_BENCH_REPS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("SEAR_BENCH_REPS=%q: want a positive number", s)
		}
		return n
	}
	return 5
}

// BenchmarkUploadVersusTools sends a tree of one 512 MiB file and 20,000
// small ones to a container instance of the test world, first to an empty
// directory and then again unchanged, with sear's upload, with tar piped
// into OpenSSH and with rsync over OpenSSH, all through the same counting
// relay (the same link). It reports medians of time and bytes on the wire.
// scripts/bench/upload installs rsync and runs it:
//
//	go test ./internal/run -run '^$' -bench UploadVersusTools -benchtime 1x -timeout 60m
func BenchmarkUploadVersusTools(b *testing.B) {
	if _, err := exec.LookPath("rsync"); err != nil {
		b.Fatal("rsync is not installed here; scripts/bench/upload installs it")
	}
	rig := newUploadRig(b, containerProvider(b), "!AWSCluster\nname: bench\nfactories_num: 0\nfactories_type: t3.small\norchestrator_type: t3.small\nready_timeout: 3m\n")
	files, size := makeBenchTree(b, rig.ws)
	b.Logf("tree: %d files, %s", files, byteSize(size))
	ssh := openSSHArgs(b, rig)
	home := rig.st.nodes[0].Home
	tarDir, rsyncDir := path.Join(home, "bench-tar"), path.Join(home, "bench-rsync")
	ws := rig.ws + "/"
	tools := []benchTool{
		{name: "sear", dir: rig.st.layout[0].Work, send: func() error { return upload(context.Background(), rig.st) }},
		{name: "sear without survey", dir: rig.st.layout[0].Work, once: true, send: func() error { return uploadWhole(rig) }},
		{name: "tar | ssh", dir: tarDir, send: func() error {
			script := `set -o pipefail; tar -C "$1" -cf - . | ssh "${@:3}" "mkdir -p $2 && tar -xpf - -C $2"`
			return run(exec.Command("bash", append([]string{"-c", script, "bash", ws, tarDir}, ssh...)...))
		}},
		{name: "rsync -e ssh", dir: rsyncDir, send: func() error {
			return run(exec.Command("rsync", "-a", "--delete", "-e", "ssh "+strings.Join(ssh[:len(ssh)-1], " "), ws, ssh[len(ssh)-1]+":"+rsyncDir+"/"))
		}},
	}
	res := benchResults{}
	b.ResetTimer()
	for rep := range benchReps(b) {
		for k := range tools {
			t := tools[(k+rep)%len(tools)] // a different order each round
			rig.clear(b, t.dir)
			res.add(t.name+", first", rig.measure(b, t.send))
			if t.once {
				continue
			}
			res.add(t.name+", unchanged", rig.measure(b, t.send))
			if t.name != "tar | ssh" { // for tar, it is the same as unchanged
				// A fresh checkout of the same tree: new times, same
				// contents. rsync and sear both compare contents then.
				touchTree(b, rig.ws, time.Now().Add(-10*time.Minute))
				res.add(t.name+", new times", rig.measure(b, t.send))
			}
		}
	}
	b.StopTimer()
	res.report(b)
	res.ratio(b, "sear, first", "tar | ssh, first")
	res.ratio(b, "sear, first", "rsync -e ssh, first")
	res.ratio(b, "sear, first", "sear without survey, first")
	res.ratio(b, "sear, unchanged", "tar | ssh, unchanged")
	res.ratio(b, "sear, unchanged", "rsync -e ssh, unchanged")
	res.ratio(b, "sear, new times", "rsync -e ssh, new times")
}

// touchTree gives every file under dir the time when.
func touchTree(b *testing.B, dir string, when time.Time) {
	b.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		return os.Chtimes(p, when, when)
	})
	if err != nil {
		b.Fatal(err)
	}
}

// benchTool is one way of sending the tree to dir on the node.
type benchTool struct {
	name string
	dir  string
	once bool // first upload only
	send func() error
}

// measure times send and counts the bytes it put on the wire.
func (r *uploadRig) measure(b *testing.B, send func() error) sample {
	b.Helper()
	before := r.counters[0].sent.Load()
	start := time.Now()
	if err := send(); err != nil {
		b.Fatal(err)
	}
	return sample{time.Since(start), r.counters[0].sent.Load() - before}
}

// clear removes dir on the node, outside any measurement.
func (r *uploadRig) clear(b *testing.B, dir string) {
	b.Helper()
	if err := r.st.conns[0].Run(context.Background(), "rm -rf -- "+shell.Quote(dir), remote.RunOptions{}); err != nil {
		b.Fatal(err)
	}
}

// uploadWhole is the upload as it was before the survey: the whole tree
// in one tar stream written straight into the session, no question asked
// first.
func uploadWhole(r *uploadRig) error {
	entries, err := r.st.uploadEntries()
	if err != nil {
		return err
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeTar(pw, entries)) }()
	err = r.st.conns[0].Upload(context.Background(), r.st.layout[0].Work, pr)
	pr.CloseWithError(err)
	return err
}

// makeBenchTree writes one 512 MiB file and 20,000 files of 200 to 4,200
// bytes in 200 directories, all of incompressible content, an hour old.
func makeBenchTree(b *testing.B, dir string) (files int, size int64) {
	b.Helper()
	rng := rand.NewChaCha8([32]byte{1})
	big, err := os.Create(filepath.Join(dir, "model.bin"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.CopyN(big, rng, 512<<20); err != nil {
		b.Fatal(err)
	}
	if err := big.Close(); err != nil {
		b.Fatal(err)
	}
	files, size = 1, 512<<20
	defer touchTree(b, dir, time.Now().Add(-time.Hour)) // not just edited: see vouchedByTime
	sizes := rand.New(rand.NewPCG(1, 2))
	for d := range 200 {
		sub := filepath.Join(dir, "src", fmt.Sprintf("pkg%03d", d))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			b.Fatal(err)
		}
		for f := range 100 {
			data := make([]byte, 200+sizes.IntN(4001))
			rng.Read(data)
			if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("mod%03d.py", f)), data, 0o644); err != nil {
				b.Fatal(err)
			}
			files++
			size += int64(len(data))
		}
	}
	return files, size
}

// openSSHArgs are OpenSSH's arguments to reach the node through the
// rig's relay with sear's own client key and the node's pinned host key,
// ending with user@host: the same link and the same trust as sear's.
func openSSHArgs(b *testing.B, r *uploadRig) []string {
	b.Helper()
	dir := b.TempDir()
	key, err := r.st.keys.Client.PrivatePEM()
	if err != nil {
		b.Fatal(err)
	}
	hostKey := r.st.keys.Nodes[0].ActiveHostKey().AuthorizedKey()
	if err := os.WriteFile(filepath.Join(dir, "id"), key, 0o600); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "known_hosts"), []byte("bench-node "+hostKey+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	n := r.st.nodes[0]
	host, port, _ := strings.Cut(n.SSHAddr, ":")
	return []string{"-F", "/dev/null", "-i", filepath.Join(dir, "id"), "-p", port,
		"-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "HostKeyAlias=bench-node",
		"-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=" + filepath.Join(dir, "known_hosts"),
		"-o", "GlobalKnownHostsFile=/dev/null", "-o", "HostKeyAlgorithms=ssh-ed25519", n.User + "@" + host}
}

func run(cmd *exec.Cmd) error {
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w\n%s", cmd.Args[0], err, out)
	}
	return nil
}

// sample is one measurement.
type sample struct {
	took  time.Duration
	bytes int64
}

// benchResults are the samples of each variant, in the order first seen.
type benchResults struct {
	order   []string
	samples map[string][]sample
}

func (r *benchResults) add(name string, s sample) {
	if r.samples == nil {
		r.samples = map[string][]sample{}
	}
	if _, ok := r.samples[name]; !ok {
		r.order = append(r.order, name)
	}
	r.samples[name] = append(r.samples[name], s)
}

// median is the median time and bytes of a variant.
func (r *benchResults) median(name string) (time.Duration, int64) {
	ss := r.samples[name]
	times := make([]time.Duration, len(ss))
	bytes := make([]int64, len(ss))
	for i, s := range ss {
		times[i], bytes[i] = s.took, s.bytes
	}
	slices.Sort(times)
	slices.Sort(bytes)
	return times[len(times)/2], bytes[len(bytes)/2]
}

func (r *benchResults) report(b *testing.B) {
	var t strings.Builder
	fmt.Fprintf(&t, "\n| variant | median time | spread | median bytes on the wire | every time |\n|---|---|---|---|---|\n")
	for _, name := range r.order {
		med, bytes := r.median(name)
		ss := r.samples[name]
		lo, hi := ss[0].took, ss[0].took
		for _, s := range ss {
			lo, hi = min(lo, s.took), max(hi, s.took)
		}
		var each []string
		for _, s := range ss {
			each = append(each, s.took.Round(10*time.Millisecond).String())
		}
		fmt.Fprintf(&t, "| %s | %s | %s–%s | %s | %s |\n", name, med.Round(time.Millisecond), lo.Round(time.Millisecond), hi.Round(time.Millisecond), byteSize(bytes), strings.Join(each, " "))
		unit := strings.NewReplacer(" | ", "-", " -e ", "-", ", ", "-", " ", "-").Replace(name)
		b.ReportMetric(med.Seconds(), unit+"-s")
	}
	// Printed, not logged: the testing package cuts a benchmark's log
	// short.
	fmt.Print(t.String())
}

func (r *benchResults) ratio(b *testing.B, a, c string) {
	ta, ba := r.median(a)
	tc, bc := r.median(c)
	fmt.Printf("%s / %s: time %.2f×, bytes %.4f×\n", a, c, ta.Seconds()/tc.Seconds(), float64(ba)/float64(bc))
}

// BenchmarkSurveyEmptyNode is what the survey adds to a first upload: one
// round trip to a container instance whose workspace directory does not
// exist yet.
//
//	go test ./internal/run -run '^$' -bench SurveyEmptyNode -count 5
func BenchmarkSurveyEmptyNode(b *testing.B) {
	rig := newUploadRig(b, containerProvider(b), "!AWSCluster\nname: survey\nfactories_num: 0\nfactories_type: t3.small\norchestrator_type: t3.small\nready_timeout: 3m\n")
	writeFile(b, rig.ws, "job.py", []byte("print('hi')\n"), 0o644)
	entries, err := rig.st.uploadEntries()
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		tree, err := rig.st.survey(context.Background(), rig.st.nodes[0], entries)
		if err != nil || len(tree.files) != 0 {
			b.Fatalf("survey of an empty node: %v, %d files", err, len(tree.files))
		}
	}
}
