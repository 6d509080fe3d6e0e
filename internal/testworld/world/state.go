package world

import (
	"time"

	"github.com/sear-ci/sear/internal/testworld/fakeec2"
	"github.com/sear-ci/sear/internal/testworld/fakegithub"
	"github.com/sear-ci/sear/internal/testworld/pricing"
	"github.com/sear-ci/sear/internal/testworld/servicequotas"
)

// State is everything the world holds, as GET /_testworld/state shows it. It never holds a secret:
// no secret key, session token, web identity token, GITHUB_TOKEN or user data (only its size and
// hash); comments and check run texts are there in full, as GitHub would show them.
type State struct {
	World       WorldState            `json:"world"`
	EC2         fakeec2.StateSnapshot `json:"ec2"`
	GitHub      fakegithub.State      `json:"github"`
	Credentials []Credential          `json:"credentials"`
	Calls       Calls                 `json:"calls"`
	Faults      Faults                `json:"faults"`
}

// WorldState is what the world was seeded with, minus its tokens.
type WorldState struct {
	Repository   string `json:"repository"`
	RepositoryID int64  `json:"repository_id"`
	Event        string `json:"event"`
	Fork         bool   `json:"fork"`
	Subject      string `json:"subject"`
	RoleARN      string `json:"role_arn"`
	PullRequest  int    `json:"pull_request"`
	HeadSHA      string `json:"head_sha"`
	BaseSHA      string `json:"base_sha"`
	SHA          string `json:"sha"`
	Region       string `json:"region"`
	Backend      string `json:"backend"`
}

// Credential is a session credential STS issued: its access key id and whom it was issued to,
// never its secret or session token.
type Credential struct {
	AccessKeyID string    `json:"access_key_id"`
	RoleARN     string    `json:"role_arn"`
	SessionName string    `json:"session_name"`
	Subject     string    `json:"subject"`
	IssuedAt    time.Time `json:"issued_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	Expired     bool      `json:"expired"`
}

// Calls are every API call each emulator answered, oldest first.
type Calls struct {
	EC2    []fakeec2.Call    `json:"ec2"`
	STS    []STSCall         `json:"sts"`
	GitHub []fakegithub.Call `json:"github"`
	// ServiceQuotas are the GetServiceQuota calls.
	ServiceQuotas []servicequotas.Call `json:"servicequotas"`
	// Pricing are the Price List API's GetProducts calls.
	Pricing []pricing.Call `json:"pricing"`
}

// STSCall is one STS call. The STS emulator never keeps the web identity token.
type STSCall struct {
	Time        time.Time `json:"time"`
	RequestID   string    `json:"request_id"`
	Action      string    `json:"action"`
	RoleARN     string    `json:"role_arn,omitempty"`
	SessionName string    `json:"session_name,omitempty"`
	Subject     string    `json:"subject,omitempty"`
	Status      int       `json:"status"`
	ErrorCode   string    `json:"error_code,omitempty"`
	AccessKeyID string    `json:"access_key_id,omitempty"`
}

// State returns a snapshot of the world. Lists are empty, never null, so a JSON reader can
// iterate them without checking.
func (w *World) State() State {
	st := State{
		World:  w.worldState(),
		EC2:    w.ec2.State(),
		GitHub: w.github.State(),
		Calls:  Calls{EC2: w.ec2.Calls(), GitHub: w.github.Calls(), STS: []STSCall{}},
		Faults: w.Faults(),
	}
	st.EC2.Instances = nonNil(st.EC2.Instances)
	st.EC2.SecurityGroups = nonNil(st.EC2.SecurityGroups)
	st.EC2.Volumes = nonNil(st.EC2.Volumes)
	st.Calls.EC2 = nonNil(st.Calls.EC2)
	st.Calls.GitHub = nonNil(st.Calls.GitHub)
	st.Calls.ServiceQuotas = nonNil(w.quotas.Calls())
	st.Calls.Pricing = nonNil(w.pricing.Calls())
	st.Credentials = []Credential{}
	now := time.Now()
	for _, c := range w.sts.Calls() {
		st.Calls.STS = append(st.Calls.STS, STSCall{c.Time.UTC(), c.RequestID, c.Action, c.RoleARN,
			c.SessionName, c.Subject, c.Status, c.Code, c.AccessKeyID})
		if c.AccessKeyID == "" {
			continue
		}
		// Lookup hands back the secret too; only the expiry leaves this function.
		_, _, expires, ok := w.sts.Lookup(c.AccessKeyID)
		if ok {
			st.Credentials = append(st.Credentials, Credential{c.AccessKeyID, c.RoleARN, c.SessionName,
				c.Subject, c.Time.UTC(), expires.UTC(), !now.Before(expires)})
		}
	}
	return st
}

func (w *World) worldState() WorldState {
	s := w.seed
	return WorldState{s.Repository, s.RepositoryID, s.Event, s.Fork, s.Subject, s.RoleARN, s.PullRequest,
		s.HeadSHA, s.BaseSHA, s.SHA, w.opts.Region, backendName(w.backend)}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
