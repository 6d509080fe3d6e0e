//go:build !linux

package sshd

import "syscall"

// groupAlive says whether process group pgid has a member. Without /proc,
// zombies count as members; where init reaps orphans, as launchd does,
// they do not last.
func groupAlive(pgid int) bool {
	return syscall.Kill(-pgid, 0) != syscall.ESRCH
}
