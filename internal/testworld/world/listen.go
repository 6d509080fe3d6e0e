package world

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"time"
)

// service is one emulator on its own listener. Each service has its own port, as each AWS service
// and GitHub have their own host: the SDKs' per-service endpoint variables can then name them.
type service struct {
	name    string
	ln      net.Listener
	also    []net.Listener // on Options.ListenAlso's addresses, the same port as ln
	handler http.Handler
	srv     *http.Server
}

func (s *service) url() string { return "http://" + s.ln.Addr().String() }

// listen opens every listener on loopback, and on the addresses in Options.ListenAlso. Its clients
// are on the same machine: the tests, sear, and the action's container on a Docker network whose
// gateway is one of ListenAlso. The Docker backend's instances never call it.
func (w *World) listen(ctx context.Context) error {
	p := w.opts.Ports
	specs := []struct {
		name string
		port int
		url  *string
	}{
		{"OIDC", p.OIDC, &w.urls.OIDC},
		{"STS", p.STS, &w.urls.STS},
		{"EC2", p.EC2, &w.urls.EC2},
		{"GitHub", p.GitHub, &w.urls.GitHub},
		{"checkip", p.CheckIP, &w.urls.CheckIP},
		{"control", p.Control, &w.urls.Control},
	}
	for _, sp := range specs {
		s, err := listenService(ctx, sp.name, sp.port, w.opts.ListenAlso)
		if err != nil {
			return err
		}
		w.servers = append(w.servers, s)
		*sp.url = s.url()
	}
	w.urls.SSM = w.urls.EC2
	w.urls.ServiceQuotas = w.urls.EC2
	w.urls.Pricing = w.urls.EC2
	return nil
}

// listenService opens a service's loopback listener and, on the same port, one on each address
// in also. A port free on loopback may be taken on another address; a free port is then tried
// again, a few times. A fixed port is tried once.
func listenService(ctx context.Context, name string, port int, also []netip.Addr) (*service, error) {
	var errs []error
	for range 5 {
		s, err := listenAt(ctx, name, port, also)
		if err == nil {
			return s, nil
		}
		errs = append(errs, err)
		if port != 0 || len(also) == 0 || ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

func listenAt(ctx context.Context, name string, port int, also []netip.Addr) (*service, error) {
	var lc net.ListenConfig
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for the %s emulator on %s: %w", name, addr, err)
	}
	s := &service{name: name, ln: ln}
	port = ln.Addr().(*net.TCPAddr).Port
	for _, a := range also {
		addr := net.JoinHostPort(a.String(), strconv.Itoa(port))
		l, err := lc.Listen(ctx, "tcp", addr)
		if err != nil {
			_ = s.closeListeners() // nothing was served on them
			return nil, fmt.Errorf("listen for the %s emulator on %s: %w", name, addr, err)
		}
		s.also = append(s.also, l)
	}
	return s, nil
}

// listeners are the service's loopback listener, then the others.
func (s *service) listeners() []net.Listener { return append([]net.Listener{s.ln}, s.also...) }

// closeListeners closes every listener of the service. A listener closed already only says so.
func (s *service) closeListeners() error {
	var errs []error
	for _, l := range s.listeners() {
		errs = append(errs, l.Close())
	}
	return errors.Join(errs...)
}

// handlers are the services' handlers, in the order listen opened their listeners.
func (w *World) handlers() []http.Handler {
	// SSM, Service Quotas and the Price List API share EC2's listener, told apart by
	// X-Amz-Target, so that the ports stay one per --port-base slot and one endpoint serves a
	// client that has a single AWS_ENDPOINT_URL.
	ec2 := w.pricing.Alongside(w.quotas.Alongside(w.ssm.Alongside(w.ec2)))
	return []http.Handler{w.issuer.Handler(), w.sts, ec2, w.github, http.HandlerFunc(serveCheckIP), w.controlHandler()}
}

// serve starts every HTTP server.
func (w *World) serve() {
	out := w.opts.Log
	if out == nil {
		out = io.Discard
	}
	for i, h := range w.handlers() {
		s := w.servers[i]
		s.handler = h
		s.srv = &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 30 * time.Second,
			ErrorLog:          log.New(out, "testworld "+s.name+": ", 0),
		}
		for _, ln := range s.listeners() {
			go func() { _ = s.srv.Serve(ln) }() // returns ErrServerClosed once shut down
		}
	}
}

// shutdown stops the server, letting calls in flight finish until ctx ends, then cutting them.
func (s *service) shutdown(ctx context.Context) error {
	if s.srv == nil {
		return s.closeListeners()
	}
	err := s.srv.Shutdown(ctx)
	// Serve may not have started tracking the listeners yet (a world closed right after Start),
	// in which case Shutdown did not close them; close them here so the ports are free on return.
	_ = s.closeListeners()
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		// The caller's deadline is up: cut the calls still in flight (a client waiting out
		// injected latency, say). That is what the deadline asks for, not a failure to stop.
		_ = s.srv.Close()
		return nil
	}
	if err != nil {
		return fmt.Errorf("stop the %s emulator: %w", s.name, err)
	}
	return nil
}

// closeListeners releases the listeners of a world that failed to start.
func (w *World) closeListeners() {
	for _, s := range w.servers {
		_ = s.closeListeners() // nothing was served on them
	}
}
