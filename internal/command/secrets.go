package command

import (
	"context"
	"flag"
	"fmt"
)

// registerSecretsFlags defines the three flags that say which secrets go
// to the job and where, with one name and one meaning in sear plan, sear
// run and sear secrets, as the action's inputs spell them.
func registerSecretsFlags(fs *flag.FlagSet, path, section, include *string) {
	fs.StringVar(path, "secrets-json", "", "a `FILE` holding a JSON object of secret names to values, such as the workflow's toJSON(secrets)")
	fs.StringVar(section, "secrets-section", "SECRETS", "the INI `SECTION` for secret names without \"__\"")
	fs.StringVar(include, "secrets-include", "", "comma-separated secret `NAMES` or path.Match patterns to pass on (default every secret but github_token)")
}

// secretsFlagSet defines sear secrets' flags; the names they had before
// they were the same as plan's and run's still work, for one release.
func secretsFlagSet(s streams) (fs *flag.FlagSet, path, section, include *string) {
	fs = flag.NewFlagSet("secrets", flag.ContinueOnError)
	path, section, include = new(string), new(string), new(string)
	registerSecretsFlags(fs, path, section, include)
	deprecate(fs, s.stderr, "section", "secrets-section")
	deprecate(fs, s.stderr, "include", "secrets-include")
	return fs, path, section, include
}

func runSecrets(_ context.Context, s streams, args []string) int {
	fs, path, section, include := secretsFlagSet(s)
	if code, ok := parseFlags(fs, s, args); !ok {
		return code
	}
	if !require(fs, s, "secrets-json") {
		return ExitUsage
	}
	f, err := loadSecrets(*path, *section, *include)
	if err != nil {
		fmt.Fprintf(s.stderr, "sear secrets: %v\n", err)
		return ExitFailure
	}
	for _, w := range f.Warnings {
		fmt.Fprintf(s.stderr, "warning: %s\n", w)
	}
	if _, err := s.stdout.Write(f.INI); err != nil {
		fmt.Fprintf(s.stderr, "sear secrets: %v\n", err)
		return ExitFailure
	}
	return ExitOK
}
