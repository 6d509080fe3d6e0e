package command

import (
	"context"
	"flag"
	"fmt"
)

func runSecrets(_ context.Context, s streams, args []string) int {
	fs := flag.NewFlagSet("secrets", flag.ContinueOnError)
	path := fs.String("secrets-json", "", "a file holding a JSON object of secret names to values")
	section := fs.String("section", "SECRETS", "the INI section for secret names without \"__\"")
	include := fs.String("include", "", "comma-separated secret names or patterns to pass on (default all)")
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
