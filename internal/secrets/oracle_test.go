package secrets

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// oracleScript answers length-prefixed requests on stdin, one JSON line
// each on stdout. "ini N" reads N bytes of INI the way Flambé does:
// ConfigParser() with its defaults, the bytes decoded as UTF-8 through the
// same TextIOWrapper (universal newlines) that open() in read() returns,
// then get(section, key) for every key, so interpolation runs too.
// "isspace 0" lists the code points for which str.isspace() holds.
const oracleScript = `
import configparser, io, json, sys

def read(data):
    cp = configparser.ConfigParser()
    cp.read_file(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"), "secrets.ini")
    got = {s: {k: cp.get(s, k) for k in cp.options(s)} for s in cp.sections()}
    if cp.defaults():
        got[cp.default_section] = dict(cp.defaults())
    return got

while True:
    header = sys.stdin.buffer.readline()
    if not header:
        break
    command, size = header.split()
    data = sys.stdin.buffer.read(int(size))
    try:
        if command == b"isspace":
            answer = {"ok": [c for c in range(0x110000) if chr(c).isspace()]}
        else:
            answer = {"ok": read(data)}
    except Exception as e:
        answer = {"error": type(e).__name__ + ": " + str(e)}
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
`

// oracle is the one python3 process of this test binary (and of each fuzz
// worker, which runs TestMain too), shared by every test under a lock.
type oracle struct {
	mu  sync.Mutex
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

var (
	oracleOnce sync.Once
	theOracle  *oracle
	oracleErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if theOracle != nil {
		theOracle.stop()
	}
	os.Exit(code)
}

// startOracle starts python3; -I keeps the user's site and environment out.
func startOracle() (*oracle, error) {
	cmd := exec.Command("python3", "-I", "-c", oracleScript)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the configparser oracle (python3 is required): %w", err)
	}
	return &oracle{cmd: cmd, in: in, out: bufio.NewReader(out)}, nil
}

// stop closes python's stdin, which ends its loop, and kills it only if it
// does not exit in time.
func (o *oracle) stop() {
	o.in.Close()
	done := make(chan struct{})
	go func() { o.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		o.cmd.Process.Kill()
		<-done
	}
}

// ask sends one request and decodes the answer's "ok" into ok; the
// returned string is python's exception, if it raised one.
func (o *oracle) ask(command string, data []byte, ok any) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, err := fmt.Fprintf(o.in, "%s %d\n", command, len(data)); err != nil {
		return "", err
	}
	if _, err := o.in.Write(data); err != nil {
		return "", err
	}
	line, err := o.out.ReadBytes('\n')
	if err != nil {
		return "", fmt.Errorf("read the oracle's answer: %w", err)
	}
	var answer struct {
		OK    json.RawMessage `json:"ok"`
		Error string          `json:"error"`
	}
	if err := json.Unmarshal(line, &answer); err != nil {
		return "", err
	}
	if answer.Error != "" {
		return answer.Error, nil
	}
	return "", json.Unmarshal(answer.OK, ok)
}

func theOracleFor(t testing.TB) *oracle {
	t.Helper()
	oracleOnce.Do(func() { theOracle, oracleErr = startOracle() })
	if oracleErr != nil {
		t.Fatal(oracleErr)
	}
	return theOracle
}

// readBack is what configparser reads from ini: {section: {key: value}},
// or the exception it raised.
func readBack(t testing.TB, ini []byte) (map[string]map[string]string, string) {
	t.Helper()
	var got map[string]map[string]string
	pyErr, err := theOracleFor(t).ask("ini", ini, &got)
	if err != nil {
		t.Fatalf("configparser oracle: %v", err)
	}
	return got, pyErr
}

// pythonSpaces lists the code points for which str.isspace() holds.
func pythonSpaces(t testing.TB) []rune {
	t.Helper()
	var got []rune
	pyErr, err := theOracleFor(t).ask("isspace", nil, &got)
	if err != nil || pyErr != "" {
		t.Fatalf("configparser oracle: %v %s", err, pyErr)
	}
	return got
}

// readsBackAs reports whether configparser reads value back unchanged when
// encodeOption writes it without any check.
func readsBackAs(t testing.TB, value string) (bool, string) {
	t.Helper()
	got, pyErr := readBack(t, []byte("[S]\n"+encodeOption("k", value)))
	if pyErr != "" {
		return false, pyErr
	}
	v, ok := got["S"]["k"]
	if ok && v == value && len(got) == 1 && len(got["S"]) == 1 {
		return true, ""
	}
	return false, fmt.Sprintf("read back %q", got)
}
