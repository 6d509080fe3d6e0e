// Package ec2 is the AWS provider: it brings a cluster up on EC2 and takes
// it down (docs/design.md, "EC2").
//
// Launch checks everything it can before creating anything (Preflight:
// region, AMIs, subnet, user data, the runner's address, DryRun requests),
// then creates the per-run security group and one instance per node, each
// with its own bootstrap host key and deadline in its user data, and waits
// until all of them run. It is all or nothing, and it records every
// instance and group the moment its create call returns, so that Teardown
// finds them whatever happens next; Teardown also finds them by the
// sear:cluster-id tag (docs/design.md, "Tags"). Terminate is the fast path
// a signal takes before Teardown. RotateHostKey retires the bootstrap host
// key over SSH.
//
// Sweep finds and deletes, by tag alone, what runs left behind: one
// cluster (the action's post step), one run (sear sweep --run-id) or every
// run past its sear:expires-at (sear sweep --expired). Every delete is
// idempotent, and what could not be deleted is a *LeftoverError with the
// commands that delete it (docs/design.md, "Teardown in four layers").
package ec2
