package servicequotas

import (
	"net/http"

	"github.com/sear-ci/sear/internal/testworld/awsjson"
)

// The errors GetServiceQuota lists (Service Quotas API Reference,
// "GetServiceQuota", Errors): AccessDeniedException, IllegalArgumentException,
// NoSuchResourceException and TooManyRequestsException with status 400,
// ServiceException with 500. The reference gives no message texts; these
// are the emulator's own, after the exceptions' descriptions and the
// wording IAM uses for a missing permission.
func errIllegalArgument(msg string) *awsjson.Error {
	return &awsjson.Error{Status: http.StatusBadRequest, Code: "IllegalArgumentException", Message: msg}
}

func errNoSuchResource(msg string) *awsjson.Error {
	return &awsjson.Error{Status: http.StatusBadRequest, Code: "NoSuchResourceException", Message: msg}
}
