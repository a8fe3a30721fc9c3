package eventschema

import (
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// ValidationError reports why a document does not match a schema: one Problem
// per failing keyword, each naming the offending field.
type ValidationError struct {
	// What names the document: "event <id> (<type>)", "<type> data",
	// "entity state", a Kafka record's topic and key, ….
	What string
	// Schema is the file name of the schema it was checked against.
	Schema string
	// Problems lists what is wrong, at least one.
	Problems []Problem
}

// Problem is one reason a document fails its schema.
type Problem struct {
	// Path is the JSON pointer of the offending value in the document (/data/uid);
	// empty for the document itself, where a missing property is reported.
	Path string
	// Message says what is wrong, naming the property when one is missing
	// ("missing property 'uid'") and the types when one is wrong
	// ("got string, want integer").
	Message string
}

// Error lists the problems on one line: what: schema: path: message; ….
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString(e.What)
	b.WriteString(" does not match ")
	b.WriteString(e.Schema)
	b.WriteString(": ")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		if p.Path != "" {
			b.WriteString(p.Path)
			b.WriteString(": ")
		}
		b.WriteString(p.Message)
	}
	return b.String()
}

var printer = message.NewPrinter(language.English)

// problems flattens a validation error tree into its leaves, the failures that
// explain the others.
func problems(ve *jsonschema.ValidationError) []Problem {
	var out []Problem
	var walk func(*jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			p := Problem{Message: e.ErrorKind.LocalizedString(printer)}
			for _, tok := range e.InstanceLocation {
				p.Path += "/" + strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
			}
			out = append(out, p)
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return out
}
