package readme

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/plan"
)

var update = flag.Bool("update", false, "rewrite README.md's generated parts from action.yml and sear plan")

const (
	readmeFile = "../../README.md"
	actionFile = "../../action.yml"
	// The README's IAM policies are the ones `sear plan` prints for this
	// example, with OWNER/REPO as the repository.
	policyRunnable = "../../examples/script/runnable.yaml"
	policyCluster  = "../../examples/script/cluster.yaml"
	policyRepo     = "OWNER/REPO"
)

// param is one input or output of action.yml.
type param struct {
	Name        string
	Description string
	Required    bool
	Default     string
}

// readAction reads action.yml's inputs and outputs in the order it
// declares them.
func readAction(t *testing.T) (inputs, outputs []param) {
	t.Helper()
	data, err := os.ReadFile(actionFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", actionFile, err)
	}
	root := doc.Content[0]
	return params(t, root, "inputs"), params(t, root, "outputs")
}

// params reads the mapping under key, keeping its order.
func params(t *testing.T, root *yaml.Node, key string) []param {
	t.Helper()
	m := lookup(root, key)
	if m == nil || m.Kind != yaml.MappingNode {
		t.Fatalf("%s has no %s mapping", actionFile, key)
	}
	var out []param
	for i := 0; i+1 < len(m.Content); i += 2 {
		var p struct {
			Description string `yaml:"description"`
			Required    bool   `yaml:"required"`
			Default     string `yaml:"default"`
		}
		if err := m.Content[i+1].Decode(&p); err != nil {
			t.Fatalf("%s: %s.%s: %v", actionFile, key, m.Content[i].Value, err)
		}
		out = append(out, param{Name: m.Content[i].Value, Description: p.Description, Required: p.Required, Default: p.Default})
	}
	return out
}

func lookup(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// cell makes text fit one cell of a Markdown table.
func cell(s string) string {
	return strings.ReplaceAll(strings.Join(strings.Fields(s), " "), "|", `\|`)
}

func inputsTable(in []param) string {
	var b strings.Builder
	b.WriteString("| Input | Required | Default | Description |\n|---|---|---|---|\n")
	for _, p := range in {
		req, def := "no", ""
		if p.Required {
			req = "**yes**"
		}
		if p.Default != "" {
			def = "`" + p.Default + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", p.Name, req, def, cell(p.Description))
	}
	return b.String()
}

func outputsTable(out []param) string {
	var b strings.Builder
	b.WriteString("| Output | Description |\n|---|---|\n")
	for _, p := range out {
		fmt.Fprintf(&b, "| `%s` | %s |\n", p.Name, cell(p.Description))
	}
	return b.String()
}

// policies are the IAM documents `sear plan` prints for the example, as
// JSON in the plan's field order, without HTML escaping (json.Marshal
// would write <ACCOUNT_ID> as \u003cACCOUNT_ID\u003e).
func policies(t *testing.T) (trust, permissions string) {
	t.Helper()
	r, err := config.LoadRunnable(policyRunnable)
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.LoadCluster(policyCluster)
	if err != nil {
		t.Fatal(err)
	}
	p := plan.Make(plan.Input{Runnable: r, Cluster: c, Repository: policyRepo})
	if p.Policy == nil {
		t.Fatalf("%s: the plan has no IAM policy; the README's example must be an !AWSCluster", policyCluster)
	}
	return fence(t, p.Policy.Trust), fence(t, p.Policy.Permissions)
}

func fence(t *testing.T, v any) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return "```json\n" + b.String() + "```\n"
}

// generated are README.md's generated parts by name.
func generated(t *testing.T) map[string]string {
	inputs, outputs := readAction(t)
	trust, permissions := policies(t)
	return map[string]string{
		"inputs":          inputsTable(inputs),
		"outputs":         outputsTable(outputs),
		"iam-trust":       trust,
		"iam-permissions": permissions,
	}
}

// region finds a generated part: the text between
// <!-- generated:NAME ... --> and <!-- /generated:NAME -->.
func region(name string) *regexp.Regexp { return marked("generated", name) }

// marked finds a part of the README between <!-- KIND:NAME ... --> and
// <!-- /KIND:NAME -->: "generated" parts are rewritten by -update,
// "checked" ones are prose that a test holds to the code, row by row.
func marked(kind, name string) *regexp.Regexp {
	tag := regexp.QuoteMeta(kind + ":" + name)
	return regexp.MustCompile(`(?s)(<!-- ` + tag + ` [^>]*-->\n)(.*?)(<!-- /` + tag + ` -->)`)
}

func TestGeneratedPartsMatch(t *testing.T) {
	data, err := os.ReadFile(readmeFile)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	for name, want := range generated(t) {
		re := region(name)
		m := re.FindStringSubmatch(readme)
		if m == nil {
			t.Errorf("README.md has no generated part %q: add\n<!-- generated:%s (go test ./internal/readme -update) -->\n<!-- /generated:%s -->", name, name, name)
			continue
		}
		if *update {
			readme = re.ReplaceAllLiteralString(readme, m[1]+want+m[3])
			continue
		}
		if m[2] != want {
			t.Errorf("README.md's %q is not what action.yml and sear plan say; run go test ./internal/readme -update\n--- README.md\n%s--- want\n%s", name, m[2], want)
		}
	}
	if *update && readme != string(data) {
		if err := os.WriteFile(readmeFile, []byte(readme), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTablesCoverAction checks the tables row by row, so that a failure
// names the input and what differs, however the table was edited.
func TestTablesCoverAction(t *testing.T) {
	data, err := os.ReadFile(readmeFile)
	if err != nil {
		t.Fatal(err)
	}
	inputs, outputs := readAction(t)
	check := func(part string, want []param, columns int) {
		m := region(part).FindStringSubmatch(string(data))
		if m == nil {
			return // TestGeneratedPartsMatch reports it
		}
		rows := tableRows(m[2], columns)
		seen := map[string]bool{}
		for _, p := range want {
			row, ok := rows[p.Name]
			seen[p.Name] = true
			switch {
			case !ok:
				t.Errorf("README.md: %s table has no row for %q", part, p.Name)
			case columns == 4 && row[1] != map[bool]string{true: "**yes**", false: "no"}[p.Required]:
				t.Errorf("README.md: %s %q: Required is %q, action.yml says required: %v", part, p.Name, row[1], p.Required)
			case columns == 4 && strings.Trim(row[2], "`") != p.Default:
				t.Errorf("README.md: %s %q: Default is %q, action.yml says %q", part, p.Name, row[2], p.Default)
			}
		}
		for name := range rows {
			if !seen[name] {
				t.Errorf("README.md: %s table has %q, which action.yml does not declare", part, name)
			}
		}
	}
	check("inputs", inputs, 4)
	check("outputs", outputs, 2)
}

// tableRows reads a Markdown table's rows by their first cell (without
// backticks), skipping the header and the separator.
func tableRows(table string, columns int) map[string][]string {
	rows := map[string][]string{}
	for i, line := range strings.Split(strings.TrimSpace(table), "\n") {
		if i < 2 {
			continue
		}
		cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), " | ")
		for j := range cells {
			cells[j] = strings.TrimSpace(cells[j])
		}
		if len(cells) < columns {
			cells = append(cells, make([]string, columns-len(cells))...)
		}
		rows[strings.Trim(cells[0], "`")] = cells
	}
	return rows
}

// developingSection is README.md's "Developing sear" section, up to the
// next "## " heading.
func developingSection(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(readmeFile)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	i := strings.Index(s, "\n## Developing sear\n")
	if i < 0 {
		t.Fatal(`README.md has no "## Developing sear" section`)
	}
	section := s[i+1:]
	if j := strings.Index(section[1:], "\n## "); j >= 0 {
		section = section[:j+1]
	}
	return section
}

// TestDeveloperCommands keeps the two commands a developer on a fresh
// machine runs, verbatim, in "Developing sear".
func TestDeveloperCommands(t *testing.T) {
	section := developingSection(t)
	for _, cmd := range []string{
		"go run ./cmd/sear run --runnable examples/quickstart/runnable.yaml --cluster examples/quickstart/cluster.yaml --workspace examples/quickstart",
		"./scripts/test",
	} {
		if !strings.Contains(section, "```sh\n"+cmd+"\n```\n") {
			t.Errorf("README.md's \"Developing sear\" must show, as its own sh block, exactly:\n%s", cmd)
		}
	}
	if n := strings.Count(section, "```sh\n"); n != 2 {
		t.Errorf(`README.md's "Developing sear" has %d sh blocks; it has exactly the two set-up commands`, n)
	}
}

// TestClusterFieldsTable holds the Reference's table of cluster fields to
// internal/config, as TestTablesCoverAction holds the inputs to action.yml:
// a row for every field a cluster file may give and none for a field config
// does not take, each row's Clusters and From as config has them, and the
// defaults config applies. A field added to config fails here until the
// README says what it is.
func TestClusterFieldsTable(t *testing.T) {
	data, err := os.ReadFile(readmeFile)
	if err != nil {
		t.Fatal(err)
	}
	m := marked("checked", "cluster-fields").FindStringSubmatch(string(data))
	if m == nil {
		t.Fatal("README.md has no table of cluster fields: add one between\n<!-- checked:cluster-fields (go test ./internal/readme checks the rows against internal/config) -->\n<!-- /checked:cluster-fields -->")
	}
	rows := tableRows(m[2], 6)
	aws, local := config.ClusterFields(config.AWS), config.ClusterFields(config.Local)
	kinds := map[string][]string{}
	for _, f := range aws {
		kinds[f] = append(kinds[f], "AWS")
	}
	for _, f := range local {
		kinds[f] = append(kinds[f], "local")
	}
	for name, ks := range kinds {
		row, ok := rows[name]
		if !ok {
			t.Errorf("README.md: the cluster fields table has no row for %q, which internal/config takes; add one (Clusters %q)", name, strings.Join(ks, ", "))
			continue
		}
		if want := strings.Join(ks, ", "); row[1] != want {
			t.Errorf("README.md: cluster field %q: Clusters is %q, internal/config takes it in %q", name, row[1], want)
		}
		from := "sear"
		if config.FlambeField(name) {
			from = "Flambé"
		}
		if row[2] != from {
			t.Errorf("README.md: cluster field %q: From is %q, want %q", name, row[2], from)
		}
	}
	for name := range rows {
		if kinds[name] == nil {
			t.Errorf("README.md: the cluster fields table has %q, which internal/config does not take", name)
		}
	}
	for name, want := range clusterDefaults(t) {
		if row, ok := rows[name]; ok && strings.Trim(row[4], "`") != want {
			t.Errorf("README.md: cluster field %q: Default is %q, internal/config's is %q", name, row[4], want)
		}
	}
}

// clusterDefaults are the values config gives the fields a minimal
// !AWSCluster leaves out, written as a cluster file would.
func clusterDefaults(t *testing.T) map[string]string {
	t.Helper()
	c, err := config.ParseCluster("minimal.yaml", []byte("!AWSCluster\nname: c\nfactories_num: 0\nfactories_type: t3.large\norchestrator_type: t3.large\n"))
	if err != nil {
		t.Fatal(err)
	}
	b := strconv.FormatBool
	return map[string]string{
		"volume_type": c.VolumeType, "volume_size": strconv.Itoa(c.VolumeSize), "username": c.Username,
		"dedicated": b(c.Dedicated), "orchestrator_timeout": strconv.Itoa(c.OrchestratorTimeout),
		"factories_timeout": strconv.Itoa(c.FactoriesTimeout), "engine": string(c.Engine), "spot": b(c.Spot),
		"max_duration": config.FormatDuration(c.MaxDuration), "ready_timeout": config.FormatDuration(c.ReadyTimeout),
		"use_private_ip": b(c.UsePrivateIP), "tls": b(c.TLS),
	}
}
