// Command probe stands in for sear inside the action's image, to show the harness's tests what
// a step's process gets and can do. It runs its arguments as commands, in order:
//
//	env            print {"uid", "gid", "dir", "env", "event"} as JSON (event: GITHUB_EVENT_PATH's content)
//	get URL        GET the URL; print "get URL STATUS"
//	dial ADDR      connect over TCP until a line arrives (90 s at most); print "dial ADDR LINE"
//	files          write GITHUB_OUTPUT (plain and heredoc), GITHUB_STATE, GITHUB_STEP_SUMMARY
//	signals        print "ready", then "got SIGNAL" for every SIGINT and SIGTERM, forever
//
// It is built static (CGO_ENABLED=0), like sear, so it runs in the distroless image.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	args := os.Args[1:]
	for len(args) > 0 {
		cmd := args[0]
		args = args[1:]
		var err error
		switch cmd {
		case "env":
			err = printEnv()
		case "get":
			err = get(args[0])
			args = args[1:]
		case "dial":
			err = dial(args[0])
			args = args[1:]
		case "files":
			err = files()
		case "signals":
			signals()
		default:
			err = fmt.Errorf("unknown command %q", cmd)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "probe:", err)
			os.Exit(1)
		}
	}
}

func printEnv() error {
	dir, err := os.Getwd()
	if err != nil {
		return err
	}
	event, err := os.ReadFile(os.Getenv("GITHUB_EVENT_PATH"))
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"uid": os.Getuid(), "gid": os.Getgid(), "dir": dir, "env": os.Environ(), "event": json.RawMessage(event),
	})
}

func get(url string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	resp.Body.Close()
	fmt.Println("get", url, resp.StatusCode)
	return nil
}

func dial(addr string) error {
	deadline := time.Now().Add(90 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err == nil {
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			line, err := bufio.NewReader(conn).ReadString('\n')
			conn.Close()
			if err == nil {
				fmt.Println("dial", addr, line)
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("dial %s: nothing for 90 s: %v", addr, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func files() error {
	for _, f := range []struct{ variable, content string }{
		{"GITHUB_OUTPUT", "plain=one=two\nmulti<<ghadelimiter_7f\nline 1\n\nline 3\nghadelimiter_7f\n"},
		{"GITHUB_STATE", "run-id=run-1234\n"},
		{"GITHUB_STEP_SUMMARY", "## probe\n"},
	} {
		file, err := os.OpenFile(os.Getenv(f.variable), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		if _, err := file.WriteString(f.content); err != nil {
			return err
		}
		if err := file.Close(); err != nil {
			return err
		}
	}
	return nil
}

func signals() {
	c := make(chan os.Signal, 4)
	signal.Notify(c, syscall.SIGINT, syscall.SIGTERM)
	fmt.Println("ready")
	for s := range c {
		fmt.Println("got", s)
	}
}
