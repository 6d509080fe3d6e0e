package action

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
)

// Output is one name and value a step hands the runner through a file
// command: an output of the action, as action.yml declares it, or a value
// saved for the post step.
type Output struct {
	Name  string
	Value string
}

// WriteOutputs appends outputs to a file the runner reads after the step,
// GITHUB_OUTPUT or GITHUB_STATE, whose path the caller passes. It writes
// in one call: a file is never left holding half of them.
func WriteOutputs(path string, outs []Output) error {
	var b strings.Builder
	if err := encodeOutputs(&b, outs, rand.Reader); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("open the file for the action's outputs: %w", err)
	}
	if _, err := f.WriteString(b.String()); err != nil {
		f.Close()
		return fmt.Errorf("write the action's outputs to %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write the action's outputs to %s: %w", path, err)
	}
	return nil
}

// encodeOutputs writes each output in the multi-line form the runner
// reads from GITHUB_OUTPUT and GITHUB_STATE:
//
//	name<<ghadelimiter_<random>
//	value
//	ghadelimiter_<random>
//
// with a fresh random delimiter per output, as the Actions toolkit does, so
// that no value (a metric name, a URL) can end its own block early and set
// another output. A delimiter that happens to occur in the value is drawn
// again.
func encodeOutputs(w io.Writer, outs []Output, random io.Reader) error {
	for _, o := range outs {
		if o.Name == "" || strings.ContainsAny(o.Name, "\r\n") || strings.Contains(o.Name, "<<") {
			return fmt.Errorf("output name %q cannot be written to GITHUB_OUTPUT: it must be one line without \"<<\"", o.Name)
		}
		delim, err := delimiter(o, random)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "%s<<%s\n%s\n%s\n", o.Name, delim, o.Value, delim); err != nil {
			return err
		}
	}
	return nil
}

// delimiter draws a delimiter that occurs in neither the name nor the
// value. Sixteen random bytes collide by chance practically never; the
// bounded retry is for a value crafted to contain earlier draws, which
// cannot know later ones.
func delimiter(o Output, random io.Reader) (string, error) {
	buf := make([]byte, 16)
	for range 8 {
		if _, err := io.ReadFull(random, buf); err != nil {
			return "", fmt.Errorf("draw a random delimiter for output %q: %w", o.Name, err)
		}
		d := "ghadelimiter_" + hex.EncodeToString(buf)
		if !strings.Contains(o.Value, d) && !strings.Contains(o.Name, d) {
			return d, nil
		}
	}
	return "", fmt.Errorf("output %q: every random delimiter drawn occurs in its value", o.Name)
}
