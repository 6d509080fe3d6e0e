package docker

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"time"

	"github.com/sear-ci/sear/internal/testworld/image"
)

// Instances that power themselves off are noticed through one docker events stream for the whole
// world (container deaths with its label) rather than one docker wait per container: a world of
// 32 instances then costs one CLI process, not 32.

// event is the part of a docker events JSON line that the backend reads.
type event struct {
	TimeNano int64 `json:"timeNano"`
	Actor    struct {
		Attributes map[string]string `json:"Attributes"` // the container's labels, and exitCode
	} `json:"Actor"`
}

// watch follows the event stream until Close, starting it again if it breaks (the CLI killed,
// the engine restarted) from just after the last event it delivered.
func (b *Backend) watch(since time.Time) {
	defer close(b.events)
	for {
		last, err := b.follow(since)
		if !last.IsZero() {
			since = last.Add(time.Nanosecond)
		}
		if b.ctx.Err() != nil {
			return
		}
		fmt.Fprintf(b.log, "docker backend %s: the event stream ended (%v); following it again\n", b.label, err)
		select {
		case <-b.ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// follow runs docker events from since, dispatching each container death, and returns the time
// of the last event it saw.
func (b *Backend) follow(since time.Time) (last time.Time, err error) {
	cmd := exec.CommandContext(b.ctx, "docker", "events", "--format", "{{json .}}",
		"--since", fmt.Sprintf("%d.%09d", since.Unix(), since.Nanosecond()),
		"--filter", "type=container", "--filter", "event=die",
		"--filter", "label="+labelKey+"="+b.label)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return last, err
	}
	if err := cmd.Start(); err != nil {
		return last, fmt.Errorf("docker events: %w", err)
	}
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 64<<10), 1<<20)
	for lines.Scan() {
		var ev event
		if err := json.Unmarshal(lines.Bytes(), &ev); err != nil {
			fmt.Fprintf(b.log, "docker backend %s: unreadable event %q: %v\n", b.label, lines.Text(), err)
			continue
		}
		last = time.Unix(0, ev.TimeNano)
		b.died(ev.Actor.Attributes[instanceKey], ev.Actor.Attributes["exitCode"])
	}
	return last, cmd.Wait()
}

// died handles an instance's container ending with exit code: a reboot starts it again, as
// EC2 keeps a rebooting instance running; anything else is the instance powering off, reported
// to the exit handler. Deaths that Stop or Close caused are not the instance's doing.
func (b *Backend) died(instanceID, exitCode string) {
	b.mu.Lock()
	m := b.machines[instanceID]
	if m == nil || m.stopping || b.closed {
		b.mu.Unlock()
		return
	}
	if code, err := strconv.Atoi(exitCode); err == nil && code == image.ExitReboot {
		b.tasks.Add(1)
		go b.reboot(m)
		b.mu.Unlock()
		return
	}
	onExit := b.onExit
	b.mu.Unlock()
	if onExit != nil {
		onExit(instanceID)
	}
}

// reboot starts a container that exited for a reboot again: same disk, same instance-id, so
// cloud-init runs only its per-boot modules. If the engine cannot start it, the instance is
// down for good and reported as having powered off.
func (b *Backend) reboot(m *machine) {
	defer b.tasks.Done()
	m.op.Lock()
	defer m.op.Unlock()
	b.mu.Lock()
	stopping := m.stopping
	b.mu.Unlock()
	if stopping {
		return
	}
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	_, err := run(ctx, nil, "start", m.name)
	if err == nil || b.ctx.Err() != nil {
		return
	}
	fmt.Fprintf(b.log, "docker backend %s: reboot instance %s: %v\n", b.label, m.id, err)
	b.mu.Lock()
	onExit := b.onExit
	stopping = m.stopping
	b.mu.Unlock()
	if onExit != nil && !stopping {
		onExit(m.id)
	}
}
