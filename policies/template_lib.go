package policies

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"google.golang.org/protobuf/types/known/structpb"
)

// jsonValueType is what template values are converted to before they become
// plain Go values.
var jsonValueType = reflect.TypeOf(&structpb.Value{})

// templateFunctions are the functions (and Backstage's filters) of template
// expressions:
//
//	dump(x)             x as JSON text: "name": ${{ values.name | dump }}
//	parseRepoUrl(s)     {host, owner, repo, …} of host?owner=O&repo=R
//	projectSlug(s)      "owner/repo" of host?owner=O&repo=R
//	lower(s), upper(s)  the string in lower or upper case
//	trim(s)             the string without surrounding white space
//	replace(s, a, b)    every a in s replaced by b
func templateFunctions() cel.EnvOption {
	str1 := func(f func(string) ref.Val) func(ref.Val) ref.Val {
		return func(v ref.Val) ref.Val {
			s, ok := v.Value().(string)
			if !ok {
				return types.NewErr("want a string, got %s", v.Type().TypeName())
			}
			return f(s)
		}
	}
	return cel.Lib(templateLib{fns: []cel.EnvOption{
		cel.Function("dump", cel.Overload("dump_dyn", []*cel.Type{cel.DynType}, cel.StringType,
			cel.UnaryBinding(func(v ref.Val) ref.Val {
				x, err := plain(v)
				if err != nil {
					return types.NewErr("dump: %v", err)
				}
				b, err := json.Marshal(x)
				if err != nil {
					return types.NewErr("dump: %v", err)
				}
				return types.String(b)
			}))),
		cel.Function("parseRepoUrl", cel.Overload("parseRepoUrl_string", []*cel.Type{cel.DynType}, cel.DynType,
			cel.UnaryBinding(str1(func(s string) ref.Val {
				m, err := ParseRepoURL(s)
				if err != nil {
					return types.NewErr("parseRepoUrl: %v", err)
				}
				return types.DefaultTypeAdapter.NativeToValue(m)
			})))),
		cel.Function("projectSlug", cel.Overload("projectSlug_string", []*cel.Type{cel.DynType}, cel.StringType,
			cel.UnaryBinding(str1(func(s string) ref.Val {
				m, err := ParseRepoURL(s)
				if err != nil {
					return types.NewErr("projectSlug: %v", err)
				}
				owner, _ := m["owner"].(string)
				if owner == "" {
					owner, _ = m["organization"].(string)
				}
				return types.String(fmt.Sprintf("%s/%s", owner, m["repo"]))
			})))),
		cel.Function("lower", cel.Overload("lower_string", []*cel.Type{cel.DynType}, cel.StringType,
			cel.UnaryBinding(str1(func(s string) ref.Val { return types.String(strings.ToLower(s)) })))),
		cel.Function("upper", cel.Overload("upper_string", []*cel.Type{cel.DynType}, cel.StringType,
			cel.UnaryBinding(str1(func(s string) ref.Val { return types.String(strings.ToUpper(s)) })))),
		cel.Function("trim", cel.Overload("trim_string", []*cel.Type{cel.DynType}, cel.StringType,
			cel.UnaryBinding(str1(func(s string) ref.Val { return types.String(strings.TrimSpace(s)) })))),
		cel.Function("replace", cel.Overload("replace_string_string_string", []*cel.Type{cel.DynType, cel.StringType, cel.StringType}, cel.StringType,
			cel.FunctionBinding(func(args ...ref.Val) ref.Val {
				s, ok1 := args[0].Value().(string)
				a, ok2 := args[1].Value().(string)
				b, ok3 := args[2].Value().(string)
				if !ok1 || !ok2 || !ok3 {
					return types.NewErr("replace: want strings")
				}
				if n := replacedLength(s, a, b); n > MaxRenderedLength {
					return types.NewErr("replace: %v", ErrRenderedTooLong)
				}
				return types.String(strings.ReplaceAll(s, a, b))
			}))),
	}})
}

// templateLib is the cel.Lib of templateFunctions.
type templateLib struct{ fns []cel.EnvOption }

// CompileOptions returns the library's functions.
func (l templateLib) CompileOptions() []cel.EnvOption { return l.fns }

// ProgramOptions returns none.
func (l templateLib) ProgramOptions() []cel.ProgramOption { return nil }
