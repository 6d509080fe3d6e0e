package world

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"time"
)

// service is one emulator on its own listener. Each service has its own port, as each AWS service
// and GitHub have their own host: the SDKs' per-service endpoint variables can then name them.
type service struct {
	name    string
	ln      net.Listener
	handler http.Handler
	srv     *http.Server
}

func (s *service) url() string { return "http://" + s.ln.Addr().String() }

// listen opens every listener on loopback. The world only ever serves 127.0.0.1: its clients are
// on the same machine, and the Docker backend's instances never call it.
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
	var lc net.ListenConfig
	for _, sp := range specs {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(sp.port))
		ln, err := lc.Listen(ctx, "tcp", addr)
		if err != nil {
			return fmt.Errorf("listen for the %s emulator on %s: %w", sp.name, addr, err)
		}
		s := &service{name: sp.name, ln: ln}
		w.servers = append(w.servers, s)
		*sp.url = s.url()
	}
	return nil
}

// handlers are the services' handlers, in the order listen opened their listeners.
func (w *World) handlers() []http.Handler {
	return []http.Handler{w.issuer.Handler(), w.sts, w.ec2, w.github, http.HandlerFunc(serveCheckIP), w.controlHandler()}
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
		go func() { _ = s.srv.Serve(s.ln) }() // returns ErrServerClosed once shut down
	}
}

// shutdown stops the server, letting calls in flight finish until ctx ends, then cutting them.
func (s *service) shutdown(ctx context.Context) error {
	if s.srv == nil {
		return s.ln.Close()
	}
	err := s.srv.Shutdown(ctx)
	// Serve may not have started tracking the listener yet (a world closed right after Start),
	// in which case Shutdown did not close it; close it here so the port is free on return. A
	// second close only reports that it was closed already.
	_ = s.ln.Close()
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
		_ = s.ln.Close() // nothing was served on it
	}
}
