package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sear-ci/sear/internal/pipeline"
)

// cluster is the typed state the steps share.
type cluster struct {
	groupID     string
	instanceIDs []string
}

func Example() {
	steps := []pipeline.Step[cluster]{
		{
			Name: "security-group",
			Run: func(_ context.Context, c *cluster) error {
				c.groupID = "sg-1" // recorded the moment it exists
				return nil
			},
			Cleanup: func(_ context.Context, c *cluster) error {
				fmt.Println("delete", c.groupID)
				return nil
			},
		},
		{
			Name: "launch",
			Run: func(_ context.Context, c *cluster) error {
				c.instanceIDs = []string{"i-1", "i-2"}
				return errors.New("i-2 failed to boot")
			},
			Cleanup: func(_ context.Context, c *cluster) error {
				fmt.Println("terminate", c.instanceIDs)
				return nil
			},
		},
		{
			Name: "job",
			Run:  func(context.Context, *cluster) error { panic("not reached") },
		},
	}
	opts := pipeline.Options{
		CleanupTimeout: 5 * time.Minute,
		Observe: func(e pipeline.Event) {
			if e.Done {
				fmt.Printf("%s %s done, err=%v\n", e.Phase, e.Step, e.Err)
			}
		},
	}
	var c cluster
	err := pipeline.Run(context.Background(), &c, steps, opts)
	fmt.Println(err)
	// Output:
	// run security-group done, err=<nil>
	// run launch done, err=i-2 failed to boot
	// terminate [i-1 i-2]
	// cleanup launch done, err=<nil>
	// delete sg-1
	// cleanup security-group done, err=<nil>
	// run "launch": i-2 failed to boot
}
