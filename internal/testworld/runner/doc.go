// Package runner plays the GitHub Actions runner for sear's Docker action, for tests: it builds
// the action's image from the repository's Dockerfile (scripts/action-image, once per process)
// and runs action.yml's entry points in it with the docker run the runner uses for a Docker
// action (actions/runner's ContainerActionHandler and DockerCommandManager.DockerRun):
//
//	docker run --name NAME --label LABEL --workdir /github/workspace --rm
//	    -e NAME ... -e GITHUB_ACTIONS=true -e CI=true --entrypoint ENTRYPOINT --network NETWORK
//	    -v /var/run/docker.sock:/var/run/docker.sock -v _temp/_github_home:/github/home
//	    -v _temp/_github_workflow:/github/workflow
//	    -v _temp/_runner_file_commands:/github/file_commands -v WORKSPACE:/github/workspace
//	    IMAGE [runs.args]
//
// Variables are passed by name only (their values in docker run's environment, never on its
// command line): every input as INPUT_<NAME> (hyphens kept; declared inputs left out get their
// defaults, ${{ github.token }} evaluated), the github context's GITHUB_* variables, the
// runner's RUNNER_* ones, HOME, the file commands (GITHUB_OUTPUT, GITHUB_STATE, GITHUB_ENV,
// GITHUB_PATH, GITHUB_STEP_SUMMARY, fresh files for every step), and the world's variables,
// which stand for the workflow's env: block, minus GITHUB_TOKEN, which the runner never sets.
// Paths under the four mounted directories are translated to the container's, as the runner
// translates them; RUNNER_TEMP and RUNNER_WORKSPACE keep their host paths, as there.
//
// A step's outputs, state, env, path and summary are read back as the runner reads them, and a
// post step gets the main step's state as STATE_<name>. Cancellation follows the runner's
// sequence (SIGINT to docker run, SIGTERM 7.5 s later, SIGKILL of docker run 2.5 s after that),
// or is done step by step with Signal and Kill.
//
// The container reaches the test world the way an action reaches AWS and GitHub from a runner:
// over the network. It joins a Docker network (as the runner passes its job network) and calls
// the world at the network's gateway, where the world listens besides loopback
// (world.Options.ListenAlso); on the Docker backend's network it also reaches the instances at
// their private addresses, over SSH, as sear does in a VPC:
//
//	b, _ := docker.New(ctx, docker.Options{})
//	n, _ := runner.InspectNetwork(ctx, b.Network())      // or runner.CreateNetwork, for memory
//	w, _ := world.Start(ctx, world.Options{Backend: b, ListenAlso: []netip.Addr{n.Gateway}})
//	j, _ := runner.NewJob(ctx, runner.JobOptions{Dir: t.TempDir(), World: w, Network: n})
//	main, _ := j.Run(ctx, runner.Step{With: map[string]string{"runnable": "r.yaml", "cluster": "c.yaml",
//		"aws-role-arn": w.Seed().RoleARN}}, nil)
//	post, _ := j.Run(ctx, runner.Step{Stage: runner.Post, State: main.State}, nil)
//
// Files the container writes in the workspace belong to its root, as on the runner; tests that
// run as another user cannot remove them.
//
// The package is test support: product code never imports it.
package runner
