package engine

import (
	"fmt"
	"path"
)

// dask is Dask's distributed scheduler and workers, as Debian bookworm's
// python3-distributed 2022.12.1 ships them and as later releases keep them.
type dask struct{}

func (dask) name() string     { return "dask" }
func (dask) defaultPort() int { return DefaultDaskPort }
func (dask) setup() string    { return "" }

func (dask) scheme(e *Engine) string {
	if e.opts.TLS {
		return "tls"
	}
	return "tcp"
}

func (d dask) address(e *Engine) string {
	return d.scheme(e) + "://" + hostPort(e.opts.Nodes[0].IP, e.opts.Port)
}

// env names Dask's own configuration variables: dask.config reads
// DASK_<KEY>__<SUBKEY> for distributed.comm.tls.ca-file and the rest
// (distributed-schema.yaml; "_" and "-" are the same in a key), and
// Client() with no address takes scheduler-address. Values go through
// ast.literal_eval, so True is Python's True.
func (d dask) env(e *Engine, rank int) map[string]string {
	env := map[string]string{"DASK_SCHEDULER_ADDRESS": d.address(e)}
	if !e.opts.TLS {
		env["DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION"] = "False"
		return env
	}
	tls := e.opts.Nodes[rank].TLS
	env["DASK_DISTRIBUTED__COMM__DEFAULT_SCHEME"] = "tls"
	env["DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION"] = "True"
	env["DASK_DISTRIBUTED__COMM__TLS__CA_FILE"] = tls.CA
	env["DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT"] = tls.Cert
	env["DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY"] = tls.Key
	return env
}

func (dask) preflight() preflight {
	return preflight{
		check: "python3 -c 'import distributed'",
		fix:   "add `setup: {}` to the cluster file (sear installs distributed==" + DistributedVersion + " in a venv on every node), or use an AMI with it",
	}
}

// daemons start through `python3 -m`, not the dask-scheduler and
// dask-worker scripts: the module belongs to the python3 that the
// preflight and the job use, whereas pip --user puts the scripts in
// ~/.local/bin, which a non-login SSH command's PATH lacks, and
// distributed 2022.12 warns that the scripts are deprecated.
func (d dask) daemons(e *Engine, rank int) []daemon {
	var ds []daemon
	if rank == 0 {
		ds = append(ds, d.scheduler(e))
	}
	for _, r := range e.workerRanks() {
		if r == rank {
			ds = append(ds, d.worker(e, rank))
		}
	}
	return ds
}

func (d dask) scheduler(e *Engine) daemon {
	n := e.opts.Nodes[0]
	// The scheduler writes its scheduler file once it listens: the start
	// waits for that rather than for a line of its log.
	argv := []string{"python3", "-m", "distributed.cli.dask_scheduler",
		"--protocol", d.scheme(e), "--host", n.IP, "--port", fmt.Sprint(e.opts.Port)}
	argv = append(argv, noDashboard...)
	argv = append(argv, "--scheduler-file", path.Join(n.Dir, "scheduler.json"))
	argv = append(argv, d.tlsArgs(e, n)...)
	return daemon{role: "scheduler", argv: argv, clean: []string{"scheduler.json"}, up: `[ -s "$d/scheduler.json" ]`}
}

// worker listens on the node's private address only, where its
// certificate's IP SAN points, and keeps its spill files in the engine
// directory rather than a /tmp that local nodes share.
func (d dask) worker(e *Engine, rank int) daemon {
	n := e.opts.Nodes[rank]
	argv := []string{"python3", "-m", "distributed.cli.dask_worker", d.address(e),
		"--protocol", d.scheme(e), "--host", n.IP, "--name", n.Name,
		"--nworkers", fmt.Sprint(e.opts.Workers)}
	if e.opts.Threads > 0 {
		argv = append(argv, "--nthreads", fmt.Sprint(e.opts.Threads))
	}
	argv = append(argv, noDashboard...)
	argv = append(argv, "--local-directory", n.Dir)
	argv = append(argv, d.tlsArgs(e, n)...)
	return daemon{role: "worker", argv: argv}
}

// noDashboard turns the dashboard off and binds the HTTP server that
// every scheduler and worker runs anyway (health, Prometheus metrics, and
// on the scheduler pages and JSON about the cluster's workers and tasks) to
// loopback: it is plain HTTP without authentication, and would otherwise
// listen on the node's address (port 8787 on the scheduler), outside the
// TLS that protects everything else. Port 0: local nodes share loopback.
var noDashboard = []string{"--no-dashboard", "--dashboard-address", "127.0.0.1:0"}

// tlsArgs are the daemon's own certificate. require_encryption comes from
// the environment (env): the command line has no flag for it.
func (dask) tlsArgs(e *Engine, n Node) []string {
	if !e.opts.TLS {
		return nil
	}
	return []string{"--tls-ca-file", n.TLS.CA, "--tls-cert", n.TLS.Cert, "--tls-key", n.TLS.Key}
}

func (dask) want(e *Engine) int        { return e.opts.Workers * len(e.workerRanks()) }
func (dask) wantRanks(e *Engine) []int { return e.workerRanks() }

// readyProgram connects as the job will, with Client() and no arguments,
// so a job environment that does not work fails here, with the engine's
// own error, before the job starts. The scheduler serves already, so the
// connection gets 30 seconds, not the whole wait: a TLS error shows at
// once rather than after retries until the ready timeout.
func (dask) readyProgram() string {
	return `import json, sys, time
from distributed import Client

want, timeout = int(sys.argv[1]), float(sys.argv[2])
deadline = time.monotonic() + timeout
with Client(timeout=min(timeout, 30)) as client:
    while True:
        info = client.scheduler_info()
        if len(info["workers"]) >= want or time.monotonic() >= deadline:
            break
        time.sleep(0.2)
workers = [
    {"address": a, "name": str(w.get("name", "")), "host": w.get("host", ""), "threads": w.get("nthreads", 0)}
    for a, w in sorted(info["workers"].items())
]
json.dump({"address": info["address"], "workers": workers}, sys.stdout)
sys.exit(0 if len(workers) >= want else 3)
`
}
