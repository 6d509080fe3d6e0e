package github

import (
	"strings"

	gh "github.com/google/go-github/v60/github"
)

// A comment carrying sear's marker, or a check run named after the
// runnable, proves nothing: any app installed on the repository, any
// workflow with its own token, and any person can write one. Sear would
// then edit or delete someone else's comment, or show a planted check
// run's "base metrics" to the reviewer. So sear trusts only what its own
// token's identity wrote:
//
//   - a GitHub App's token (a workflow's GITHUB_TOKEN is the GitHub Actions
//     app's): check runs whose app is that app, and comments by its bot
//     account, "<slug>[bot]", of type Bot. The app is learned from the check
//     run Start creates, whose "app" GitHub fills in; until then (no check
//     run yet, the check refused or not asked for) it is the app of
//     Options.Login if that is a bot's login, else GitHub Actions, what the
//     default github-token is. An app's token cannot learn its own app any
//     other way: GET /app takes the app's private key, GET /user refuses it.
//   - a person's token (a personal access token, Options.Login or
//     Identify): comments by that user, of type User, and no check run at
//     all: GitHub lets only apps create check runs ("You must authenticate
//     via a GitHub App."), so none can be sear's, and there is no base run
//     to compare with.
//
// GitHub gives no finer identity than the app: every workflow of the
// repository with a GITHUB_TOKEN writes as GitHub Actions, so what one of
// them wrote is trusted as sear's. Keeping other apps, bots and people out
// is what this buys.

// githubActionsSlug is GitHub Actions' app, every GITHUB_TOKEN's. Slugs are
// unique on a GitHub instance and this one is GitHub's own, so on GitHub
// Enterprise Server, where its id differs, the slug still names it.
const githubActionsSlug = "github-actions"

// githubActionsID is GitHub Actions' app id on github.com, required there
// besides the slug when sear has not learned its app from a check run.
const githubActionsID = 15368

// app is a GitHub App as a check run names it.
type app struct {
	id   int64
	slug string
}

// learnApp keeps the app of a check run sear created: the app its token
// acts as. A check run without one (never seen from GitHub) teaches
// nothing.
func (rp *Reporter) learnApp(cr *gh.CheckRun) {
	if a := cr.GetApp(); a.GetID() != 0 && a.GetSlug() != "" {
		rp.self = &app{id: a.GetID(), slug: a.GetSlug()}
	}
}

// person reports whether the token is a person's (Options.Login is set
// and is no app's bot account).
func (rp *Reporter) person() bool {
	return rp.opts.Login != "" && !strings.HasSuffix(rp.opts.Login, "[bot]")
}

// commentAuthor is the login sear's comments are written by, and whether
// that account is a bot (an app's) rather than a person.
func (rp *Reporter) commentAuthor() (login string, bot bool) {
	switch {
	case rp.opts.Login != "":
		return rp.opts.Login, !rp.person()
	case rp.self != nil:
		return rp.self.slug + "[bot]", true
	}
	// Not learned yet: the default github-token, GITHUB_TOKEN.
	return githubActionsSlug + "[bot]", true
}

// ownComment reports whether the comment was written by sear's identity:
// the login, and a Bot account exactly when that identity is an app, so
// that a person cannot pass for a bot nor the other way round.
func (rp *Reporter) ownComment(c *gh.IssueComment) bool {
	login, bot := rp.commentAuthor()
	u := c.GetUser()
	return strings.EqualFold(u.GetLogin(), login) && (u.GetType() == "Bot") == bot
}

// ownCheckRun reports whether the check run belongs to sear's app.
func (rp *Reporter) ownCheckRun(cr *gh.CheckRun) bool {
	a := cr.GetApp()
	switch {
	case rp.self != nil:
		return a.GetID() == rp.self.id
	case rp.person():
		return false
	}
	// Not learned yet (no check run created, or none asked for): the app
	// of the bot login given, else the default github-token's, GitHub
	// Actions, which on github.com must have its id too.
	slug := githubActionsSlug
	if l := rp.opts.Login; strings.HasSuffix(l, "[bot]") {
		slug = strings.TrimSuffix(l, "[bot]")
	}
	if a.GetID() == 0 || !strings.EqualFold(a.GetSlug(), slug) {
		return false
	}
	return slug != githubActionsSlug || !rp.onGitHubCom() || a.GetID() == githubActionsID
}

// onGitHubCom reports whether the API is github.com's, where GitHub
// Actions' app id is known.
func (rp *Reporter) onGitHubCom() bool {
	return rp.client.BaseURL != nil && strings.EqualFold(rp.client.BaseURL.Hostname(), "api.github.com")
}
