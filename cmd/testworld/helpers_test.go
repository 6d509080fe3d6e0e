package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// readExports reads testworld up's export lines until SEAR_TESTWORLD_URL, the last one, and
// undoes their quoting. Any other line on stdout fails the test.
func readExports(t *testing.T, sc *bufio.Scanner) map[string]string {
	t.Helper()
	env := map[string]string{}
	for sc.Scan() {
		line := sc.Text()
		name, quoted, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if !ok || !strings.HasPrefix(line, "export ") || len(quoted) < 2 || quoted[0] != '\'' || quoted[len(quoted)-1] != '\'' {
			t.Fatalf("stdout line %q is not export NAME='value'", line)
		}
		env[name] = strings.ReplaceAll(quoted[1:len(quoted)-1], `'\''`, "'")
		if name == "SEAR_TESTWORLD_URL" {
			return env
		}
	}
	t.Fatalf("stdout ended (%v) before SEAR_TESTWORLD_URL; read %v", sc.Err(), env)
	return nil
}

func getJSON(t *testing.T, url string, out any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}
