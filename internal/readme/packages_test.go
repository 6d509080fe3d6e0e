package readme

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// repoRoot is the repository, from this package's directory.
const repoRoot = "../.."

// packagesTable is README.md's table of packages, in "Developing sear",
// between <!-- checked:packages ... --> and <!-- /checked:packages -->.
var packagesTable = regexp.MustCompile(`(?s)<!-- checked:packages [^>]*-->\n(.*?)<!-- /checked:packages -->`)

// TestPackagesTable holds "Developing sear"'s table of packages to the
// tree: a row for every Go package under cmd/ and internal/, and no row
// naming a package that does not exist (rows for other directories, such
// as examples/, end with a slash). A package added without a row fails
// here until the README says what it owns.
func TestPackagesTable(t *testing.T) {
	section := developingSection(t)
	m := packagesTable.FindStringSubmatch(section)
	if m == nil {
		t.Fatal(`README.md's "Developing sear" has no table of packages: put the "| path | what it owns |" table between` +
			"\n<!-- checked:packages (go test ./internal/readme checks that every package has a row) -->\n<!-- /checked:packages -->")
	}
	rows := tableRows(m[1], 2)
	pkgs := packageDirs(t)
	for _, p := range pkgs {
		if _, ok := rows[p]; !ok {
			t.Errorf("README.md: the table of packages in \"Developing sear\" has no row for %s; add\n| `%s` | what it owns |", p, p)
		}
	}
	known := map[string]bool{}
	for _, p := range pkgs {
		known[p] = true
	}
	for name, row := range rows {
		switch {
		case strings.HasSuffix(name, "/"):
			if info, err := os.Stat(filepath.Join(repoRoot, filepath.FromSlash(name))); err != nil || !info.IsDir() {
				t.Errorf("README.md: the table of packages has a row for %s, which is not a directory of the repository", name)
			}
		case !known[name]:
			t.Errorf("README.md: the table of packages has a row for %s, which is no package under cmd/ or internal/ "+
				"(a directory that is not a package ends with a slash)", name)
		case strings.TrimSpace(row[1]) == "":
			t.Errorf("README.md: the table of packages says nothing of what %s owns", name)
		}
	}
}

// packageDirs are the directories under cmd/ and internal/ that hold a Go
// package, relative to the repository with forward slashes, found as
// `go list ./...` finds them: a directory with a .go file (test files
// count: a package of tests only is still listed), skipping testdata and
// directories whose names start with "." or "_".
func packageDirs(t *testing.T) []string {
	t.Helper()
	seen := map[string]bool{}
	for _, top := range []string{"cmd", "internal"} {
		err := filepath.WalkDir(filepath.Join(repoRoot, top), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if d.IsDir() {
				if p != filepath.Join(repoRoot, top) && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
					return filepath.SkipDir
				}
				return nil
			}
			if strings.HasSuffix(name, ".go") && !strings.HasPrefix(name, ".") && !strings.HasPrefix(name, "_") {
				rel, err := filepath.Rel(repoRoot, filepath.Dir(p))
				if err != nil {
					return err
				}
				seen[filepath.ToSlash(rel)] = true
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	if len(out) == 0 {
		t.Fatal("found no Go package under cmd/ or internal/")
	}
	return out
}
