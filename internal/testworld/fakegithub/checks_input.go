package fakegithub

import (
	"fmt"
	"strings"
	"time"
)

// Limits of the check-runs API ("REST API endpoints for check runs"):
// output.summary and output.text have "Maximum length: 65535 characters",
// and "The Checks API limits the number of annotations to a maximum of 50
// per API request."
const (
	maxOutputChars = 65535
	maxAnnotations = 50
)

var (
	checkStatuses    = []string{"queued", "in_progress", "completed"}
	checkConclusions = []string{"action_required", "cancelled", "failure", "neutral", "success", "skipped", "timed_out"}
	annotationLevels = []string{"notice", "warning", "failure"}
)

// checkInput is a create or update request, nil meaning "not sent".
type checkInput struct {
	name, headSHA, detailsURL, externalID, status, conclusion *string
	startedAt, completedAt                                    *time.Time
	output                                                    *outputInput
}

type outputInput struct {
	title, summary, text *string
	annotations          []Annotation
}

// readCheckInput applies the request schema. Create requires name and
// head_sha; both accept the same optional fields.
func readCheckInput(f fields, create bool) checkInput {
	in := checkInput{
		name: f.str("name"), detailsURL: f.str("details_url"), externalID: f.str("external_id"),
		status:     f.enum("status", checkStatuses...),
		conclusion: f.enum("conclusion", checkConclusions...),
		startedAt:  f.dateTime("started_at"), completedAt: f.dateTime("completed_at"),
	}
	if create {
		f.require("head_sha", "name")
		in.headSHA = f.str("head_sha")
	}
	// The request schema is oneOf {status: completed, required: conclusion}
	// | {status: queued|in_progress} (github/rest-api-description#228), and
	// json_schema reports a failed oneOf with this one line.
	if in.status != nil && *in.status == "completed" && !f.has("conclusion") {
		f.p.add(`No subschema in "oneOf" matched.`)
	}
	if o, ok := f.object("output"); ok {
		in.output = readOutput(o, create)
	}
	return in
}

// readOutput reads output: title and summary required on create, summary on
// update (the schemas of both endpoints).
func readOutput(o fields, create bool) *outputInput {
	if create {
		o.require("summary", "title")
	} else {
		o.require("summary")
	}
	out := &outputInput{title: o.str("title"), summary: o.str("summary"), text: o.str("text")}
	o.maxLength(out.summary, maxOutputChars)
	o.maxLength(out.text, maxOutputChars)
	items, _ := o.array("annotations", maxAnnotations)
	for _, it := range items {
		if a, ok := readAnnotation(it); ok {
			out.annotations = append(out.annotations, a)
		}
	}
	return out
}

// readAnnotation reads one annotation; path, start_line, end_line,
// annotation_level and message are required.
func readAnnotation(f fields) (Annotation, bool) {
	before := len(f.p.list)
	f.require("annotation_level", "end_line", "message", "path", "start_line")
	a := Annotation{
		StartColumn: f.integer("start_column"), EndColumn: f.integer("end_column"),
		Title: f.str("title"), RawDetails: f.str("raw_details"),
	}
	a.Path = deref(f.str("path"))
	a.Message = deref(f.str("message"))
	a.AnnotationLevel = deref(f.enum("annotation_level", annotationLevels...))
	if n := f.integer("start_line"); n != nil {
		a.StartLine = *n
	}
	if n := f.integer("end_line"); n != nil {
		a.EndLine = *n
	}
	return a, len(f.p.list) == before
}

// modelErrors are the checks GitHub makes after the schema passes, answered
// as "Validation Failed".
func (in checkInput) modelErrors() []fieldError {
	var errs []fieldError
	if in.name != nil && strings.TrimSpace(*in.name) == "" {
		// go-github v60 always sends "name" on update (UpdateCheckRunOptions
		// marks it Required); a blank one is refused. Inferred, not observed.
		errs = append(errs, fieldError{Resource: "CheckRun", Code: "missing_field", Field: "name"})
	}
	if in.completedAt != nil && in.conclusion == nil {
		// "conclusion: Required if you provide completed_at or a status of
		// completed"; the completed_at half is not in the schema.
		errs = append(errs, fieldError{Resource: "CheckRun", Code: "missing_field", Field: "conclusion"})
	}
	if in.output != nil {
		errs = append(errs, in.output.modelErrors()...)
	}
	return errs
}

// modelErrors of an output. Past the schema's 65,535 characters GitHub also
// limits the UTF-8 size: {"resource":"CheckRun","code":"custom","field":
// "summary","message":"summary exceeds a maximum bytesize of 65535"}
// (github/docs#35252, dorny/test-reporter#57); text is assumed alike.
func (o *outputInput) modelErrors() []fieldError {
	var errs []fieldError
	for _, t := range []struct {
		field string
		v     *string
	}{{"summary", o.summary}, {"text", o.text}} {
		if t.v != nil && len(*t.v) > maxOutputChars {
			errs = append(errs, fieldError{Resource: "CheckRun", Code: "custom", Field: t.field,
				Message: fmt.Sprintf("%s exceeds a maximum bytesize of %d", t.field, maxOutputChars)})
		}
	}
	for _, a := range o.annotations {
		// "Annotations only support start_column and end_column on the same
		// line. Omit this parameter if start_line and end_line have different
		// values." GitHub's refusal is not documented; the wording is ours.
		if (a.StartColumn != nil || a.EndColumn != nil) && a.StartLine != a.EndLine {
			errs = append(errs, fieldError{Resource: "CheckRun", Code: "custom", Field: "annotations",
				Message: "start_column and end_column are only allowed when start_line equals end_line"})
		}
	}
	return errs
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
