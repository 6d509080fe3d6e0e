package ssm

import (
	"net/http"

	"github.com/sear-ci/sear/internal/testworld/awsjson"
)

func errValidation(msg string) *awsjson.Error {
	return &awsjson.Error{Status: http.StatusBadRequest, Code: "ValidationException", Message: msg}
}
