// Package remote is the SSH client sear uses for every node, EC2 instance
// or local node alike: dial with a pinned host key and retries while the
// node boots, keepalives that notice a dead link, commands that end with
// their context (their whole process group on the node), and file
// transfer over plain tar.
//
// Nothing secret travels on a command line or in an environment variable
// here: secrets go as file contents on stdin (WriteFile), and errors never
// quote stdin or file contents.
package remote
