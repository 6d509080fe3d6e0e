// Package redact keeps secrets out of what sear shows: Forms lists what a
// secret can look like once printed (the set the GitHub Actions runner
// masks in logs, and more), Sanitize strips terminal escapes and control
// characters so that text shows what it says, and a line-buffered Writer
// and String replace each form with "***" before the bytes reach the log,
// the terminal or a report.
package redact

import (
	"bytes"
	"io"
	"slices"
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

// NewWriter masks secrets in everything written to w, as given: pass the
// forms of the secrets (Expand, or secrets.File.Mask, which is Expand's
// list), not the bare values, or their encodings go through.
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

// Add masks secret and its Forms from now on: credentials learned mid-run
// (an STS session token) join the secrets given at the start, and the
// runner masks their encodings in the log as it does any secret's.
func (rw *Writer) Add(secret string) {
	forms := Forms(secret)
	if len(forms) == 0 {
		return
	}
	rw.mu.Lock()
	defer rw.mu.Unlock()
	for _, f := range forms {
		if !slices.ContainsFunc(rw.secrets, func(s []byte) bool { return string(s) == f }) {
			rw.secrets = append(rw.secrets, []byte(f))
		}
	}
	sort.SliceStable(rw.secrets, func(i, j int) bool { return len(rw.secrets[i]) > len(rw.secrets[j]) })
}

// Secrets returns a copy of what the writer masks, every form of every
// secret, longest first: the list for masking error messages and reports,
// which do not pass through it.
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

// Bytes returns b with every secret replaced by Mask. As the runner's
// SecretMasker does, it finds every occurrence of every secret first and
// masks each stretch they cover, overlapping or adjacent, as one: masking
// one secret at a time would leave the rest of another that overlaps it
// ("abcd" and "cdef" in "abcdef" would leave "ef"). A secret with
// asterisks can reappear where a mask meets the text beside it ("*0" in
// "*00" becomes "***0"), so masking repeats until none is left; each pass
// removes a character that is not "*", so it ends.
func Bytes(b []byte, secrets [][]byte) []byte {
	for {
		spans := find(b, secrets)
		if len(spans) == 0 {
			return b
		}
		out := make([]byte, 0, len(b))
		at := 0
		for _, sp := range spans {
			out = append(append(out, b[at:sp.start]...), Mask...)
			at = sp.end
		}
		b = append(out, b[at:]...)
	}
}

// span is where a secret occurs: b[start:end].
type span struct{ start, end int }

// find returns where the secrets occur in b, in order, with overlapping
// and adjacent occurrences merged.
func find(b []byte, secrets [][]byte) []span {
	var spans []span
	for _, s := range secrets {
		if len(bytes.Trim(s, "*")) == 0 {
			continue // empty or only asterisks: indistinguishable from a mask
		}
		for off := 0; ; {
			i := bytes.Index(b[off:], s)
			if i < 0 {
				break
			}
			start, end := off+i, off+i+len(s)
			if n := len(spans); n > 0 && spans[n-1].end >= start && spans[n-1].start <= start {
				spans[n-1].end = max(spans[n-1].end, end) // this secret again, overlapping
			} else {
				spans = append(spans, span{start, end})
			}
			off = start + 1
		}
	}
	if len(spans) < 2 {
		return spans
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	merged := spans[:1]
	for _, sp := range spans[1:] {
		if last := &merged[len(merged)-1]; sp.start <= last.end {
			last.end = max(last.end, sp.end)
		} else {
			merged = append(merged, sp)
		}
	}
	return merged
}

// String returns s with every secret replaced by Mask.
func String(s string, secrets []string) string {
	bs := make([][]byte, 0, len(secrets))
	for _, x := range secrets {
		if x != "" {
			bs = append(bs, []byte(x))
		}
	}
	return string(Bytes([]byte(s), bs))
}
