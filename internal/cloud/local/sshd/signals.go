package sshd

import "syscall"

// signalByName maps the signal names of RFC 4254 section 6.10 (without
// "SIG") to signals. sshd knows exactly these (sig2name, name2sig).
var signalByName = map[string]syscall.Signal{
	"ABRT": syscall.SIGABRT,
	"ALRM": syscall.SIGALRM,
	"FPE":  syscall.SIGFPE,
	"HUP":  syscall.SIGHUP,
	"ILL":  syscall.SIGILL,
	"INT":  syscall.SIGINT,
	"KILL": syscall.SIGKILL,
	"PIPE": syscall.SIGPIPE,
	"QUIT": syscall.SIGQUIT,
	"SEGV": syscall.SIGSEGV,
	"TERM": syscall.SIGTERM,
	"USR1": syscall.SIGUSR1,
	"USR2": syscall.SIGUSR2,
}

// signalName names sig for "exit-signal". A signal RFC 4254 has no name for
// gets "SIG@openssh.com", as from sshd's sig2name.
func signalName(sig syscall.Signal) string {
	for name, s := range signalByName {
		if s == sig {
			return name
		}
	}
	return "SIG@openssh.com"
}
