package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/remote"
	"github.com/sear-ci/sear/internal/report"
	"github.com/sear-ci/sear/internal/shell"
)

// Interruption is EC2 interrupting a spot node: the report's model of it.
type Interruption = report.Interruption

// ErrSpotInterrupted is a job that EC2's interruption of a spot node
// ended: the node's instance was reclaimed, with its notice.
var ErrSpotInterrupted = errors.New("spot interruption")

// Files of the spot watcher, in each node's job directory.
const (
	spotNoticeFile = "spot-notice" // for the job: SEAR_SPOT_* lines, written before the signal
	spotMarkerFile = "spot-marker" // for sear: the notice as JSON, written once it is handled
	spotPIDFile    = "spot-watcher.pid"
)

// spotWatcher is the program each spot node runs beside the job. It polls
// the instance metadata (IMDSv2, a session token) every second for the
// Spot interruption notice, which EC2 posts two minutes before it acts
// (EC2 User Guide, "Spot Instance interruption notices": check "every 5
// seconds"; sear checks every second, so that a job has all the time
// there is). It honours AWS_EC2_METADATA_SERVICE_ENDPOINT, as the AWS SDKs
// do, with IMDS's address as the default. On a notice it writes the
// notice file the job reads, then, on the orchestrator, sends the job's
// process group the signal, then writes the marker sear reads. It ends
// when the job does, at the cluster's deadline, or when sear stops it.
// Python because every image sear runs on has python3 (the node
// environment check makes sure of it) and not always curl.
const spotWatcher = `
import json, os, signal, sys, time, urllib.error, urllib.request
from datetime import datetime, timezone
job, signame, orchestrator, deadline = sys.argv[1], sys.argv[2], sys.argv[3] == "1", float(sys.argv[4])
base = os.environ.get("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://169.254.169.254").rstrip("/")
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # IMDS is never behind a proxy
token, renew = "", 0.0

def notice():
    global token, renew
    if time.time() >= renew:
        req = urllib.request.Request(base + "/latest/api/token", method="PUT", headers={"X-aws-ec2-metadata-token-ttl-seconds": "21600"})
        token, renew = opener.open(req, timeout=2).read().decode(), time.time() + 21000
    req = urllib.request.Request(base + "/latest/meta-data/spot/instance-action", headers={"X-aws-ec2-metadata-token": token})
    try:
        return json.loads(opener.open(req, timeout=2).read())
    except urllib.error.HTTPError as e:
        if e.code == 401:
            renew = 0.0
        if e.code in (401, 404):
            return None
        raise

def write(name, text):
    p = os.path.join(job, name)
    with open(p + ".tmp", "w") as f:
        f.write(text)
    os.replace(p + ".tmp", p)

while time.time() < deadline and not os.path.exists(os.path.join(job, "exit")):
    try:
        n = notice()
    except Exception:
        n = None
    if n:
        noticed = time.time()
        at = datetime.strptime(n["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
        left = max(0, int(round(at - noticed)))
        write("` + spotNoticeFile + `", "SEAR_SPOT_ACTION=%s\nSEAR_SPOT_TIME=%s\nSEAR_SPOT_SECONDS_LEFT=%d\n" % (n["action"], n["time"], left))
        signalled = None
        if orchestrator:
            try:
                os.killpg(int(open(os.path.join(job, "pid")).read()), getattr(signal, signame))
                signalled = time.time()
            except (OSError, ValueError):
                pass
        write("` + spotMarkerFile + `", json.dumps({"action": n["action"], "time": n["time"], "noticed_at": noticed, "signalled_at": signalled}))
        sys.exit(0)
    time.sleep(1)
`

// spotWatch is the spot watchers of one job: a watcher on each spot node,
// and here a monitor per watcher that waits for its marker, relays a
// factory's notice to the job on the orchestrator, and records it.
type spotWatch struct {
	st     *state
	signal string
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu   sync.Mutex
	list []report.Interruption
}

// hasSpot says whether any node runs on the spot market.
func (st *state) hasSpot() bool {
	for _, n := range st.nodes {
		if n.Spot {
			return true
		}
	}
	return false
}

// spotSignal is the cluster's spot_signal, SIGTERM when it names none.
func (st *state) spotSignal() string {
	if s := st.opts.Cluster.SpotSignal; s != "" {
		return s
	}
	return "SIGTERM"
}

// watchSpot starts a watcher on every spot node, and its monitor. A node
// whose watcher cannot start is said so in the log: the run goes on, as it
// would without the watcher.
func (st *state) watchSpot(ctx context.Context) *spotWatch {
	ctx, cancel := context.WithCancel(ctx)
	sw := &spotWatch{st: st, signal: st.spotSignal(), cancel: cancel}
	for _, n := range st.nodes {
		if !n.Spot {
			continue
		}
		conn := st.conns[n.Rank]
		if err := sw.start(ctx, n, conn); err != nil {
			st.logf("sear: warning: no spot interruption watcher on %s: %v", n.Name, err)
			continue
		}
		sw.wg.Add(1)
		go func() {
			defer sw.wg.Done()
			sw.monitor(ctx, n, conn)
		}()
	}
	return sw
}

// start launches the watcher detached, in a session of its own, so that a
// dropped SSH connection does not end it. Its program travels on the
// command line, which holds nothing secret.
func (sw *spotWatch) start(ctx context.Context, n cloud.Node, conn *remote.Client) error {
	job := sw.st.layout[n.Rank].Job
	orch := "0"
	if n.Rank == 0 {
		orch = "1"
	}
	deadline := sw.st.expiresAt
	if deadline.IsZero() {
		deadline = time.Now().Add(sw.st.opts.Cluster.MaxDuration + time.Hour)
	}
	script := fmt.Sprintf(`set -e
mkdir -p %[1]s
cd %[1]s
rm -f %[2]s %[3]s
setsid python3 -c %[4]s %[1]s %[5]s %[6]s %[7]d > spot-watcher.log 2>&1 < /dev/null &
echo $! > %[8]s`, shell.Quote(job), spotNoticeFile, spotMarkerFile, shell.Quote(spotWatcher), sw.signal, orch,
		deadline.Unix(), spotPIDFile)
	return conn.Run(ctx, script, remote.RunOptions{Env: sw.st.env(n)})
}

// monitor waits for the node's marker, records the interruption, and for
// a factory relays the notice to the job on the orchestrator. It ends
// with ctx, or when the node goes without a notice. When following the
// log reconnected to the node (the orchestrator's client replaced, the old
// one closed under the wait), it waits again on the new client.
func (sw *spotWatch) monitor(ctx context.Context, n cloud.Node, conn *remote.Client) {
	marker := path.Join(sw.st.layout[n.Rank].Job, spotMarkerFile)
	for {
		out, err := conn.Output(ctx, fmt.Sprintf(`while [ ! -s %[1]s ]; do sleep 0.2; done; cat %[1]s`, shell.Quote(marker)))
		if err == nil {
			sw.handle(ctx, n, out)
			return
		}
		if ctx.Err() != nil {
			return
		}
		next, ok := sw.replaced(ctx, n.Rank, conn)
		if !ok {
			return // the node itself is gone
		}
		conn = next
	}
}

// reconnectWait is how long a monitor whose client failed waits for the
// log's follower to reconnect to the node before taking it for gone.
const reconnectWait = 10 * time.Second

// replaced is the client that replaced old for the node of rank, once
// there is one within reconnectWait; false if none came.
func (sw *spotWatch) replaced(ctx context.Context, rank int, old *remote.Client) (*remote.Client, bool) {
	deadline := time.Now().Add(reconnectWait)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if c := sw.st.conn(rank); c != old {
			return c, true
		}
		time.Sleep(200 * time.Millisecond)
	}
	return nil, false
}

// handle records a node's marker, relaying a factory's notice to the job.
func (sw *spotWatch) handle(ctx context.Context, n cloud.Node, out []byte) {
	var m struct {
		Action      string   `json:"action"`
		Time        string   `json:"time"`
		NoticedAt   float64  `json:"noticed_at"`
		SignalledAt *float64 `json:"signalled_at"`
	}
	if err := json.Unmarshal(out, &m); err != nil {
		sw.st.logf("sear: warning: the spot interruption marker on %s is unreadable: %v", n.Name, err)
		return
	}
	in := report.Interruption{Node: n.Name, Rank: n.Rank, Action: m.Action, NoticedAt: epoch(m.NoticedAt)}
	in.ActionTime, _ = time.Parse(time.RFC3339, m.Time)
	if m.SignalledAt != nil {
		in.Signal, in.SignalledAt = sw.signal, epoch(*m.SignalledAt)
	}
	if n.Rank != 0 {
		if err := sw.relay(ctx, in); err != nil {
			sw.st.logf("sear: warning: could not pass %s's spot interruption notice on to the job: %v", n.Name, err)
		} else {
			in.Signal, in.SignalledAt = sw.signal, time.Now()
		}
	}
	sw.mu.Lock()
	sw.list = append(sw.list, in)
	sw.mu.Unlock()
	sig := "no signal"
	if in.Signal != "" {
		sig = in.Signal
	}
	sw.st.logf("sear: spot interruption notice on %s: EC2 will %s it at %s (%s left); the job got %s",
		n.Name, in.Action, in.ActionTime.UTC().Format(time.RFC3339), in.Left(), sig)
}

// relay writes a factory's notice where the job reads it on the
// orchestrator, then signals the job's process group there.
func (sw *spotWatch) relay(ctx context.Context, in report.Interruption) error {
	job := sw.st.layout[0].Job
	notice := fmt.Sprintf("SEAR_SPOT_ACTION=%s\nSEAR_SPOT_TIME=%s\nSEAR_SPOT_SECONDS_LEFT=%d\nSEAR_SPOT_NODE=%s\n",
		in.Action, in.ActionTime.UTC().Format("2006-01-02T15:04:05Z"), int(time.Until(in.ActionTime).Round(time.Second)/time.Second), in.Node)
	script := fmt.Sprintf(`cd %s || exit 1
printf '%%s' %s > %s.tmp && mv %s.tmp %s
[ ! -s exit ] || exit 0
p=$(cat pid) && kill -s %s -- "-$p"`, shell.Quote(job), shell.Quote(notice), spotNoticeFile, spotNoticeFile, spotNoticeFile,
		strings.TrimPrefix(sw.signal, "SIG"))
	return sw.st.conn(0).Run(ctx, script, remote.RunOptions{})
}

// noticed is the interruption recorded for the node of rank, if any.
func (sw *spotWatch) noticed(rank int) (report.Interruption, bool) {
	if sw == nil {
		return report.Interruption{}, false
	}
	sw.mu.Lock()
	defer sw.mu.Unlock()
	for _, in := range sw.list {
		if in.Rank == rank {
			return in, true
		}
	}
	return report.Interruption{}, false
}

// stop ends the monitors and the watchers still running, and returns the
// interruptions recorded. The watchers are ended on a context of their
// own: a node already gone only costs the bound.
func (sw *spotWatch) stop(ctx context.Context) []report.Interruption {
	if sw == nil {
		return nil
	}
	sw.cancel()
	sw.wg.Wait()
	if sw.st.terminating() {
		// A signal is ending the nodes, watchers and all: asking them
		// anything only delays the teardown.
		sw.mu.Lock()
		defer sw.mu.Unlock()
		return append([]report.Interruption(nil), sw.list...)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	for _, n := range sw.st.nodes {
		if _, gone := sw.noticed(n.Rank); !n.Spot || gone {
			continue
		}
		// A job that exits at once on the signal can end before the
		// monitor's next look at the marker: one last look, and the
		// watcher is ended.
		job := sw.st.layout[n.Rank].Job
		out, err := sw.st.conns[n.Rank].Output(ctx, fmt.Sprintf(`cd %s || exit 0
p=$(cat %s 2>/dev/null) && kill "$p" 2>/dev/null
cat %s 2>/dev/null; true`, shell.Quote(job), spotPIDFile, spotMarkerFile))
		if err == nil && len(out) > 0 {
			sw.handle(ctx, n, out)
		}
	}
	sw.mu.Lock()
	defer sw.mu.Unlock()
	return append([]report.Interruption(nil), sw.list...)
}

// interruptedErr explains a job's end by the interruptions, when there were
// any: the first one's node, notice and signal, with what the job did.
func interruptedErr(ins []report.Interruption, err error) error {
	if len(ins) == 0 {
		return err
	}
	return fmt.Errorf("%w: %s: %w", ErrSpotInterrupted, ins[0].Sentence(), err)
}

// epoch is a time from Unix seconds with a fraction.
func epoch(s float64) time.Time {
	sec, frac := math.Modf(s)
	return time.Unix(int64(sec), int64(frac*1e9))
}
