// Package redact keeps secrets out of streams: every write passes through a
// line-buffered writer that replaces each secret with "***" before the
// bytes reach the log, the terminal or a report.
package redact

import (
	"bytes"
	"io"
	"sort"
	"sync"
)

// Mask is what a secret becomes, as GitHub Actions shows it.
const Mask = "***"

// maxLine bounds how much the writer holds back waiting for a newline; a
// secret split across a flush at this size could escape, so it is far
// larger than any secret GitHub accepts (48 KB).
const maxLine = 256 << 10

// Writer masks secrets in what it writes to the underlying writer. It holds
// back a partial line until its end arrives, so a secret written in two
// pieces is still masked. It is safe for concurrent use.
type Writer struct {
	mu      sync.Mutex
	w       io.Writer
	secrets [][]byte
	buf     []byte
}

// NewWriter masks secrets (longest first, so a secret containing another is
// masked whole) in everything written to w.
func NewWriter(w io.Writer, secrets []string) *Writer {
	s := make([]string, 0, len(secrets))
	for _, x := range secrets {
		if x != "" {
			s = append(s, x)
		}
	}
	sort.Slice(s, func(i, j int) bool { return len(s[i]) > len(s[j]) })
	rw := &Writer{w: w}
	for _, x := range s {
		rw.secrets = append(rw.secrets, []byte(x))
	}
	return rw
}

// Add masks secret from now on: credentials learned mid-run (an STS
// session token) join the secrets given at the start.
func (rw *Writer) Add(secret string) {
	if secret == "" {
		return
	}
	rw.mu.Lock()
	defer rw.mu.Unlock()
	rw.secrets = append(rw.secrets, []byte(secret))
	sort.Slice(rw.secrets, func(i, j int) bool { return len(rw.secrets[i]) > len(rw.secrets[j]) })
}

// Secrets returns a copy of what the writer masks, for masking error
// messages that do not pass through it.
func (rw *Writer) Secrets() []string {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	out := make([]string, len(rw.secrets))
	for i, s := range rw.secrets {
		out[i] = string(s)
	}
	return out
}

// Write masks and forwards every complete line of p; the rest waits for its
// newline, or for Flush.
func (rw *Writer) Write(p []byte) (int, error) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	rw.buf = append(rw.buf, p...)
	end := bytes.LastIndexByte(rw.buf, '\n') + 1
	if end == 0 && len(rw.buf) < maxLine {
		return len(p), nil
	}
	if end == 0 {
		end = len(rw.buf)
	}
	if err := rw.emit(rw.buf[:end]); err != nil {
		return 0, err
	}
	rw.buf = append(rw.buf[:0], rw.buf[end:]...)
	return len(p), nil
}

// Flush writes out a held-back partial line.
func (rw *Writer) Flush() error {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if len(rw.buf) == 0 {
		return nil
	}
	err := rw.emit(rw.buf)
	rw.buf = rw.buf[:0]
	return err
}

func (rw *Writer) emit(b []byte) error {
	_, err := rw.w.Write(Bytes(b, rw.secrets))
	return err
}

// Bytes returns b with every secret replaced by Mask. A secret with
// asterisks can reappear where a mask meets the text beside it ("*0" in
// "*00" becomes "***0"), so replacement repeats until none is left; each
// pass removes a character that is not "*", so it ends.
func Bytes(b []byte, secrets [][]byte) []byte {
	for _, s := range secrets {
		if len(bytes.Trim(s, "*")) == 0 {
			continue // only asterisks: indistinguishable from a mask
		}
		for bytes.Contains(b, s) {
			b = bytes.ReplaceAll(b, s, []byte(Mask))
		}
	}
	return b
}

// String returns s with every secret replaced by Mask.
func String(s string, secrets []string) string {
	bs := make([][]byte, 0, len(secrets))
	for _, x := range secrets {
		if x != "" {
			bs = append(bs, []byte(x))
		}
	}
	sort.Slice(bs, func(i, j int) bool { return len(bs[i]) > len(bs[j]) })
	return string(Bytes([]byte(s), bs))
}
