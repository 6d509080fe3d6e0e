package run

import "os/exec"

func gitInit(dir string) ([]byte, error) {
	return exec.Command("git", "-C", dir, "init", "-q").CombinedOutput()
}
