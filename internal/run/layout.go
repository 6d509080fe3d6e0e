package run

import (
	"fmt"
	"maps"
	"path"
	"strings"

	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/config"
)

// layout is where a run's files live on one node.
type layout struct {
	Work   string // the uploaded workspace, the job's working directory
	Job    string // the job's log, pid and exit status
	Output string // SEAR_OUTPUT_DIR, brought back after the job
	// Checkpoint is SEAR_CHECKPOINT_DIR: where a job saves what it needs
	// to resume. The orchestrator's is saved after a spot interruption
	// and restored on the on-demand retry (spot_retry).
	Checkpoint string
	TLS        string // the node's certificate and key, and the cluster CA
	Secrets    string // the INI, on a RAM-backed file system, mode 0600
}

func newLayout(n cloud.Node, clusterID string) layout {
	base := path.Join(n.Home, "sear")
	return layout{
		Work:       path.Join(base, "work"),
		Job:        path.Join(base, "job"),
		Output:     path.Join(base, "output"),
		Checkpoint: path.Join(base, "checkpoint"),
		TLS:        path.Join(n.Home, ".sear", "tls"),
		// /dev/shm is tmpfs on every Linux the nodes run: the secrets
		// never reach a disk. The rank keeps local nodes, which share
		// this machine, apart.
		Secrets: fmt.Sprintf("/dev/shm/%s-%d/secrets.ini", clusterID, n.Rank),
	}
}

// env is what every command on node n sees (docs/design.md, "The job
// environment").
// None of it is secret: the INI travels as a file, never in a variable.
func (st *state) env(n cloud.Node) map[string]string {
	l := st.layout[n.Rank]
	var factories []string
	for _, m := range st.nodes {
		if m.Role == cloud.Factory {
			factories = append(factories, m.PrivateIP)
		}
	}
	env := map[string]string{
		"SEAR_CLUSTER_ID":     st.keys.ID,
		"SEAR_ROLE":           string(n.Role),
		"SEAR_RANK":           fmt.Sprint(n.Rank),
		"SEAR_NUM_NODES":      fmt.Sprint(len(st.nodes)),
		"SEAR_GPUS":           fmt.Sprint(n.GPUs), // this node's NVIDIA GPUs, from DescribeInstanceTypes
		"SEAR_ORCHESTRATOR":   st.nodes[0].PrivateIP,
		"SEAR_FACTORIES":      strings.Join(factories, ","),
		"SEAR_SECRETS":        l.Secrets,
		"SEAR_OUTPUT_DIR":     l.Output,
		"SEAR_CHECKPOINT_DIR": l.Checkpoint,
		"SEAR_TLS_CA":         path.Join(l.TLS, "ca.pem"),
		"SEAR_TLS_CERT":       path.Join(l.TLS, "node.pem"),
		"SEAR_TLS_KEY":        path.Join(l.TLS, "node-key.pem"),
		"PYTHONUNBUFFERED":    "1",
		"PYTHONPATH":          l.Work,
	}
	maps.Copy(env, st.engineEnv(n)) // DASK_SCHEDULER_ADDRESS and Dask's TLS settings, or Ray's
	if n.Rank < len(st.paths) && st.paths[n.Rank] != "" {
		// The bootstrap's venv, as its activate script would set it: its python3 is the
		// one the engine, the setup commands and the job run.
		env["PATH"] = st.paths[n.Rank]
		env["VIRTUAL_ENV"] = st.venv(n)
	}
	if !st.opts.Cluster.TLS {
		delete(env, "SEAR_TLS_CERT")
		delete(env, "SEAR_TLS_KEY")
	}
	return env
}

// command is the job's argv on the orchestrator.
func (st *state) command() []string {
	if st.opts.Command != "" {
		return []string{"sh", "-c", st.opts.Command}
	}
	r := st.opts.Runnable
	if r.Kind == config.KindScript {
		argv := r.Script.Argv()
		for i, a := range argv {
			argv[i] = strings.ReplaceAll(a, "$SEAR_OUTPUT_DIR", st.layout[0].Output)
		}
		return argv
	}
	cmd := []string{"flambe", uploadedRunnable, "--secrets", st.layout[0].Secrets}
	if len(r.Extensions) > 0 {
		cmd = append(cmd, "-i")
	}
	return cmd
}

// launcher is the program the job's command needs on the orchestrator,
// checked before anything runs; "" when there is nothing to check (a
// command given by the user runs with the node's shell).
func (st *state) launcher() string {
	switch {
	case st.opts.Command != "":
		return ""
	case st.opts.Runnable.Kind == config.KindFlambe:
		return "flambe"
	}
	return "python3"
}
