// Package engine starts a distributed engine, Dask or Ray, on a cluster's
// nodes, with the cluster's TLS material, and stops it again.
//
// Dask: a scheduler on the orchestrator and a worker on every factory; with
// no factories the orchestrator runs a worker too, since a scheduler without
// workers would leave every computation of the job pending for ever. Ray: the
// head on the orchestrator (with no CPUs or GPUs of its own when there are
// factories, so that tasks run where Dask's would) and a worker on every
// factory. Every daemon runs detached, in a session of its own, so a dropped
// SSH connection does not end it; its log and pid file are in the node's
// engine directory. Node-to-node traffic is mutual TLS with the cluster's CA
// unless the cluster file says tls: false.
//
// The package builds shell scripts and runs them through a Shell
// (*remote.Client is one); it knows nothing of how the nodes are reached.
package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path"
	"time"

	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/remote"
)

// Shell runs a script on one node and waits for it, as
// (*remote.Client).Run does: a non-zero exit is a *remote.ExitError.
type Shell interface {
	Run(ctx context.Context, script string, opts remote.RunOptions) error
}

// TLSFiles are the paths of a node's TLS material on that node.
type TLSFiles struct {
	CA   string // the cluster CA's certificate
	Cert string // the node's leaf, valid as client and server
	Key  string // the leaf's private key
}

// Node is what the engine needs to know about one node.
type Node struct {
	Name string // for messages and Dask's worker names; unique in the cluster
	IP   string // the private address other nodes reach it on
	// Dir is the engine's own directory on the node: logs, pid files and
	// the workers' scratch space. Absolute.
	Dir string
	// Work is the daemons' working directory: the job's workspace, so
	// that Dask workers import the job's modules as the job does.
	Work string
	// Env is what the daemons see besides the engine's own variables (the
	// job's environment). It travels in a command line: no secrets.
	Env map[string]string
	TLS TLSFiles
}

// Options describe the engine to start.
type Options struct {
	Kind  config.Engine // dask, ray or none
	TLS   bool          // false: plain TCP, for troubleshooting only
	Nodes []Node        // by rank; Nodes[0] is the orchestrator
	// Port is the scheduler's (Dask) or the head's GCS (Ray) port; zero
	// means the engine's usual one, DefaultDaskPort or DefaultRayPort.
	Port int
	// Workers is the number of Dask worker processes per worker node; zero
	// means one. A process per node, with a thread per CPU, is Dask's own
	// default and suits numpy and torch, which release the GIL; jobs of
	// pure Python may want more processes. Ray starts its own processes.
	Workers int
	// Threads is the threads of each Dask worker process (Ray: the CPUs a
	// worker node offers); zero lets the engine count the node's CPUs.
	Threads int
	// ReadyTimeout bounds Start: from the first command to every worker
	// having joined. Start ends earlier if its context's deadline comes
	// first (sear's run hands down what is left of ready_timeout that way).
	// Zero means the context's deadline, or DefaultReadyTimeout without one.
	ReadyTimeout time.Duration
}

// Defaults.
const (
	DefaultDaskPort = 8786 // Dask's own default scheduler port
	DefaultRayPort  = 6379 // Ray's own default GCS port
	// DefaultReadyTimeout leaves room for a cold instance: the first
	// import of distributed (or ray) from an EBS volume restored from a
	// snapshot reads every file from S3, which can take a minute.
	DefaultReadyTimeout = 5 * time.Minute
)

// Engine is a validated engine description. Its methods only read it, so
// it may be shared.
type Engine struct {
	opts   Options
	flavor flavor
}

// New validates opts and fills in the defaults.
func New(opts Options) (*Engine, error) {
	fl, err := flavorOf(opts.Kind)
	if err != nil {
		return nil, err
	}
	if opts.Port == 0 && fl != nil {
		opts.Port = fl.defaultPort()
	}
	if opts.Workers == 0 {
		opts.Workers = 1
	}
	if err := opts.validate(fl != nil); err != nil {
		return nil, err
	}
	return &Engine{opts: opts, flavor: fl}, nil
}

// validate checks opts; an engine that starts nothing (none) needs no
// nodes and no port.
func (o Options) validate(starts bool) error {
	var errs []error
	if starts && len(o.Nodes) == 0 {
		errs = append(errs, errors.New("engine: no nodes"))
	}
	if starts && (o.Port < 1 || o.Port > 65535) {
		errs = append(errs, fmt.Errorf("engine: port %d: expected 1 to 65535", o.Port))
	}
	if o.Workers < 0 || o.Threads < 0 || o.ReadyTimeout < 0 {
		errs = append(errs, fmt.Errorf("engine: workers %d, threads %d, ready timeout %s: expected none negative", o.Workers, o.Threads, o.ReadyTimeout))
	}
	for i, n := range o.Nodes {
		if net.ParseIP(n.IP) == nil {
			errs = append(errs, fmt.Errorf("engine: node %d (%s): address %q is not an IP address", i, n.Name, n.IP))
		}
		if !path.IsAbs(n.Dir) || (n.Work != "" && !path.IsAbs(n.Work)) {
			errs = append(errs, fmt.Errorf("engine: node %d (%s): directories %q and %q: expected absolute paths", i, n.Name, n.Dir, n.Work))
		}
		if o.TLS && (n.TLS.CA == "" || n.TLS.Cert == "" || n.TLS.Key == "") {
			errs = append(errs, fmt.Errorf("engine: node %d (%s): TLS is on but its CA, certificate or key path is missing", i, n.Name))
		}
	}
	return errors.Join(errs...)
}

// Kind is the engine's kind.
func (e *Engine) Kind() config.Engine { return e.opts.Kind }

// Address is where the job reaches the engine, as the engine's clients
// spell it ("tls://10.0.0.5:8786", "10.0.0.5:6379"); empty for none.
func (e *Engine) Address() string {
	if e.flavor == nil {
		return ""
	}
	return e.flavor.address(e)
}

// Env is what the job, and every command on node rank, sees so that the
// engine's client connects with no arguments (distributed.Client(),
// ray.init()), authenticated with that node's certificate. Empty for none.
func (e *Engine) Env(rank int) map[string]string {
	if e.flavor == nil || rank < 0 || rank >= len(e.opts.Nodes) {
		return map[string]string{}
	}
	return e.flavor.env(e, rank)
}

// Warning is what the run must log and the report must show when the
// engine's traffic goes unprotected (tls: false); empty otherwise.
func (e *Engine) Warning() string {
	if e.flavor == nil || e.opts.TLS {
		return ""
	}
	return fmt.Sprintf("tls: false: %s traffic between the nodes and from the job is neither encrypted nor authenticated; "+
		"anything that can reach port %d or a worker's port can run code on the cluster. Use tls: false only for troubleshooting",
		e.flavor.name(), e.opts.Port)
}

// hostPort joins the node's address and port, bracketing IPv6.
func hostPort(ip string, port int) string {
	return net.JoinHostPort(ip, fmt.Sprint(port))
}

// workerRanks are the nodes that run workers: the factories, or the
// orchestrator alone when there are none.
func (e *Engine) workerRanks() []int {
	if len(e.opts.Nodes) == 1 {
		return []int{0}
	}
	ranks := make([]int, 0, len(e.opts.Nodes)-1)
	for r := 1; r < len(e.opts.Nodes); r++ {
		ranks = append(ranks, r)
	}
	return ranks
}
