package report

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sear-ci/sear/internal/redact"
)

// The property: whatever the secrets and whatever text surrounds them in
// whichever field of a Run, no rendered output holds any form of any
// secret, neither as the markdown's text nor as GitHub shows it (its
// backslash escapes undone). The forms are computed here independently of
// package redact, from what the GitHub Actions runner masks in logs.

// TestReportsMaskEveryForm renders runs made of random secrets in random
// surroundings, in every text field, with every renderer.
func TestReportsMaskEveryForm(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(20260314, 1))
	for i := range 300 {
		secrets := make([]string, 1+rng.IntN(3))
		for j := range secrets {
			secrets[j] = randomSecret(rng)
		}
		r := runHolding(rng, secrets)
		if msg := leak(r, secrets); msg != "" {
			t.Fatalf("run %d, secrets %q: %s", i, secrets, msg)
		}
	}
}

// FuzzReportsMask is the same property with the fuzzer's secrets and
// surroundings.
func FuzzReportsMask(f *testing.F) {
	f.Add("s3cr\x1b[0mt-value", "ab\ncd", uint64(1))
	f.Add("p*ss\"<w&rd>'", "`|@x_", uint64(2))
	f.Add("名前🔑\r\nline two", "\x9b31m", uint64(3))
	f.Fuzz(func(t *testing.T, secret, around string, seed uint64) {
		if !usable(secret) || len(secret) > 200 || len(around) > 200 {
			return
		}
		rng := rand.New(rand.NewPCG(seed, 2))
		r := runHolding(rng, []string{secret}, around)
		if msg := leak(r, []string{secret}); msg != "" {
			t.Fatalf("secret %q: %s", secret, msg)
		}
	})
}

// TestReportsMaskAcrossFields: a secret that no field holds whole, but
// rendering puts together, is masked in the output.
func TestReportsMaskAcrossFields(t *testing.T) {
	t.Parallel()
	r := goldenRuns["success"]
	r.ClusterID = "ClusterBravo"
	secret := "cluster `ClusterBr" // the facts line says "cluster `<id>`"
	if !strings.Contains(Comment(r), secret) {
		t.Fatal("the comment does not put the text together: the test tests nothing")
	}
	r.Secrets = redact.Expand([]string{secret})
	for name, out := range outputs(r) {
		if strings.Contains(out, secret) {
			t.Errorf("%s keeps a secret that spans a field and the text around it", name)
		}
	}
}

// TestRedactedIsIdempotent: redacting a redacted run changes nothing, so
// a reporter may send parts of r.Redacted() and render it again.
func TestRedactedIsIdempotent(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 7))
	for range 50 {
		secrets := []string{randomSecret(rng), randomSecret(rng)}
		r := runHolding(rng, secrets)
		once := r.Redacted()
		twice := once.Redacted()
		a, _ := json.Marshal(once)
		b, _ := json.Marshal(twice)
		if !bytes.Equal(a, b) {
			t.Fatalf("Redacted is not idempotent:\n%s\n%s", a, b)
		}
		if Comment(once) != Comment(r) || StepSummary(once) != StepSummary(r) {
			t.Fatalf("a redacted run renders differently")
		}
	}
}

// outputs are every text the renderers produce for r, by name.
func outputs(r Run) map[string]string {
	c := Check(r)
	outs := map[string]string{"check title": c.Title, "check summary": c.Summary, "check text": c.Text,
		"comment": Comment(r), "step summary": StepSummary(r)}
	for _, o := range Outputs(r) {
		outs["output "+o.Name] = o.Value
	}
	return outs
}

// leak renders r every way and says where a form of a secret shows, or "".
func leak(r Run, secrets []string) string {
	for name, out := range outputs(r) {
		shown := out
		if !strings.HasPrefix(name, "output ") && name != "check title" { // plain text, no markdown
			shown = asShown(out)
		}
		for _, s := range secrets {
			for _, form := range formsToCheck(s) {
				switch {
				case strings.Contains(out, form):
					return fmt.Sprintf("%s holds %q:\n%s", name, form, out)
				case strings.Contains(shown, form):
					return fmt.Sprintf("%s shows %q:\n%s", name, form, shown)
				}
			}
		}
	}
	return ""
}

// asShown is markdown as GitHub shows its text, near enough: outside code
// blocks and code spans, backslash escapes undone; in code spans, the
// escaped pipes of table cells; everywhere, the renderers' entity and word
// joiner undone. Code blocks show what they hold. It errs on the side of
// showing more (an escape in a link's destination is undone too, which
// GitHub does in the link's href).
func asShown(md string) string {
	var b strings.Builder
	fence := 0
	for _, line := range strings.Split(md, "\n") {
		run := longestPrefix(line, '`')
		switch {
		case fence == 0 && run >= 3:
			fence = run
			b.WriteString(line)
		case fence > 0:
			if run >= fence && strings.TrimRight(line, " ") == strings.Repeat("`", run) {
				fence = 0
			}
			b.WriteString(line)
		default:
			b.WriteString(inlineShown(line))
		}
		b.WriteByte('\n')
	}
	return strings.NewReplacer("&amp;", "&", "\u2060", "").Replace(b.String())
}

func inlineShown(line string) string {
	var b strings.Builder
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case c == '\\' && i+1 < len(line) && isASCIIPunct(line[i+1]):
			b.WriteByte(line[i+1])
			i += 2
		case c == '`':
			n := longestPrefix(line[i:], '`')
			ticks := strings.Repeat("`", n)
			end := -1
			for j := i + n; j < len(line); {
				k := strings.Index(line[j:], ticks)
				if k < 0 {
					break
				}
				if at := j + k; longestPrefix(line[at:], '`') == n {
					end = at
					break
				} else {
					j = at + longestPrefix(line[at:], '`')
				}
			}
			if end < 0 {
				b.WriteString(ticks)
				i += n
				continue
			}
			// A code span shows as a box of its own: text beside it does
			// not run into it, which the NULs keep so.
			b.WriteString("\x00" + strings.ReplaceAll(line[i+n:end], "\\|", "|") + "\x00")
			i = end + n
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

func isASCIIPunct(c byte) bool {
	return '!' <= c && c <= '/' || ':' <= c && c <= '@' || '[' <= c && c <= '`' || '{' <= c && c <= '~'
}

// formsToCheck are the forms of s the runner masks in a log, and what a
// report shows of it: s; s without escapes and control characters; its
// JSON (Newtonsoft's escapes), URL (Uri.EscapeDataString) and XML
// (SecurityElement.Escape) forms; and its base64 at each of the three byte
// offsets, trimmed to the digits s alone determines, in both alphabets.
// Forms shorter than three characters are not masked, by design.
func formsToCheck(s string) []string {
	clean := testSanitize(s)
	forms := []string{s, clean, strings.Join(strings.Fields(clean), " "), newtonsoftJSON(s),
		strings.ReplaceAll(url.QueryEscape(s), "+", "%20"),
		strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;").Replace(s)}
	for k := range 3 {
		p := []byte(s)[k:]
		d := base64.RawStdEncoding.EncodeToString(p)[:len(p)*8/6]
		forms = append(forms, d, strings.NewReplacer("+", "-", "/", "_").Replace(d))
	}
	var out []string
	for _, f := range forms {
		if utf8.RuneCountInString(f) >= 3 {
			out = append(out, f)
		}
	}
	return out
}

func newtonsoftJSON(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	j := strings.TrimSuffix(b.String(), "\n")
	return strings.ReplaceAll(j[1:len(j)-1], "\u0085", `\u0085`)
}

// testSanitize is what a terminal shows of s, by a different road than
// redact.Sanitize: the escape sequences the generator writes removed, then
// every control character but tab and line feed; a carriage return is a
// line break.
func testSanitize(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	for _, e := range escapes {
		s = strings.ReplaceAll(s, e, "")
	}
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	return strings.Map(func(r rune) rune {
		if (r < 0x20 && r != '\n' && r != '\t') || (0x7f <= r && r <= 0x9f) {
			return -1
		}
		return r
	}, s)
}

// escapes are the terminal sequences the generator puts in secrets and
// around them.
var escapes = []string{"\x1b[31m", "\x1b[0m", "\x1b[2K", "\x1b]8;;https://x.example\x07", "\x1b]0;title\x1b\\", "\u009b1m", "\x1b(B"}

// pieces are what secrets and their surroundings are made of: markdown and
// HTML punctuation, quotes, asterisks, unicode, white space and control
// characters.
var pieces = []string{"a", "b", "Z", "0", "7", "s3", "cr", "*", "**", `"`, "'", "<", ">", "&", "\\", "`", "|", "_",
	"@", "#", "[", "]", "(", "!", "~", "%", "+", "/", "=", "-", ":", " ", "  ", "\t", "\n", "\r", "\r\n",
	"é", "名", "🔑", "\u2028", "\u00a0", "\x00", "\x07", "\x7f", "\u0085", "\u0090"}

func randomText(rng *rand.Rand, n int) string {
	var b strings.Builder
	for range n {
		if rng.IntN(8) == 0 {
			b.WriteString(escapes[rng.IntN(len(escapes))])
			continue
		}
		b.WriteString(pieces[rng.IntN(len(pieces))])
	}
	return b.String()
}

// usable says s makes a secret the property can hold for: one whose
// sanitised text has a few characters that are not asterisks or spaces,
// since a form of one or two characters is never masked, and a mask of
// asterisks cannot be told from an asterisk.
func usable(s string) bool {
	clean := strings.Join(strings.Fields(testSanitize(s)), " ")
	return utf8.RuneCountInString(strings.Trim(clean, "* ")) >= 4 && utf8.ValidString(s)
}

func randomSecret(rng *rand.Rand) string {
	for {
		s := randomText(rng, 4+rng.IntN(12))
		if rng.IntN(3) == 0 {
			s = "tok_" + s // something like a token, too
		}
		if usable(s) {
			return s
		}
	}
}

// variant is s as a field might hold it: itself, with an escape sequence
// spliced in, or encoded the ways the runner masks.
func variant(rng *rand.Rand, s string) string {
	switch rng.IntN(8) {
	case 0:
		i := rng.IntN(len(s) + 1)
		for i > 0 && !utf8.RuneStart(s[i%len(s)]) {
			i--
		}
		return s[:i] + escapes[rng.IntN(len(escapes))] + s[i:]
	case 1:
		return newtonsoftJSON(s)
	case 2:
		return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
	case 3:
		return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;").Replace(s)
	case 4:
		blob := randomText(rng, rng.IntN(6)) + s + randomText(rng, rng.IntN(4))
		if rng.IntN(2) == 0 {
			return base64.URLEncoding.EncodeToString([]byte(blob))
		}
		return base64.StdEncoding.EncodeToString([]byte(blob))
	}
	return s
}

// runHolding is a run with a secret, in some form, in every text field.
func runHolding(rng *rand.Rand, secrets []string, around ...string) Run {
	field := func() string {
		sur := func() string {
			if len(around) > 0 && rng.IntN(2) == 0 {
				return around[0]
			}
			return randomText(rng, rng.IntN(6))
		}
		return sur() + variant(rng, secrets[rng.IntN(len(secrets))]) + sur()
	}
	fields := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = field()
		}
		return out
	}
	verdicts := []Verdict{Failure, Running, Success, TimedOut, BadConfig}
	r := Run{
		Runnable: field(), Verdict: verdicts[rng.IntN(len(verdicts))], Reason: field(), Commit: field(),
		ClusterID: field(), Region: field(), Started: t0, Duration: 3 * time.Minute,
		Phases: []Phase{
			{Name: field(), Start: t0, Duration: time.Minute, Err: field()},
			{Name: field(), Start: t0.Add(time.Minute), Running: true},
			{Name: field(), Start: t0.Add(2 * time.Minute), Cleanup: true, Err: field()},
		},
		Nodes:     []Node{{Role: field(), Name: field(), Type: field()}, {Role: "factory", Name: field(), Type: "m5.large", Spot: true}},
		Metrics:   Metrics{field(): Value(0.5), field(): Series(1, 2, 3, 2), "loss": Series(3, 2, 1)},
		Base:      &Baseline{Commit: field(), URL: field(), Metrics: Metrics{field(): Value(1), "loss": Value(2)}},
		Log:       LogTail{Lines: fields(5 + rng.IntN(5)), Total: 100},
		Links:     Links{CheckRun: field(), Log: field(), Workflow: field(), Comment: field()},
		TornDown:  fields(2),
		Leftovers: []Leftover{{Resource: field(), Err: field(), Command: field()}},
		ConfigErrors: []ConfigError{
			{File: field(), Line: 3, Column: 2, Message: field(), Source: field()},
			{File: field(), Message: field()},
		},
		Warnings: fields(2),
	}
	r.Secrets = redact.Expand(secrets)
	return r
}
