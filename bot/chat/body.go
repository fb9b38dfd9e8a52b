package chat

import (
	"errors"
	"io"
	"net/http"
)

// ReadBody reads a webhook's body, at most limit bytes, before anything
// else is done with it. A body over the limit is answered 413 (at once
// when it declares its length), one that cannot be read 400; ok is false
// then and the answer is written.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64) (body []byte, ok bool) {
	if r.ContentLength > limit {
		http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
		return nil, false
	case err != nil:
		http.Error(w, "request not read", http.StatusBadRequest)
		return nil, false
	}
	return body, true
}
