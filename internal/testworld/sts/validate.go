package sts

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// webIdentityParams are AssumeRoleWithWebIdentity's parameters once they satisfy the model.
type webIdentityParams struct {
	roleARN     string
	sessionName string
	token       string
	duration    time.Duration
}

// sessionNamePattern is roleSessionNameType's pattern, [\w+=,.@-]*, anchored as AWS applies it
// to the whole value.
var sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]*$`)

// constraints collects violations the way AWS reports them: every one at once, as "Value 'v' at
// 'member' failed to satisfy constraint: Member must ..." joined by "; " under "N validation
// error(s) detected: " (fog/fog-aws#550, mmmorris1975/aws-runas#80, getmoto/moto#9218).
type constraints []string

func (c *constraints) fail(value, member, rule string) {
	*c = append(*c, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: Member must %s", value, member, rule))
}

func (c constraints) err() *apiError {
	switch len(c) {
	case 0:
		return nil
	case 1:
		return validation("1 validation error detected: " + c[0])
	}
	return validation(fmt.Sprintf("%d validation errors detected: %s", len(c), strings.Join(c, "; ")))
}

// parseParams checks the request against the model's shapes: RoleArn (arnType, 20..2048),
// RoleSessionName (roleSessionNameType, 2..64, [\w+=,.@-]*), WebIdentityToken (clientTokenType,
// 4..20000) are required; DurationSeconds (roleDurationSecondsType) is 900..43200, default 3600.
func parseParams(form url.Values) (webIdentityParams, *apiError) {
	var c constraints
	p := webIdentityParams{
		roleARN:     checkString(&c, form, "RoleArn", 20, 2048, nil),
		sessionName: checkString(&c, form, "RoleSessionName", 2, 64, sessionNamePattern),
		token:       checkToken(&c, form),
		duration:    checkDuration(&c, form),
	}
	if err := c.err(); err != nil {
		return p, err
	}
	if _, ok := parseRoleARN(p.roleARN); !ok {
		// AssumeRole* answer a role ARN that is not an IAM role's this way.
		return p, validation("Request ARN is invalid")
	}
	return p, nil
}

// checkString applies a string shape's constraints; the wire name is upper camel, AWS's
// messages use the lower camel member name.
func checkString(c *constraints, form url.Values, name string, minLen, maxLen int, pattern *regexp.Regexp) string {
	member := lowerFirst(name)
	vals, present := form[name]
	if !present {
		c.fail("null", member, "not be null")
		return ""
	}
	v, quoted := vals[0], "'"+vals[0]+"'"
	if pattern != nil && !pattern.MatchString(v) {
		c.fail(quoted, member, "satisfy regular expression pattern: "+strings.Trim(pattern.String(), "^$"))
	}
	checkLength(c, quoted, member, utf8.RuneCountInString(v), minLen, maxLen)
	return v
}

// checkToken applies clientTokenType's length, never echoing the token: it is a credential.
func checkToken(c *constraints, form url.Values) string {
	vals, present := form["WebIdentityToken"]
	if !present {
		c.fail("null", "webIdentityToken", "not be null")
		return ""
	}
	checkLength(c, "'*** Sensitive Data Redacted ***'", "webIdentityToken", len(vals[0]), 4, 20000)
	return vals[0]
}

func checkLength(c *constraints, value, member string, n, minLen, maxLen int) {
	if n < minLen {
		c.fail(value, member, fmt.Sprintf("have length greater than or equal to %d", minLen))
	}
	if n > maxLen {
		c.fail(value, member, fmt.Sprintf("have length less than or equal to %d", maxLen))
	}
}

// checkDuration applies roleDurationSecondsType (900..43200); the default is 3600 seconds (API
// reference, DurationSeconds). The role's own maximum is checked once the role is known.
func checkDuration(c *constraints, form url.Values) time.Duration {
	v := form.Get("DurationSeconds")
	if v == "" {
		return time.Hour
	}
	n, err := strconv.Atoi(v)
	switch {
	case err != nil:
		c.fail("'"+v+"'", "durationSeconds", "be an integer")
	case n < 900:
		c.fail("'"+v+"'", "durationSeconds", "have value greater than or equal to 900")
	case n > 43200:
		c.fail("'"+v+"'", "durationSeconds", "have value less than or equal to 43200")
	}
	return time.Duration(n) * time.Second
}

func lowerFirst(s string) string { return strings.ToLower(s[:1]) + s[1:] }

// roleARN is a parsed arn:aws:iam::ACCOUNT:role/PATH/NAME.
type roleARN struct {
	partition, account, name string
}

func parseRoleARN(arn string) (roleARN, bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || parts[4] == "" ||
		!strings.HasPrefix(parts[5], "role/") {
		return roleARN{}, false
	}
	path := strings.TrimPrefix(parts[5], "role/")
	name := path[strings.LastIndex(path, "/")+1:]
	return roleARN{partition: parts[1], account: parts[4], name: name}, name != ""
}
