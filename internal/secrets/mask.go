package secrets

import (
	"github.com/sear-ci/sear/internal/redact"
)

// maskFor lists what the caller must mask: every string value in the JSON,
// selected or not, in every form redact.Forms knows a job may print it in
// (its encodings, its lines, its sanitised text). The stream masker and the
// reports mask this one list, so a report hides whatever the log hides.
func maskFor(entries []entry) []string {
	var values []string
	for _, e := range entries {
		if e.kind == kindString && e.value != "" {
			values = append(values, e.value)
		}
	}
	return redact.Expand(values)
}
