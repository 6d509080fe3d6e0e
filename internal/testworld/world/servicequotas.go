package world

import (
	"net/http"
	"strings"
)

// seedAccount is the account of the seeded role, which the quotas' ARNs name.
var seedAccount = strings.Split(RoleARN, ":")[4]

// principal is the caller of an access key as IAM names it in a refusal: the assumed role's
// session (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION) for a key STS issued, "" otherwise.
func (w *World) principal(accessKeyID string) string {
	for _, c := range w.sts.Calls() {
		if c.AccessKeyID != accessKeyID || c.RoleARN == "" {
			continue
		}
		// arn:aws:iam::ACCOUNT:role/NAME → arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION
		f := strings.SplitN(c.RoleARN, ":", 6)
		if len(f) == 6 {
			return "arn:" + f[1] + ":sts::" + f[4] + ":assumed-role/" + strings.TrimPrefix(f[5], "role/") + "/" + c.SessionName
		}
	}
	return ""
}

// Quotas are the Service Quotas emulator's settings, as GET and POST /_testworld/servicequotas
// show and take them.
type Quotas struct {
	// Values are the applied values of EC2's vCPU quotas by code ("L-1216C47A"). A change gives
	// only the quotas it changes.
	Values map[string]float64 `json:"values"`
	// AccessDenied makes GetServiceQuota answer AccessDeniedException, as for a role whose policy
	// lacks servicequotas:GetServiceQuota. A change that leaves it out leaves it as it is.
	AccessDenied *bool `json:"access_denied,omitempty"`
}

// Quotas returns the Service Quotas emulator's settings now, every field present.
func (w *World) Quotas() Quotas {
	denied := w.quotas.AccessDenied()
	return Quotas{Values: w.quotas.Values(), AccessDenied: &denied}
}

// SetQuotas changes the quotas q gives and, when q says, the access denial. Nothing changes when
// a code is unknown or a value negative.
func (w *World) SetQuotas(q Quotas) error {
	if err := w.quotas.SetValues(q.Values); err != nil {
		return err
	}
	if q.AccessDenied != nil {
		w.quotas.SetAccessDenied(*q.AccessDenied)
	}
	return nil
}

func (w *World) serveQuotas(rw http.ResponseWriter, _ *http.Request) {
	writeJSON(rw, http.StatusOK, w.Quotas())
}

// postQuotas applies a quotas document.
func (w *World) postQuotas(rw http.ResponseWriter, r *http.Request) {
	postDocument(rw, r, "quotas", w.SetQuotas, func() any { return w.Quotas() })
}
