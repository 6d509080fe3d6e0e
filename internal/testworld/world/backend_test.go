package world

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/sear-ci/sear/internal/testworld/fakeec2"
)

// fakeBackend has everything the Docker backend offers, and records what the world asked of it.
type fakeBackend struct {
	mu     sync.Mutex
	onExit func(string)
	log    []string
	cutErr error
}

func (b *fakeBackend) record(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.log = append(b.log, s)
}

func (b *fakeBackend) calls() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.log)
}

func (b *fakeBackend) Start(_ context.Context, s fakeec2.LaunchSpec) (string, error) {
	b.record("start " + s.InstanceID)
	return "10.9.8.7", nil
}

func (b *fakeBackend) Stop(_ context.Context, id string) error {
	b.record("stop " + id)
	return nil
}

func (b *fakeBackend) SetExitHandler(f func(string)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.onExit = f
}

func (b *fakeBackend) Cut(_ context.Context, id string) error {
	b.record("cut " + id)
	return b.cutErr
}

func (b *fakeBackend) Restore(_ context.Context, id string) error {
	b.record("restore " + id)
	return nil
}

func (b *fakeBackend) Close(context.Context) error {
	b.record("close")
	return errors.New("2 containers would not go")
}

// TestBackendWiring shows the world uses what a backend offers: its addresses, network cuts
// through the control endpoint, exits reported back to EC2, and Close.
func TestBackendWiring(t *testing.T) {
	t.Parallel()
	b := &fakeBackend{}
	w, err := Start(context.Background(), Options{Backend: b})
	if err != nil {
		t.Fatal(err)
	}
	env := envMap(t, w)
	id := *launch(t, ec2Client(env, assume(t, env)), withShutdownTerminate)[0].InstanceId
	if st := waitState(t, env, id, "running"); st.PrivateIP != "10.9.8.7" {
		t.Errorf("instance address %s, want the backend's 10.9.8.7", st.PrivateIP)
	}
	mustControl(t, env, http.MethodPost, "/_testworld/instances/"+id+"/cut", nil, nil)
	mustControl(t, env, http.MethodPost, "/_testworld/instances/"+id+"/restore", nil, nil)

	b.cutErr = errors.New("network sear-tw-1 is gone")
	status, raw := control(t, env, http.MethodPost, "/_testworld/instances/"+id+"/cut", nil, nil)
	if status != http.StatusInternalServerError || !strings.Contains(string(raw), "cut the network of "+id+": network sear-tw-1 is gone") {
		t.Errorf("a failing cut answered %d %s", status, raw)
	}

	b.mu.Lock()
	onExit := b.onExit
	b.mu.Unlock()
	if onExit == nil {
		t.Fatal("the world did not give the backend an exit handler")
	}
	onExit(id) // the instance ran shutdown -h
	if st := waitState(t, env, id, "terminated"); st.StateReason != "Client.InstanceInitiatedShutdown" {
		t.Errorf("an instance that powered off ended with %q", st.StateReason)
	}
	status, raw = control(t, env, http.MethodPost, "/_testworld/instances/"+id+"/restore", nil, nil)
	if status != http.StatusConflict {
		t.Errorf("restoring a terminated instance answered %d %s, want 409", status, raw)
	}

	err = w.Close(context.Background())
	if err == nil || !strings.Contains(err.Error(), "close the instance backend: 2 containers would not go") {
		t.Errorf("Close: %v, want the backend's error", err)
	}
	want := []string{"start " + id, "cut " + id, "restore " + id, "cut " + id, "stop " + id, "close"}
	if got := b.calls(); !slices.Equal(got, want) {
		t.Errorf("backend calls %q, want %q", got, want)
	}
	if got := w.State().World.Backend; got != "world.fakeBackend" {
		t.Errorf("state names the backend %q", got)
	}
}

func withShutdownTerminate(in *awsec2.RunInstancesInput) {
	in.InstanceInitiatedShutdownBehavior = types.ShutdownBehaviorTerminate
}
