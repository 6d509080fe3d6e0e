package command

// docs are the commands' help, printed by printHelp; every command in
// subcommands has one (a test checks).
var docs = map[string]doc{
	"plan": {
		summary:  "validate the inputs; print the plan and the IAM policies it needs",
		synopsis: []string{"plan --runnable FILE --cluster FILE [flags]"},
		description: []string{
			"sear plan reads the runnable and the cluster file, and the secrets JSON if given, " +
				"and launches nothing. It prints what a run would do: its nodes, the job's command and the lifetime bounds; " +
				"with --secrets-json how many secrets go to the nodes and their names, never their values; and, for an !AWSCluster, " +
				"the tags, the security-group rules and the IAM trust and permission policies the role needs, " +
				"scoped by --node-role and the --trust-* flags. Re-run it when the instance types, AMIs, subnet or security group change.",
			"Every problem in the files is reported at once, as file:line:col with the line, a caret and the nearest valid name. " +
				"The credentials of a URL (https://user:token@host/...) are never shown.",
		},
		examples: []example{
			{"Check an experiment before pushing it", "sear plan --runnable experiments/bert.yaml --cluster clusters/gpu.yaml"},
			{"The policies for a role that manual runs on main may also assume, as JSON",
				"sear plan --runnable experiments/bert.yaml --cluster clusters/gpu.yaml \\\n    --repository octo/exp --trust-branch main --json"},
		},
		exits: []exit{
			{ExitOK, "the plan was printed"},
			{ExitFailure, "a problem in the runnable, the cluster file or the secrets JSON (every one listed)"},
			usageExit,
		},
	},
	"run": {
		summary:  "run the job on a cluster, bring its outputs home, tear it down",
		synopsis: []string{"run --runnable FILE --cluster FILE [flags]"},
		description: []string{
			"sear run validates every input as sear plan does, then brings the cluster up, uploads the workspace, " +
				"runs the job while streaming its log, brings its outputs and metrics back to --output-dir, " +
				"and tears the cluster down on success, failure, timeout or a signal. A !LocalCluster runs the nodes on this machine " +
				"and needs no cloud account.",
			"Secrets from --secrets-json reach the job as an INI file and are masked in everything sear prints. " +
				"--command replaces the runnable's command with a shell command on the orchestrator, " +
				"as the action's command input does; --max-duration overrides the cluster file's max_duration, " +
				"after which the job is stopped and reported as timed out.",
			"AWS credentials: with --aws-role-arn the workflow's OIDC token assumes the role; without it, the AWS SDK's default chain " +
				"(environment, shared files, SSO). GITHUB_TOKEN, if set, clones the runnable's git extensions from GITHUB_SERVER_URL.",
			"The first SIGINT, SIGTERM or SIGHUP starts the teardown; a second stops waiting for it (terminate calls already sent complete). " +
				"On AWS the run's id is printed first: if anything outlives the run, `sear sweep --run-id ID` deletes it.",
		},
		examples: []example{
			{"Run the quickstart on this machine: no cloud account needed",
				"sear run --runnable examples/quickstart/runnable.yaml \\\n    --cluster examples/quickstart/cluster.yaml --workspace examples/quickstart"},
			{"On AWS, with two of the secrets, for two hours at most, keeping the report",
				"sear run --runnable experiments/bert.yaml --cluster clusters/gpu.yaml \\\n" +
					"    --secrets-json secrets.json --secrets-include 'WANDB__*,HF__TOKEN' \\\n" +
					"    --max-duration 2h --report-file report.md"},
			{"Check the nodes' GPUs instead of running the experiment",
				"sear run --runnable experiments/bert.yaml --cluster clusters/gpu.yaml \\\n    --command 'nvidia-smi'"},
		},
		exits: []exit{
			{ExitOK, "the job succeeded; its outputs are in --output-dir"},
			{ExitFailure, "a problem in the inputs (nothing was launched), or the job failed, timed out or did not finish, " +
				"or the report file could not be written; the cluster is torn down in every case"},
			usageExit,
		},
	},
	"sweep": {
		summary: "delete what earlier runs left behind, found by tag",
		synopsis: []string{
			"sweep --run-id ID [flags]",
			"sweep --cluster-id ID [flags]",
			"sweep --expired [flags]",
		},
		description: []string{
			"sear sweep finds the instances and security groups that sear's runs tagged, in one region, and deletes them: " +
				"every cluster of one run (--run-id, the id sear run prints first), one cluster (--cluster-id, sear-..., in the log and the report), " +
				"or whatever any run left past its sear:expires-at (--expired, safe on a schedule: a run still within its lifetime is left alone). " +
				"Give exactly one of the three.",
			"--repository limits the sweep to one repository's runs (tag sear:repository), so an account that other repositories share keeps theirs. " +
				"--dry-run lists what would be deleted. Deletes are idempotent, and a sweep that started finishes even after a signal.",
			"AWS credentials: with --aws-role-arn the workflow's OIDC token assumes the role; without it, the AWS SDK's default chain.",
		},
		examples: []example{
			{"See what any run left past its expiry in us-east-1, deleting nothing", "sear sweep --expired --dry-run --region us-east-1"},
			{"Delete what one run left (sear run printed its id)", "sear sweep --run-id local-1a2b3c4d5e6f --region us-east-1"},
			{"Delete what one repository's runs left past their expiry", "sear sweep --expired --repository octo/exp --region eu-west-1"},
		},
		exits: []exit{
			{ExitOK, "everything found was deleted (with --dry-run: listed)"},
			{ExitFailure, "no AWS credentials, or something could not be deleted; the message says what"},
			{ExitUsage, "a usage error, or not exactly one of --run-id, --cluster-id and --expired"},
		},
	},
	"secrets": {
		summary:  "print the INI file the job reads, made from a secrets JSON object",
		synopsis: []string{"secrets --secrets-json FILE [flags]"},
		description: []string{
			"sear secrets prints to stdout the INI file a run gives the job, made from --secrets-json as sear run and the action make it, " +
				"to check what the job will read. A name SECTION__KEY becomes key in [SECTION]; other names go to --secrets-section; " +
				"github_token is left out unless --secrets-include names it.",
			"--secrets-include keeps only the secrets it names, exactly or by path.Match patterns such as WANDB__*: " +
				"a name that is not among the secrets is an error, a pattern that matches none a warning. " +
				"A value Python's configparser cannot read back exactly is refused with the secret's name, never its value.",
			"--section and --include, the names these flags had before, still work in this release and say so on stderr.",
		},
		examples: []example{
			{"The INI a run would give the job, with only the W&B and Hugging Face secrets",
				"sear secrets --secrets-json secrets.json \\\n    --secrets-include 'WANDB__*,HF__TOKEN'"},
		},
		exits: []exit{
			{ExitOK, "the INI was printed"},
			{ExitFailure, "the secrets JSON could not be read, or a secret was refused (the message names it, never its value)"},
			usageExit,
		},
	},
	"action": {
		summary:  "the GitHub Action's main step, and with post its post step",
		synopsis: []string{"action", "action post"},
		description: []string{
			"sear action is the action's main step, run by the image's sear-action entry point; sear action post is its post step " +
				"(sear-action-post), which sweeps the main step's cluster with fresh credentials, whatever became of the main step.",
			"Neither takes flags: the inputs come from the step's with: as the runner passes them (INPUT_RUNNABLE, INPUT_AWS-ROLE-ARN, ...), " +
				"listed in action.yml and the README's Inputs, and the workflow from the runner's GITHUB_* variables. " +
				"Every input problem is reported at once. On the command line use sear run, whose flags are the inputs that make sense outside a workflow.",
		},
		examples: []example{
			{"As a workflow's step (the runner starts the image's entry points)",
				"- uses: sear-ci/sear@v1\n  with:\n    runnable: experiments/bert.yaml\n    cluster: clusters/gpu.yaml"},
		},
		exits: []exit{
			{ExitOK, "the job succeeded (the post step and a sweep: everything was deleted)"},
			{ExitFailure, "anything else: an input or configuration problem, a refused fork pull request, " +
				"a failed or timed-out job, a sweep that left something behind"},
			{ExitUsage, "an argument other than post"},
		},
	},
	"version": {
		summary:  "print sear's version, commit, build date and Go version",
		synopsis: []string{"version", "--version"},
		description: []string{
			"sear version prints the release's version, the commit it was built from, its build date, " +
				"and the Go toolchain and platform. A build from a checkout says (devel) or its pseudo-version, " +
				"the commit with +dirty if the tree had uncommitted changes, and the commit's time for the date.",
		},
		examples: []example{
			{"Say which sear a bug report is about", "sear version"},
		},
		exits: []exit{
			{ExitOK, "the version was printed"},
			usageExit,
		},
	},
}
