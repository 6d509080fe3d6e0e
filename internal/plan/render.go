package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// WriteJSON writes the plan as one JSON object with stable field names.
// Like WriteText, it passes its whole output through RedactURLs: Make
// redacts the fields it knows may hold a URL, and this catches the rest.
func (p *Plan) WriteJSON(w io.Writer) error {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p); err != nil {
		return fmt.Errorf("encode the plan: %w", err)
	}
	_, err := io.WriteString(w, RedactURLs(b.String()))
	return err
}

// WriteText writes the plan for a person to read.
func (p *Plan) WriteText(w io.Writer) error {
	var b strings.Builder
	p.textRunnable(&b)
	p.textCluster(&b)
	p.textCost(&b)
	p.textSecrets(&b)
	p.textPolicy(&b)
	for _, n := range p.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	for _, n := range p.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", n)
	}
	_, err := io.WriteString(w, RedactURLs(b.String()))
	return err
}

func (p *Plan) textRunnable(b *strings.Builder) {
	r := p.Runnable
	fmt.Fprintf(b, "Runnable  %s (%s %q)\n", r.File, r.Tag, r.Name)
	fmt.Fprintf(b, "  command     %s\n", shellJoin(r.Command))
	fmt.Fprintf(b, "  runs on     %s\n", r.RunsOn)
	if r.Search {
		b.WriteString("  search      yes (!g / !s options: Flambé runs one variant per combination)\n")
	}
	for _, e := range r.Extensions {
		fmt.Fprintf(b, "  extension   %s = %s\n              %s\n", e.Name, e.Location, e.Action)
	}
}

func (p *Plan) textCluster(b *strings.Builder) {
	c := p.Cluster
	fmt.Fprintf(b, "\nCluster   %s (%s, %q)\n", c.File, c.Provider, c.Name)
	if c.Region != "" {
		fmt.Fprintf(b, "  region      %s\n", c.Region)
	}
	if c.Market != "" {
		fmt.Fprintf(b, "  market      %s\n", c.Market)
	}
	tls := "mutual TLS with a per-cluster CA"
	if !c.TLS {
		tls = "OFF (tls: false)"
	}
	fmt.Fprintf(b, "  engine      %s, node-to-node %s\n", c.Engine, tls)
	fmt.Fprintf(b, "  lifetime    ready within %s, job ends after %s, nodes end themselves after %s\n",
		p.Lifetime.ReadyTimeout, p.Lifetime.MaxDuration, p.Lifetime.ExpiresAfter)
	fmt.Fprintf(b, "  budget      %s = %s\n", textBounds(p.Lifetime.Budget), p.Lifetime.ExpiresAfter)
	for _, n := range p.Nodes {
		fmt.Fprintf(b, "  node %-3d    %-12s %s", n.Rank, n.Role, n.Name)
		if n.InstanceType != "" {
			fmt.Fprintf(b, "  %s  %s  %s", n.InstanceType, n.AMI, n.Volume)
		}
		if n.Address != "" {
			fmt.Fprintf(b, "  %s", n.Address)
		}
		b.WriteByte('\n')
	}
	for _, cmd := range c.Setup {
		fmt.Fprintf(b, "  setup       %s\n", cmd)
	}
	for _, g := range c.Outputs {
		fmt.Fprintf(b, "  outputs     %s\n", g)
	}
	for _, r := range p.Network {
		fmt.Fprintf(b, "  allow       %-8s from %s (%s)\n", r.Port, r.Source, r.Why)
	}
	if len(p.Tags) > 0 {
		keys := make([]string, 0, len(p.Tags))
		for k := range p.Tags {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(b, "  tag         %s = %s\n", k, p.Tags[k])
		}
	}
}

func (p *Plan) textSecrets(b *strings.Builder) {
	if p.Secrets == nil {
		return
	}
	b.WriteString("\nSecrets INI (names only; values never leave the runner except over SSH to a 0600 file in RAM)\n")
	if len(p.Secrets.Sections) == 0 {
		b.WriteString("  (empty)\n")
	}
	for _, s := range p.Secrets.Sections {
		fmt.Fprintf(b, "  [%s] %s\n", s.Name, strings.Join(s.Keys, ", "))
	}
	fmt.Fprintf(b, "  %s\n", p.Secrets.Summary())
}

// Summary says how many secrets go to the nodes and names them (names
// only). An empty secrets-include sends them all, which is rarely what a
// job needs, so then it says how to narrow it.
func (s *Secrets) Summary() string {
	n, names := s.Count, strings.Join(s.Names, ", ")
	noun := "secrets go"
	if n == 1 {
		noun = "secret goes"
	}
	switch {
	case n == 0 && s.All:
		return "no secret goes to the nodes: the secrets JSON holds none but github_token, which goes only when secrets-include names it"
	case n == 0:
		return "no secret goes to the nodes: secrets-include selects none"
	case s.All:
		return fmt.Sprintf("all %d %s to the nodes, since secrets-include is empty: %s; list the ones the job reads in secrets-include", n, noun, names)
	}
	return fmt.Sprintf("%d %s to the nodes (secrets-include): %s", n, noun, names)
}

func (p *Plan) textPolicy(b *strings.Builder) {
	if p.Policy == nil {
		b.WriteString("\nNo cloud account is needed: the nodes run on this machine.\n\n")
		return
	}
	fmt.Fprintf(b, "\nIAM permission policy for the role sear assumes\n  %s\n", indentedJSON(p.Policy.Permissions))
	fmt.Fprintf(b, "\nIAM trust policy (GitHub OIDC; replace %s)\n  %s\n", AccountPlaceholder, indentedJSON(p.Policy.Trust))
	b.WriteString("\nWhat the IAM policies admit (make them again, and deploy them, when the cluster file changes: until then IAM refuses what it adds)\n")
	for _, s := range p.Policy.Scope {
		fmt.Fprintf(b, "  - %s\n", s)
	}
	b.WriteByte('\n')
}

// indentedJSON is v as a person pastes it into the IAM console: without
// json's HTML escaping, which would print <ACCOUNT_ID> as \u003cACCOUNT_ID\u003e.
func indentedJSON(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("  ", "  ")
	enc.Encode(v)
	return strings.TrimSuffix(b.String(), "\n")
}
