package sshd

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// groupAlive says whether process group pgid has a member that is not a
// zombie. kill(-pgid, 0) alone would count zombies: an orphan whose parent
// died is reparented to pid 1, and where pid 1 does not reap (some
// container inits), it stays a zombie for good although it runs no more.
func groupAlive(pgid int) bool {
	if syscall.Kill(-pgid, 0) == syscall.ESRCH {
		return false
	}
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil || len(stats) == 0 {
		return true // no /proc: trust kill
	}
	for _, path := range stats {
		if state, group, ok := procStat(path); ok && group == pgid && state != "Z" {
			return true
		}
	}
	return false
}

// procStat reads a process's state and process group from /proc/PID/stat:
// "pid (comm) state ppid pgrp ...", where comm may hold spaces and
// parentheses, so the fields are counted from the last ')'.
func procStat(path string) (state string, pgid int, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", 0, false // exited meanwhile
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 3 {
		return "", 0, false
	}
	pgid, err = strconv.Atoi(fields[2])
	return fields[0], pgid, err == nil
}
