package remote

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/sear-ci/sear/internal/shell"
)

// WriteFile writes data to the file at p on the node with the given mode,
// creating missing parent directories (mode 0700). The data goes over
// stdin, never on a command line. The file is written under umask 077 to a
// temporary name in the same directory, given its mode, then renamed over
// p, so no one else can read it even for a moment and no reader ever sees
// it half written. This is how secrets reach a node.
func (c *Client) WriteFile(ctx context.Context, p string, mode os.FileMode, data []byte) error {
	if p == "" || strings.ContainsRune(p, 0) {
		return fmt.Errorf("ssh %s: write file: invalid path %q", c.addr, p)
	}
	dir, base := path.Split(p)
	if dir == "" {
		dir = "."
	}
	tmp := path.Join(dir, "."+base+".sear-XXXXXXXX")
	script := fmt.Sprintf("umask 077\n"+
		"mkdir -p -- %[1]s || exit\n"+
		"t=$(mktemp -- %[2]s) || exit\n"+
		"if cat >\"$t\" && chmod %04[3]o \"$t\" && mv -f -- \"$t\" %[4]s; then exit 0; fi\n"+
		"rm -f -- \"$t\"\n"+
		"exit 1",
		shell.Quote(dashSafe(dir)), shell.Quote(dashSafe(tmp)), mode.Perm(), shell.Quote(dashSafe(p)))
	return c.runCaptured(ctx, "write "+p, script, RunOptions{Stdin: bytes.NewReader(data)})
}

// Upload unpacks the tar stream into dir on the node, creating dir. Files
// get the user running the command as owner, whoever owned them in the
// archive.
func (c *Client) Upload(ctx context.Context, dir string, tarStream io.Reader) error {
	if dir == "" || strings.ContainsRune(dir, 0) {
		return fmt.Errorf("ssh %s: upload: invalid directory %q", c.addr, dir)
	}
	d := shell.Quote(dashSafe(dir))
	script := fmt.Sprintf("mkdir -p -- %s && exec tar -x --no-same-owner -f - -C %s", d, d)
	return c.runCaptured(ctx, "upload to "+dir, script, RunOptions{Stdin: tarStream})
}

// Download writes to w a tar stream of the paths under dir on the node
// that match patterns. Patterns are relative to dir, with bash's globbing
// and globstar: "outputs", "*.json", "logs/**/*.txt". A matching
// directory brings its whole tree; a pattern matching nothing adds
// nothing; a path matched twice is stored once. Names in the stream start
// with "./".
func (c *Client) Download(ctx context.Context, dir string, patterns []string, w io.Writer) error {
	if dir == "" || strings.ContainsRune(dir, 0) {
		return fmt.Errorf("ssh %s: download: invalid directory %q", c.addr, dir)
	}
	words := make([]string, 0, len(patterns))
	for _, p := range patterns {
		word, err := globWord(p)
		if err != nil {
			return fmt.Errorf("ssh %s: download from %s: %w", c.addr, dir, err)
		}
		words = append(words, word)
	}
	script := "exec bash -c " + shell.Quote(collectScript(dashSafe(dir), words))
	return c.runCaptured(ctx, "download from "+dir, script, RunOptions{Stdout: w})
}

// globWord checks a pattern and returns it as the shell word to expand:
// cleaned, and starting with "./" so no match can pass for an option of
// find or tar.
func globWord(p string) (string, error) {
	clean := path.Clean(p)
	switch {
	case p == "" || strings.ContainsRune(p, 0):
		return "", fmt.Errorf("output pattern %q: empty or contains a NUL byte", p)
	case path.IsAbs(clean):
		return "", fmt.Errorf("output pattern %q: must be relative to the directory it is collected from", p)
	case clean == ".." || strings.HasPrefix(clean, "../"):
		return "", fmt.Errorf("output pattern %q: must not reach outside the directory it is collected from", p)
	case clean == ".":
		return ".", nil
	}
	return "./" + clean, nil
}

// collectScript is the bash program behind Download. The patterns are
// expanded from a variable with IFS empty, which globs but neither splits
// nor runs anything: a pattern is never code. find lists each match with
// its tree; sort -zu drops duplicates and puts every directory before its
// contents; tar then stores exactly that list.
func collectScript(dir string, words []string) string {
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = shell.Quote(w)
	}
	return "cd -- " + shell.Quote(dir) + " || exit\n" +
		"shopt -s globstar nullglob\n" +
		"set -o pipefail\n" +
		"IFS=\n" +
		"found=()\n" +
		"for p in " + strings.Join(quoted, " ") + "; do\n" +
		"  for f in $p; do\n" +
		"    if [ -e \"$f\" ] || [ -L \"$f\" ]; then found+=(\"$f\"); fi\n" +
		"  done\n" +
		"done\n" +
		"if [ ${#found[@]} -eq 0 ]; then exec tar -c -f - -T /dev/null; fi\n" +
		"find \"${found[@]}\" -print0 | LC_ALL=C sort -zu | tar -c -f - --null --no-recursion -T -\n"
}

// dashSafe keeps a relative path that starts with "-" from reading as an
// option.
func dashSafe(p string) string {
	if strings.HasPrefix(p, "-") {
		return "./" + p
	}
	return p
}
