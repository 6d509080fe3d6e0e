// Package secrets converts the GitHub Actions secrets JSON (what
// ${{ toJSON(secrets) }} produces: an object of name to string) into the INI
// file that Flambé reads with Python's default configparser.ConfigParser().
//
// The file must read back value for value. configparser's reader (CPython
// 3.11, RawConfigParser._read) sets the rules this package enforces:
//
//   - Each line is stripped with str.strip(), so whitespace (str.isspace,
//     which includes U+001C..U+001F, U+0085 and U+00A0) at the start or end
//     of a value or of any of its lines is lost.
//   - A value continues on lines indented deeper than its key; blank lines
//     inside it are kept, but the joined value is rstrip()ped, so trailing
//     line breaks are lost.
//   - A continuation line whose first non-space character is '#' or ';' is a
//     comment and is dropped.
//   - The file is opened in text mode, whose universal newlines turn "\r"
//     and "\r\n" into line breaks.
//   - BasicInterpolation reads "%%" as "%" and refuses any other '%', so
//     every '%' is written doubled.
//   - Keys go through optionxform (str.lower), sections do not; the section
//     "DEFAULT" holds defaults that show up in every other section.
//
// What configparser cannot read back exactly is refused with an error that
// names the secret and the remedy, never changed silently.
//
// The writer is the few lines in write.go rather than gopkg.in/ini.v1:
// ini.v1 writes a value that contains a line break as """…""" and one that
// contains '#' or ';' between backquotes, and configparser keeps those quotes
// as part of the value; ini.v1 also knows nothing of '%' interpolation.
package secrets

import (
	"cmp"
	"errors"
	"slices"
)

// DefaultSection is the section for secret names without "__" when
// Options.Section is empty.
const DefaultSection = "SECRETS"

// Options narrow and place the secrets.
type Options struct {
	// Section is the section for names without "__"; "" means DefaultSection.
	Section string
	// Include lists names or path.Match patterns, compared case-insensitively
	// like GitHub secret names; empty means every secret but github_token.
	Include []string
}

// File is the converted result.
type File struct {
	// INI is the file's bytes; empty when no secret is selected.
	INI []byte
	// Sections lists the sections in file order with their key names as
	// configparser reads them back (lower-cased), never values.
	Sections []Section
	// Mask lists every string that must be masked in logs: each value, each
	// line of a multi-line value and each value's base64 and URL-encoded
	// forms; longest first, without duplicates or empty strings.
	Mask []string
	// Warnings are problems that do not stop the conversion, such as an
	// include pattern that matches no secret.
	Warnings []string
}

// Section is one section of the file and the keys it holds.
type Section struct {
	Name string
	Keys []string
}

// problem is one error about one secret; name orders problems so that
// Convert reports them in a stable order.
type problem struct {
	name string
	err  error
}

// Convert turns the secrets JSON data into the INI file described by opts.
//
// It reports every problem at once, joined with errors.Join, and no error
// ever contains a secret's value. When data is a JSON object but the
// secrets cannot be converted, Convert returns a non-nil *File holding
// Mask and Warnings together with the error, so the caller can mask the
// values before it reports the error.
func Convert(data []byte, opts Options) (*File, error) {
	entries, err := decode(data)
	if err != nil {
		return nil, err
	}
	f := &File{Mask: maskFor(entries)}
	section, errs := checkSection(opts.Section)
	chosen, warnings, includeErrs := choose(entries, opts.Include)
	f.Warnings = warnings
	errs = append(errs, includeErrs...)
	options, problems := placeAll(chosen, section)
	problems = append(problems, folds(options)...)
	slices.SortStableFunc(problems, func(a, b problem) int { return cmp.Compare(a.name, b.name) })
	for _, p := range problems {
		errs = append(errs, p.err)
	}
	if len(errs) > 0 {
		return f, errors.Join(errs...)
	}
	f.INI, f.Sections = write(options)
	return f, nil
}
