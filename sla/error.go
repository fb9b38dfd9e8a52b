// Package sla is slakeeper's domain: incidents, their severities and statuses,
// the policy that turns a report time into deadlines, the state machine that
// moves an incident through its life, customers, contracts and people, and the
// classifier that decides whether a customer's message reports a fault.
//
// The package is pure: it does no I/O, imports no SQL or chat SDK, and never
// reads the clock. Every function that needs the time takes it as a parameter.
package sla

import (
	"errors"
	"fmt"
)

// Error codes. Every error the domain returns to a user carries one of these.
const (
	EINVALID   = "invalid"   // the request is malformed or names a bad value
	ENOTFOUND  = "not_found" // the thing asked for does not exist (or is not visible)
	EFORBIDDEN = "forbidden" // the person may not do this
	ECONFLICT  = "conflict"  // the request contradicts the current state
	EINTERNAL  = "internal"  // a fault of ours; the user sees a generic message
)

// Error is a domain error: a code, a message key in the message catalog, the
// parameters the message needs, and an English fallback that is safe to show a
// user. The chat layer renders Key in the reader's language.
type Error struct {
	Code    string
	Key     string
	Params  map[string]any
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns a domain error with the given code, catalog key and English
// message; params fill the catalog template.
func Errorf(code, key string, params map[string]any, format string, args ...any) *Error {
	return &Error{Code: code, Key: key, Params: params, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// AsError returns the *Error in err's chain, if there is one.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
