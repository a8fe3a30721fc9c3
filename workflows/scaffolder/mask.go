package scaffolder

import (
	"encoding/base64"
	"errors"
	"net/url"
	"sort"
	"strings"

	"go.temporal.io/sdk/temporal"
)

// Mask replaces a secret value wherever it appears.
const Mask = "***"

// MinSecretLength is the shortest secret value a Masker hides: a shorter
// one (a flag, a digit) would mask every occurrence of common text and
// protect nothing.
const MinSecretLength = 4

// Masker hides secret values in what a task shows: its log, its steps'
// outputs, its errors, its events and its activities' results. The zero
// Masker hides nothing.
type Masker struct {
	// forms are the values and their encoded forms, longest first, so a
	// longer form is replaced before a value it contains.
	forms []string
}

// NewMasker returns the Masker of secrets: every value of at least
// MinSecretLength bytes, in clear, base64 (standard and URL, with and
// without padding) and URL-encoded (query and path), is replaced by Mask.
func NewMasker(secrets Secrets) *Masker {
	seen := map[string]bool{}
	m := &Masker{}
	add := func(s string) {
		if len(s) >= MinSecretLength && !seen[s] {
			seen[s] = true
			m.forms = append(m.forms, s)
		}
	}
	for _, v := range secrets {
		if len(v) < MinSecretLength {
			continue
		}
		add(v)
		add(base64.StdEncoding.EncodeToString([]byte(v)))
		add(base64.RawStdEncoding.EncodeToString([]byte(v)))
		add(base64.URLEncoding.EncodeToString([]byte(v)))
		add(base64.RawURLEncoding.EncodeToString([]byte(v)))
		add(url.QueryEscape(v))
		add(url.PathEscape(v))
	}
	sort.Slice(m.forms, func(i, j int) bool {
		if len(m.forms[i]) != len(m.forms[j]) {
			return len(m.forms[i]) > len(m.forms[j])
		}
		return m.forms[i] < m.forms[j]
	})
	return m
}

// String returns s with every secret replaced by Mask.
func (m *Masker) String(s string) string {
	if m == nil {
		return s
	}
	for _, f := range m.forms {
		if strings.Contains(s, f) {
			s = strings.ReplaceAll(s, f, Mask)
		}
	}
	return s
}

// Holds reports whether s holds a secret.
func (m *Masker) Holds(s string) bool {
	return m.String(s) != s
}

// Value returns v with every string in it (map keys, values, list items,
// recursively) masked. Maps and lists are copied; other values are returned
// as they are.
func (m *Masker) Value(v any) any {
	if m == nil || len(m.forms) == 0 {
		return v
	}
	switch x := v.(type) {
	case string:
		return m.String(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[m.String(k)] = m.Value(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = m.Value(e)
		}
		return out
	case []string:
		out := make([]string, len(x))
		for i, e := range x {
			out[i] = m.String(e)
		}
		return out
	default:
		return v
	}
}

// Map is Value for an output map.
func (m *Masker) Map(v map[string]any) map[string]any {
	if v == nil {
		return nil
	}
	out, _ := m.Value(v).(map[string]any)
	return out
}

// Result masks an action's log lines and outputs.
func (m *Masker) Result(r ActionResult) ActionResult {
	for i, l := range r.Log {
		r.Log[i] = m.String(l)
	}
	r.Output = m.Map(r.Output)
	return r
}

// Error returns err unchanged when its message holds no secret, and
// otherwise an error of the masked message that keeps a Temporal
// application error's type and retryability.
func (m *Masker) Error(err error) error {
	if err == nil || !m.Holds(err.Error()) {
		return err
	}
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		// An application error's text ends with its type and retryability,
		// which the new error adds again: keep the words around its message.
		msg := strings.TrimSuffix(err.Error(), ae.Error()) + ae.Message()
		return temporal.NewApplicationErrorWithOptions(m.String(msg), ae.Type(), temporal.ApplicationErrorOptions{NonRetryable: ae.NonRetryable()})
	}
	return errors.New(m.String(err.Error()))
}
