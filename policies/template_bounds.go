package policies

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/google/cel-go/common/types/ref"
	"google.golang.org/protobuf/types/known/structpb"
)

// MaxRenderedLength bounds what one template produces: the text of a
// rendered template, the JSON of a single expression's value, and every
// string a template function (dump, replace, lower, …) returns. It is twice
// MaxTemplateLength, so a template text of the largest size still has room
// for the values it holds, and small enough that a task's inputs stay far
// below Temporal's payload limits.
const MaxRenderedLength = 2 << 20

// templateBytesPerCost is how many bytes a template function may produce for
// one unit of TemplateCostLimit: the same rate CEL charges for traversing a
// string (0.1 per byte), so one expression produces at most about 1 MB in all.
const templateBytesPerCost = 10

// ErrRenderedTooLong is the problem of a value that would be longer than
// MaxRenderedLength; TemplateError's message holds its text.
var ErrRenderedTooLong = fmt.Errorf("the rendered value would be longer than the limit of %d bytes (MaxRenderedLength)", MaxRenderedLength)

// outputCost is the cost estimator of template programs: it charges the
// template functions for the size of the string they return, so a chain of
// replace or dump calls that grows its output runs out of TemplateCostLimit.
// Other functions keep CEL's own costs.
type outputCost struct{}

// templateOutputOverloads are the overloads of template functions that
// return a string built from their arguments.
var templateOutputOverloads = map[string]bool{
	"dump_dyn":                     true,
	"replace_string_string_string": true,
	"lower_string":                 true,
	"upper_string":                 true,
	"trim_string":                  true,
	"projectSlug_string":           true,
}

// CallCost returns 1 plus one unit per templateBytesPerCost bytes of the
// string a template function returned, or nil for CEL's own functions.
func (outputCost) CallCost(_, overloadID string, _ []ref.Val, result ref.Val) *uint64 {
	if !templateOutputOverloads[overloadID] || result == nil {
		return nil
	}
	s, ok := result.Value().(string)
	if !ok {
		return nil
	}
	c := 1 + uint64(len(s)+templateBytesPerCost-1)/templateBytesPerCost
	return &c
}

// replacedLength returns the length of strings.ReplaceAll(s, old, new)
// without building it.
func replacedLength(s, old, new string) int {
	n := 0
	if old == "" {
		n = utf8.RuneCountInString(s) + 1
	} else {
		n = strings.Count(s, old)
	}
	return len(s) + n*(len(new)-len(old))
}

// jsonLengthOver reports whether the JSON text of v is longer than max,
// counting from a lower bound of its length (the strings and keys with their
// quotes, one byte per other value and separator) and stopping as soon as the
// count passes max, so a value that is huge in JSON (a list holding the same
// long string many times) is refused before its text is built.
func jsonLengthOver(v *structpb.Value, max int) bool {
	n := 0
	var walk func(v *structpb.Value) bool
	walk = func(v *structpb.Value) bool {
		switch k := v.GetKind().(type) {
		case *structpb.Value_StringValue:
			n += len(k.StringValue) + 2
		case *structpb.Value_ListValue:
			n += 2
			for _, e := range k.ListValue.GetValues() {
				n++
				if n > max || walk(e) {
					return true
				}
			}
		case *structpb.Value_StructValue:
			n += 2
			for key, e := range k.StructValue.GetFields() {
				n += len(key) + 4
				if n > max || walk(e) {
					return true
				}
			}
		default:
			n++
		}
		return n > max
	}
	return walk(v)
}
