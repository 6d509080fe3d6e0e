package world

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sear-ci/sear/internal/testworld/fakeec2"
)

// ControlPrefix is where the control endpoint's paths begin.
const ControlPrefix = "/_testworld"

// maxControlBody bounds a faults document; real ones are a few hundred bytes.
const maxControlBody = 1 << 20

// controlHandler serves the control API that docs/testworld.md describes.
func (w *World) controlHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+ControlPrefix+"/state", w.serveState)
	mux.HandleFunc("GET "+ControlPrefix+"/faults", w.serveFaults)
	mux.HandleFunc("POST "+ControlPrefix+"/faults", w.postFaults)
	mux.HandleFunc("DELETE "+ControlPrefix+"/faults", w.deleteFaults)
	mux.HandleFunc("POST "+ControlPrefix+"/instances/{id}/{action}", w.postInstance)
	mux.HandleFunc("POST "+ControlPrefix+"/credentials/expire", w.postExpire)
	mux.HandleFunc("GET "+ControlPrefix+"/servicequotas", w.serveQuotas)
	mux.HandleFunc("POST "+ControlPrefix+"/servicequotas", w.postQuotas)
	return mux
}

func (w *World) serveState(rw http.ResponseWriter, _ *http.Request) {
	writeJSON(rw, http.StatusOK, w.State())
}

func (w *World) serveFaults(rw http.ResponseWriter, _ *http.Request) {
	writeJSON(rw, http.StatusOK, w.Faults())
}

// postFaults applies a faults document.
func (w *World) postFaults(rw http.ResponseWriter, r *http.Request) {
	postDocument(rw, r, "faults", w.SetFaults, func() any { return w.Faults() })
}

// postDocument applies the control document of what (faults, quotas) in r's body with set, and
// answers with what get reads back. Unknown fields are refused rather than ignored: a typo would
// otherwise leave the world as it was while the caller believes it changed.
func postDocument[T any](rw http.ResponseWriter, r *http.Request, what string, set func(T) error, get func() any) {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxControlBody))
	dec.DisallowUnknownFields()
	var doc T
	if err := dec.Decode(&doc); err != nil {
		writeError(rw, http.StatusBadRequest, fmt.Errorf("read the %s document: %w", what, err))
		return
	}
	if err := set(doc); err != nil {
		writeError(rw, http.StatusBadRequest, err)
		return
	}
	writeJSON(rw, http.StatusOK, get())
}

func (w *World) deleteFaults(rw http.ResponseWriter, _ *http.Request) {
	w.ClearFaults()
	writeJSON(rw, http.StatusOK, w.Faults())
}

// postInstance kills an instance, cuts or restores its network, or interrupts it (Spot), and answers with the
// instance's state afterwards.
func (w *World) postInstance(rw http.ResponseWriter, r *http.Request) {
	id, action := r.PathValue("id"), r.PathValue("action")
	var err error
	switch action {
	case "kill":
		err = w.Kill(id)
	case "cut":
		err = w.Cut(r.Context(), id)
	case "restore":
		err = w.Restore(r.Context(), id)
	case "spot-interruption":
		var notice time.Duration
		if q := r.URL.Query().Get("notice"); q != "" {
			if notice, err = time.ParseDuration(q); err != nil || notice < 0 {
				writeError(rw, http.StatusBadRequest, fmt.Errorf("notice %q: expected a duration like \"2s\"", q))
				return
			}
		}
		_, err = w.InterruptSpot(id, notice)
	default:
		writeError(rw, http.StatusNotFound, fmt.Errorf("instance action %q: expected kill, cut, restore or spot-interruption", action))
		return
	}
	if err != nil {
		writeError(rw, statusOf(err), err)
		return
	}
	inst, _ := w.instance(id)
	writeJSON(rw, http.StatusOK, inst)
}

// postExpire expires every session credential STS issued and lists them.
func (w *World) postExpire(rw http.ResponseWriter, _ *http.Request) {
	w.ExpireCredentials()
	writeJSON(rw, http.StatusOK, map[string][]Credential{"credentials": w.State().Credentials})
}

// ExpireCredentials makes every session credential STS issued expired now; EC2 refuses them from
// then on (RequestExpired), as AWS does once a session's Expiration passes. Static keys stay valid.
func (w *World) ExpireCredentials() { w.sts.ExpireAll() }

// Errors the instance controls return, for a caller to branch on.
var (
	ErrNoInstance   = errors.New("no such instance")
	ErrTerminated   = errors.New("instance is terminated")
	ErrNotSupported = errors.New("not supported by this backend")
	// ErrNotSpot is the EC2 emulator's: only a running Spot Instance can be
	// interrupted.
	ErrNotSpot = fakeec2.ErrNotSpot
)

// Kill makes an instance die at once, as a hardware failure would: EC2 reports it terminated with
// Server.InternalError and the backend destroys it. Killing a terminated instance changes nothing.
func (w *World) Kill(id string) error {
	if _, err := w.instance(id); err != nil {
		return err
	}
	w.ec2.Kill(id)
	return nil
}

// InterruptSpot gives a running Spot Instance EC2's interruption notice (in its metadata,
// spot/instance-action) and interrupts it notice later, EC2's two minutes when notice is 0; it
// returns the instant of the interruption. An instance that is not a running Spot Instance is
// ErrNotSpot: EC2 interrupts only those.
func (w *World) InterruptSpot(id string, notice time.Duration) (time.Time, error) {
	if _, err := w.instance(id); err != nil {
		return time.Time{}, err
	}
	return w.ec2.InterruptSpot(id, notice) // its error wraps ErrNotSpot
}

// Cut isolates an instance's network, so connections to it hang as on a real partition. Only a
// backend that implements NetworkCutter (Docker) can; others answer ErrNotSupported.
func (w *World) Cut(ctx context.Context, id string) error {
	return w.network(ctx, id, "cut", NetworkCutter.Cut)
}

// Restore reconnects an instance whose network was cut.
func (w *World) Restore(ctx context.Context, id string) error {
	return w.network(ctx, id, "restore", NetworkCutter.Restore)
}

func (w *World) network(ctx context.Context, id, verb string, op func(NetworkCutter, context.Context, string) error) error {
	inst, err := w.instance(id)
	if err != nil {
		return err
	}
	nc, ok := w.backend.(NetworkCutter)
	if !ok {
		return fmt.Errorf("%s the network of %s: %w: the %s backend runs no network; start the world with the docker backend",
			verb, id, ErrNotSupported, w.worldState().Backend)
	}
	if inst.State == "terminated" {
		return fmt.Errorf("%s the network of %s: %w", verb, id, ErrTerminated)
	}
	if err := op(nc, ctx, id); err != nil {
		return fmt.Errorf("%s the network of %s: %w", verb, id, err)
	}
	return nil
}

// instance is one instance's state, or ErrNoInstance.
func (w *World) instance(id string) (fakeec2.InstanceState, error) {
	insts := w.ec2.State().Instances
	if i := slices.IndexFunc(insts, func(s fakeec2.InstanceState) bool { return s.ID == id }); i >= 0 {
		return insts[i], nil
	}
	return fakeec2.InstanceState{}, fmt.Errorf("instance %q: %w", id, ErrNoInstance)
}

// backendName names a backend for the state document: "memory", or its Go type ("docker.Backend").
func backendName(b fakeec2.Backend) string {
	if b == nil {
		return "memory"
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", b), "*")
}

// statusOf is the HTTP status for an instance control's error.
func statusOf(err error) int {
	switch {
	case errors.Is(err, ErrNoInstance):
		return http.StatusNotFound
	case errors.Is(err, ErrNotSupported):
		return http.StatusNotImplemented
	case errors.Is(err, ErrTerminated), errors.Is(err, ErrNotSpot):
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

func writeJSON(rw http.ResponseWriter, status int, v any) {
	rw.Header().Set("Content-Type", "application/json; charset=utf-8")
	rw.WriteHeader(status)
	enc := json.NewEncoder(rw)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client went away; nothing to do
}

// writeError answers {"message": "..."}, the shape GitHub's errors have, so one reader serves both.
func writeError(rw http.ResponseWriter, status int, err error) {
	writeJSON(rw, status, map[string]string{"message": err.Error()})
}
