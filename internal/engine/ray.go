package engine

import (
	"fmt"
)

// ray is a Ray cluster started with `ray start`: the head on the
// orchestrator, a worker node on every factory. Ray is not in the test
// world's image, so these commands are checked by golden tests only.
type ray struct{}

func (ray) name() string     { return "ray" }
func (ray) defaultPort() int { return DefaultRayPort }

// setup puts pip --user's scripts on PATH: that is where `pip install ray`
// without root puts the ray command, and a non-login SSH command's PATH
// lacks it.
func (ray) setup() string { return `PATH="$HOME/.local/bin:$PATH"` }

func (ray) address(e *Engine) string { return hostPort(e.opts.Nodes[0].IP, e.opts.Port) }

// env is read by every Ray process and by ray.init() in the job: with
// RAY_ADDRESS, ray.init() joins this cluster instead of starting one;
// with RAY_USE_TLS, every gRPC channel is mutual TLS with these files.
// Usage statistics are off: a node sends nothing outside the cluster.
func (r ray) env(e *Engine, rank int) map[string]string {
	env := map[string]string{"RAY_ADDRESS": r.address(e), "RAY_USAGE_STATS_ENABLED": "0", "RAY_USE_TLS": "0"}
	if e.opts.TLS {
		tls := e.opts.Nodes[rank].TLS
		env["RAY_USE_TLS"] = "1"
		env["RAY_TLS_CA_CERT"] = tls.CA
		env["RAY_TLS_SERVER_CERT"] = tls.Cert
		env["RAY_TLS_SERVER_KEY"] = tls.Key
	}
	return env
}

func (ray) preflight() preflight {
	return preflight{
		// The job's python3 must import ray too: the ready check and
		// the job's ray.init() run there.
		check:  "command -v ray > /dev/null && python3 -c 'import ray'",
		silent: "no ray command on PATH or in ~/.local/bin",
		fix:    "add `setup: {}` to the cluster file (sear installs ray[default]==" + RayVersion + " in a venv on every node), or use an AMI with it",
	}
}

// daemons run `ray start --block`: without --block, ray start returns and
// leaves Ray's processes behind with no pid to stop them by; with it, the
// process stays, leads the session, and ends Ray's processes when it is
// signalled. The dashboard is off (plain HTTP, unauthenticated). With
// factories the head offers no CPUs or GPUs, so tasks run on the
// factories, as Dask's do, and the orchestrator keeps its resources for
// the job's driver.
func (r ray) daemons(e *Engine, rank int) []daemon {
	n := e.opts.Nodes[rank]
	if rank == 0 {
		argv := []string{"ray", "start", "--head", "--node-ip-address=" + n.IP, fmt.Sprintf("--port=%d", e.opts.Port),
			"--include-dashboard=false", "--block"}
		if len(e.opts.Nodes) > 1 {
			argv = append(argv, "--num-cpus=0", "--num-gpus=0")
		} else {
			argv = append(argv, r.cpus(e)...)
		}
		return []daemon{{role: "head", argv: argv, up: `grep -q 'Ray runtime started' "$d/head.log"`}}
	}
	argv := []string{"ray", "start", "--address=" + r.address(e), "--node-ip-address=" + n.IP, "--block"}
	return []daemon{{role: "worker", argv: append(argv, r.cpus(e)...)}}
}

func (ray) cpus(e *Engine) []string {
	if e.opts.Threads > 0 {
		return []string{fmt.Sprintf("--num-cpus=%d", e.opts.Threads)}
	}
	return nil
}

// want counts Ray nodes, the head included: every one must have joined.
func (ray) want(e *Engine) int { return len(e.opts.Nodes) }
func (ray) wantRanks(e *Engine) []int {
	ranks := make([]int, len(e.opts.Nodes))
	for i := range ranks {
		ranks[i] = i
	}
	return ranks
}

// readyProgram connects as the job will, with ray.init() and no address.
func (ray) readyProgram() string {
	return `import json, os, sys, time
import ray

want, timeout = int(sys.argv[1]), float(sys.argv[2])
deadline = time.monotonic() + timeout
ray.init(logging_level="ERROR")
while True:
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    if len(nodes) >= want or time.monotonic() >= deadline:
        break
    time.sleep(0.5)
workers = [
    {"address": "%s:%s" % (n["NodeManagerAddress"], n.get("NodeManagerPort", "")), "name": n.get("NodeName", ""),
     "host": n["NodeManagerAddress"], "threads": int(n.get("Resources", {}).get("CPU", 0))}
    for n in nodes
]
json.dump({"address": os.environ["RAY_ADDRESS"], "workers": workers}, sys.stdout)
sys.exit(0 if len(workers) >= want else 3)
`
}
