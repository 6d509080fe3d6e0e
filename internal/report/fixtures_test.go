package report

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// The runs the golden files show. Times are fixed so the output is too.

var t0 = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

const (
	headSHA  = "8f14e45fceea167a5a36dedd4bea2543bd1c7a3e"
	baseSHA  = "c9f0f895fb98ab9159f51fd0297e236d5d3a6c2b"
	logURL   = "https://github.com/acme/nlp/actions/runs/9120391/job/25000001"
	checkURL = "https://github.com/acme/nlp/runs/4000000007"
)

// phaseList builds phases that follow each other from t0.
func phaseList(steps ...any) []Phase {
	var ps []Phase
	at := t0
	for i := 0; i < len(steps); i += 3 {
		p := Phase{Name: steps[i].(string), Start: at, Duration: steps[i+1].(time.Duration)}
		switch v := steps[i+2].(type) {
		case string:
			p.Err = v
		case bool:
			p.Cleanup = v
		}
		ps = append(ps, p)
		at = at.Add(p.Duration)
	}
	return ps
}

func awsNodes(orchestrator string, factories int, factoryType string, spot bool, up time.Duration) []Node {
	nodes := []Node{{Role: "orchestrator", Name: "bert_orchestrator", Type: orchestrator, Uptime: up}}
	for i := range factories {
		nodes = append(nodes, Node{Role: "factory", Name: fmt.Sprintf("bert_factory_%d", i), Type: factoryType, Spot: spot, Uptime: up})
	}
	return nodes
}

// trainingLog is a job's log with what logs contain: colours, progress
// bars redrawn with carriage returns, backticks and markdown.
func trainingLog(n int) []string {
	lines := []string{
		"\x1b[32mINFO\x1b[0m flambe: loading experiment bert-base",
		"Downloading: 100%|██████████| 420M/420M [00:12<00:00, 34.1MB/s]\r" +
			"Downloading: 100%|██████████| 440M/440M [00:13<00:00, 33.9MB/s]",
		"```python is how a model card starts; # not a heading | not a cell <b>not bold</b> @octocat",
	}
	loss := 2.31
	for i := 1; len(lines) < n; i++ {
		loss *= 0.93
		lines = append(lines, fmt.Sprintf("epoch %d step %d loss=%.4f lr=2.0e-05 grad_norm=%.3f", (i-1)/10+1, i*100, loss, 1.5/float64(i)))
	}
	return lines[:n]
}

func curve(n int, start, rate, floor float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = floor + (start-floor)*math.Exp(-rate*float64(i))
	}
	return out
}

func rising(n int, start, top, rate float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = top - (top-start)*math.Exp(-rate*float64(i))
	}
	return out
}

var goldenRuns = map[string]Run{
	"success": {
		Runnable: "experiments/bert.yaml", Verdict: Success, Commit: headSHA, ClusterID: "sear-7f3a2c91",
		Region: "us-east-1", Started: t0, Duration: 14*time.Minute + 31*time.Second,
		Phases: phaseList("validate", 120*time.Millisecond, nil, "keys", 840*time.Millisecond, nil,
			"launch", 96*time.Second, nil, "trust", 4200*time.Millisecond, nil, "upload", 11*time.Second, nil,
			"setup", 38*time.Second, nil, "job", 11*time.Minute+2*time.Second, nil, "collect", 3*time.Second, nil,
			"teardown", 46*time.Second, true),
		Nodes: awsNodes("m5.large", 2, "g4dn.xlarge", true, 14*time.Minute+20*time.Second),
		Metrics: Metrics{
			"accuracy": Value(0.9127), "f1": Value(0.8841), "eval_seconds": Value(41.7),
			"train_loss": Series(curve(60, 2.31, 0.07, 0.21)...),
		},
		Log:      LogTail{Lines: trainingLog(40), Total: 1204},
		Links:    Links{CheckRun: checkURL, Log: logURL},
		TornDown: []string{"3 instances", "security group sg-0a1b2c3d4e5f60718", "key material"},
	},
	"config-error": {
		Runnable: "experiments/bert.yaml", Verdict: BadConfig, Commit: headSHA,
		Reason:  "2 problems in the input files; nothing was launched.",
		Started: t0, Duration: 180 * time.Millisecond,
		Phases: phaseList("validate", 180*time.Millisecond, "2 configuration errors"),
		ConfigErrors: []ConfigError{
			{File: "cluster.yaml", Line: 4, Column: 1, Message: `unknown field "factoriez"; did you mean "factories"?`, Source: "factoriez: 2"},
			{File: "experiments/bert.yaml", Line: 12, Column: 12, Message: `"!Trainr" is not a known tag; did you mean "!Trainer"?`, Source: "  trainer: !Trainr"},
		},
		Links: Links{Log: logURL},
	},
	"timeout": {
		Runnable: "experiments/bert.yaml", Verdict: TimedOut, Commit: headSHA, ClusterID: "sear-19c0ffee",
		Reason: "The run reached the cluster's max_duration of 2h0m0s; the job was stopped.",
		Region: "eu-west-1", Started: t0, Duration: 2*time.Hour + 3*time.Minute,
		Phases: phaseList("validate", 90*time.Millisecond, nil, "keys", 700*time.Millisecond, nil,
			"launch", 88*time.Second, nil, "trust", 3*time.Second, nil, "upload", 9*time.Second, nil,
			"setup", 41*time.Second, nil, "job", 117*time.Minute, "max_duration 2h0m0s reached",
			"collect", 4*time.Second, nil, "teardown", 2*time.Minute, true),
		Nodes:    awsNodes("m5.large", 4, "p3.2xlarge", false, 2*time.Hour+2*time.Minute),
		Metrics:  Metrics{"train_loss": Series(curve(35, 2.4, 0.05, 0.6)...)},
		Log:      LogTail{Lines: trainingLog(25), Total: 88113},
		Links:    Links{CheckRun: checkURL, Log: logURL},
		TornDown: []string{"5 instances"},
		Leftovers: []Leftover{{
			Resource: "security group sg-0feedfacecafe0001",
			Err:      "DependencyViolation: resource sg-0feedfacecafe0001 has a dependent object",
			Command:  "aws ec2 delete-security-group --region eu-west-1 --group-id sg-0feedfacecafe0001",
		}},
	},
	"over-budget": {
		Runnable: "experiments/bert.yaml", Verdict: OverBudget, Commit: headSHA, ClusterID: "sear-0b0dget",
		Reason: "max_cost reached (max_cost_mode: expected): the job was stopped when the cluster had cost about $5.60, " +
			"leaving room for collecting the outputs and tearing down",
		Region: "us-east-1", Started: t0, Duration: 2*time.Hour + 41*time.Minute,
		Phases: phaseList("validate", 90*time.Millisecond, nil, "keys", 700*time.Millisecond, nil,
			"launch", 61*time.Second, nil, "trust", 3*time.Second, nil, "upload", 9*time.Second, nil,
			"job", 158*time.Minute, "the job was stopped at the budget", "collect", 4*time.Second, nil, "teardown", 90*time.Second, true),
		Nodes:    awsNodes("m5.large", 2, "g5.xlarge", false, 2*time.Hour+40*time.Minute),
		Metrics:  Metrics{"train_loss": Series(curve(30, 2.1, 0.06, 0.7)...)},
		Log:      LogTail{Lines: trainingLog(12), Total: 40211},
		Links:    Links{CheckRun: checkURL, Log: logURL},
		TornDown: []string{"3 instances"},
	},
	"cancelled": {
		Runnable: "experiments/bert.yaml", Verdict: Cancelled, Commit: headSHA, ClusterID: "sear-0ddba11",
		Reason:  "The workflow run was cancelled; the cluster was torn down.",
		Started: t0, Duration: 6*time.Minute + 2*time.Second, TLSOff: true,
		Phases: phaseList("validate", 100*time.Millisecond, nil, "keys", 600*time.Millisecond, nil,
			"launch", 91*time.Second, nil, "trust", 4*time.Second, nil, "upload", 10*time.Second, nil,
			"setup", 35*time.Second, nil, "job", 3*time.Minute+12*time.Second, "context canceled",
			"teardown", 28*time.Second, true),
		Nodes:    awsNodes("t3.large", 2, "x9.superlarge", false, 6*time.Minute),
		Log:      LogTail{Lines: trainingLog(12), Total: 12},
		Links:    Links{CheckRun: checkURL, Log: logURL},
		TornDown: []string{"3 instances", "security group sg-0a1b2c3d4e5f60718"},
	},
	"huge-log": {
		Runnable: "experiments/bert.yaml", Verdict: Failure, Commit: headSHA, ClusterID: "sear-b16b00b5",
		Reason:  "The job exited with status 1.",
		Started: t0, Duration: 21 * time.Minute,
		Phases: phaseList("launch", 90*time.Second, nil, "job", 19*time.Minute, "exit status 1",
			"teardown", 30*time.Second, true),
		Nodes: []Node{{Role: "orchestrator", Name: "local_orchestrator"}, {Role: "factory", Name: "local_factory_0"}},
		Log:   LogTail{Lines: hugeLog(120), Total: 250000},
		Links: Links{CheckRun: checkURL, Log: logURL},
	},
	"curves-deltas": {
		Runnable: "experiments/bert.yaml", Verdict: Success, Commit: headSHA, ClusterID: "sear-5eed5eed",
		Region: "us-east-1", Started: t0, Duration: 9*time.Minute + 58*time.Second,
		Phases: phaseList("launch", 80*time.Second, nil, "job", 8*time.Minute, nil, "teardown", 38*time.Second, true),
		Nodes:  awsNodes("m5.large", 1, "g5.xlarge", false, 9*time.Minute+50*time.Second),
		Metrics: Metrics{
			"accuracy":   Value(0.9127),
			"f1":         Value(0.8841),
			"perplexity": Value(7.3),
			"train_loss": Series(curve(120, 2.31, 0.045, 0.19)...),
			"val_acc":    Series(rising(24, 0.41, 0.915, 0.18)...),
			"throughput": Value(1843),
		},
		Base: &Baseline{Commit: baseSHA, URL: "https://github.com/acme/nlp/runs/3999999001", Metrics: Metrics{
			"accuracy": Value(0.9011), "f1": Value(0.8841), "perplexity": Value(7.9),
			"train_loss": Value(0.2244), "val_acc": Value(0.902), "bleu": Value(31.2),
		}},
		Log:      LogTail{Lines: trainingLog(8), Total: 8},
		Links:    Links{CheckRun: checkURL, Log: logURL},
		TornDown: []string{"2 instances", "security group sg-0a1b2c3d4e5f60718"},
	},
	"in-progress": {
		Runnable: "experiments/bert.yaml", Verdict: Running, Commit: headSHA, ClusterID: "sear-7f3a2c91",
		Started: t0, Duration: 2*time.Minute + 9*time.Second,
		Phases: append(phaseList("validate", 120*time.Millisecond, nil, "keys", 840*time.Millisecond, nil,
			"launch", 96*time.Second, nil), Phase{Name: "trust", Start: t0.Add(97 * time.Second), Running: true}),
		Nodes: awsNodes("m5.large", 2, "g4dn.xlarge", true, 0),
		Links: Links{Log: logURL},
	},
}

// hugeLog is n lines of about 1,500 bytes: a job that prints whole batches.
func hugeLog(n int) []string {
	lines := make([]string, n)
	for i := range lines {
		var b strings.Builder
		fmt.Fprintf(&b, "step %d batch=[", i)
		for j := 0; b.Len() < 1500; j++ {
			fmt.Fprintf(&b, "%d, ", (i*7919+j*104729)%100000)
		}
		b.WriteString("] ``````` end")
		lines[i] = b.String()
	}
	return lines
}
