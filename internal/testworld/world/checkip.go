package world

import (
	"fmt"
	"net"
	"net/http"
)

// serveCheckIP answers as https://checkip.amazonaws.com does: the caller's address as the server
// sees it, and a newline, in plain text. sear reads it (SEAR_CHECKIP_URL) to admit SSH from the
// runner only; from loopback that address is 127.0.0.1.
func serveCheckIP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = fmt.Fprintln(w, host) // the client went away; nothing to do
}
