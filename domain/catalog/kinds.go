package catalog

import (
	"sort"
	"strings"
)

// FieldType is the JSON type a spec field must have.
type FieldType int

// The spec field types the built-in kinds use.
const (
	FieldString FieldType = iota + 1
	FieldStringList
	FieldList
	FieldObject
	FieldObjectOrList
	// FieldObjectList is a list whose items are objects, each checked
	// against the field's Properties.
	FieldObjectList
	// FieldStringOrBool is a string (a template expression) or a boolean.
	FieldStringOrBool
)

// SpecField describes one field of a kind's spec.
type SpecField struct {
	// Name is the field under spec.
	Name string
	// Type is the JSON type the field must have.
	Type FieldType
	// Required marks a field the kind cannot do without.
	Required bool
	// When, if set, limits the rule to specs it returns true for.
	When func(spec map[string]any) bool
	// Relation, if set, makes each reference in the field a relation.
	Relation *RelationRule
	// Enum, if set, lists the values a string field may take.
	Enum []string
	// AllowEmpty lets a string field be the empty string.
	AllowEmpty bool
	// MinItems is the fewest items a list field may hold.
	MinItems int
	// Properties are the rules of an object field's own fields, or of each
	// item of a FieldObjectList or FieldObjectOrList field.
	Properties []SpecField
}

// RelationRule turns the references of a spec field into a relation pair.
type RelationRule struct {
	// DefaultKind is the kind of a reference that names none; empty means the
	// reference must name its kind.
	DefaultKind string
	// Type is the relation from the entity to the target (ownedBy).
	Type string
	// Reverse is the relation from the target back to the entity (ownerOf).
	Reverse string
}

// KindSpec is the rule set of one built-in kind.
type KindSpec struct {
	// Kind is the kind's name as written in descriptors (Component).
	Kind string
	// APIVersions are the apiVersion values accepted for the kind.
	APIVersions []string
	// SpecRequired marks kinds whose spec must be present.
	SpecRequired bool
	// Fields are the spec fields with rules.
	Fields []SpecField
	// Optional marks a kind Backstage publishes the schema of but whose
	// catalog accepts only once a plugin registers it: a catalog accepts it
	// only when its Kinds name it.
	Optional bool
	// AnyVersion accepts every well-formed apiVersion: a custom kind's.
	AnyVersion bool
}

// The relation types of Backstage's built-in kinds, in pairs.
const (
	RelationOwnedBy       = "ownedBy"
	RelationOwnerOf       = "ownerOf"
	RelationPartOf        = "partOf"
	RelationHasPart       = "hasPart"
	RelationDependsOn     = "dependsOn"
	RelationDependencyOf  = "dependencyOf"
	RelationProvidesAPI   = "providesApi"
	RelationAPIProvidedBy = "apiProvidedBy"
	RelationConsumesAPI   = "consumesApi"
	RelationAPIConsumedBy = "apiConsumedBy"
	RelationParentOf      = "parentOf"
	RelationChildOf       = "childOf"
	RelationMemberOf      = "memberOf"
	RelationHasMember     = "hasMember"
)

var (
	owner = SpecField{Name: "owner", Type: FieldString, Required: true,
		Relation: &RelationRule{DefaultKind: "Group", Type: RelationOwnedBy, Reverse: RelationOwnerOf}}
	optionalOwner = SpecField{Name: "owner", Type: FieldString,
		Relation: &RelationRule{DefaultKind: "Group", Type: RelationOwnedBy, Reverse: RelationOwnerOf}}
	system = SpecField{Name: "system", Type: FieldString,
		Relation: &RelationRule{DefaultKind: "System", Type: RelationPartOf, Reverse: RelationHasPart}}
	dependsOn = SpecField{Name: "dependsOn", Type: FieldStringList,
		Relation: &RelationRule{Type: RelationDependsOn, Reverse: RelationDependencyOf}}
	dependencyOf = SpecField{Name: "dependencyOf", Type: FieldStringList,
		Relation: &RelationRule{Type: RelationDependencyOf, Reverse: RelationDependsOn}}
	typeField      = SpecField{Name: "type", Type: FieldString, Required: true}
	lifecycleField = SpecField{Name: "lifecycle", Type: FieldString, Required: true}
	// profile is the display information of a User or Group: every field
	// optional, each a non-empty string.
	profile = SpecField{Name: "profile", Type: FieldObject, Properties: []SpecField{
		{Name: "displayName", Type: FieldString},
		{Name: "email", Type: FieldString},
		{Name: "picture", Type: FieldString},
	}}
)

func specTypeIs(types ...string) func(map[string]any) bool {
	return func(spec map[string]any) bool {
		t, _ := spec["type"].(string)
		for _, want := range types {
			if t == want {
				return true
			}
		}
		return false
	}
}

var apiVersions = append([]string{"backstage.io/v1alpha2"}, coreVersions...)

// remoteAPI holds the rules of an API whose spec.type is a remote type
// (mcp-server, ai-model-server): remotes instead of a definition. Backstage
// publishes these schemas, but its catalog applies them only once a plugin
// registers them, so a catalog applies them only when its Kinds name
// "API:<type>".
var remoteAPI = KindSpec{Kind: "API", APIVersions: apiVersions, SpecRequired: true, Optional: true, Fields: []SpecField{
	typeField, lifecycleField, owner, system,
	{Name: "remotes", Type: FieldObjectList, Required: true, MinItems: 1, Properties: []SpecField{
		{Name: "type", Type: FieldString, Required: true},
		{Name: "url", Type: FieldString, Required: true},
	}},
}}

// remoteAPITypes are the API spec types remoteAPI describes.
var remoteAPITypes = []string{"mcp-server", "ai-model-server"}

var coreVersions = []string{"backstage.io/v1alpha1", "backstage.io/v1beta1"}

// builtinKinds are the kinds Backlot knows, with Backstage's rules; an Optional
// one is accepted only by a Kinds that names it.
var builtinKinds = []KindSpec{
	{Kind: "Component", APIVersions: coreVersions, SpecRequired: true, Fields: []SpecField{
		typeField, lifecycleField, owner, system,
		{Name: "subcomponentOf", Type: FieldString,
			Relation: &RelationRule{DefaultKind: "Component", Type: RelationPartOf, Reverse: RelationHasPart}},
		{Name: "providesApis", Type: FieldStringList,
			Relation: &RelationRule{DefaultKind: "API", Type: RelationProvidesAPI, Reverse: RelationAPIProvidedBy}},
		{Name: "consumesApis", Type: FieldStringList,
			Relation: &RelationRule{DefaultKind: "API", Type: RelationConsumesAPI, Reverse: RelationAPIConsumedBy}},
		dependsOn, dependencyOf,
	}},
	{Kind: "API", APIVersions: apiVersions, SpecRequired: true, Fields: []SpecField{
		typeField, lifecycleField, owner, system,
		{Name: "definition", Type: FieldString, Required: true},
	}},
	{Kind: "Resource", APIVersions: coreVersions, SpecRequired: true, Fields: []SpecField{
		typeField, owner, system, dependsOn, dependencyOf,
	}},
	{Kind: "System", APIVersions: coreVersions, SpecRequired: true, Fields: []SpecField{
		owner,
		{Name: "domain", Type: FieldString,
			Relation: &RelationRule{DefaultKind: "Domain", Type: RelationPartOf, Reverse: RelationHasPart}},
		{Name: "type", Type: FieldString},
	}},
	{Kind: "Domain", APIVersions: coreVersions, SpecRequired: true, Fields: []SpecField{
		owner,
		{Name: "subdomainOf", Type: FieldString,
			Relation: &RelationRule{DefaultKind: "Domain", Type: RelationPartOf, Reverse: RelationHasPart}},
		{Name: "type", Type: FieldString},
	}},
	{Kind: "Group", APIVersions: coreVersions, SpecRequired: true, Fields: []SpecField{
		typeField,
		profile,
		{Name: "parent", Type: FieldString,
			Relation: &RelationRule{DefaultKind: "Group", Type: RelationChildOf, Reverse: RelationParentOf}},
		{Name: "children", Type: FieldStringList, Required: true,
			Relation: &RelationRule{DefaultKind: "Group", Type: RelationParentOf, Reverse: RelationChildOf}},
		{Name: "members", Type: FieldStringList,
			Relation: &RelationRule{DefaultKind: "User", Type: RelationHasMember, Reverse: RelationMemberOf}},
	}},
	{Kind: "User", APIVersions: coreVersions, SpecRequired: true, Fields: []SpecField{
		profile,
		{Name: "memberOf", Type: FieldStringList, Required: true,
			Relation: &RelationRule{DefaultKind: "Group", Type: RelationMemberOf, Reverse: RelationHasMember}},
	}},
	{Kind: "Location", APIVersions: coreVersions, SpecRequired: true, Fields: []SpecField{
		{Name: "type", Type: FieldString},
		{Name: "target", Type: FieldString},
		{Name: "targets", Type: FieldStringList},
		{Name: "presence", Type: FieldString, Enum: []string{"required", "optional"}},
	}},
	{Kind: "Template", APIVersions: []string{"scaffolder.backstage.io/v1beta3", "scaffolder.backstage.io/v1beta2"}, SpecRequired: true, Fields: []SpecField{
		typeField, optionalOwner,
		{Name: "parameters", Type: FieldObjectOrList},
		{Name: "steps", Type: FieldObjectList, Required: true, Properties: []SpecField{
			{Name: "id", Type: FieldString, AllowEmpty: true},
			{Name: "name", Type: FieldString, AllowEmpty: true},
			{Name: "action", Type: FieldString, Required: true, AllowEmpty: true},
			{Name: "input", Type: FieldObject},
			{Name: "if", Type: FieldStringOrBool},
		}},
		{Name: "output", Type: FieldObject, Properties: []SpecField{
			{Name: "links", Type: FieldObjectList},
		}},
	}},
	{Kind: "Environment", APIVersions: []string{"backstage.io/v1alpha1"}, Optional: true, Fields: []SpecField{
		lifecycleField,
	}},
	// Policy is Backlot's own kind: CEL checks that award badge levels (see
	// package policies, which compiles and evaluates them).
	{Kind: "Policy", APIVersions: []string{"backlot.dev/v1alpha1"}, SpecRequired: true, Fields: []SpecField{
		{Name: "selector", Type: FieldString, Required: true},
		{Name: "levels", Type: FieldStringList, Required: true},
		{Name: "checks", Type: FieldList, Required: true},
	}},
	{Kind: "AiResource", APIVersions: []string{"backstage.io/v1alpha1"}, SpecRequired: true, Optional: true, Fields: []SpecField{
		typeField, lifecycleField, owner, system,
		// The fields of each AiResource type (skill, rule, plugin, marketplace).
		{Name: "disciplines", Type: FieldStringList, When: specTypeIs("skill", "rule")},
		{Name: "categories", Type: FieldStringList, When: specTypeIs("skill")},
		{Name: "agents", Type: FieldStringList, When: specTypeIs("skill")},
		{Name: "dependsOn", Type: FieldStringList, When: specTypeIs("skill")},
		{Name: "allowedTools", Type: FieldString, When: specTypeIs("skill")},
		{Name: "category", Type: FieldString, Required: true, When: specTypeIs("rule")},
		{Name: "rationale", Type: FieldString, Required: true, When: specTypeIs("rule")},
		{Name: "skills", Type: FieldStringList, Required: true, When: specTypeIs("plugin")},
		{Name: "plugins", Type: FieldStringList, Required: true, When: specTypeIs("marketplace")},
		{Name: "version", Type: FieldString, When: specTypeIs("plugin", "marketplace")},
	}},
}

var kindsByName = func() map[string]*KindSpec {
	m := make(map[string]*KindSpec, len(builtinKinds))
	for i := range builtinKinds {
		m[strings.ToLower(builtinKinds[i].Kind)] = &builtinKinds[i]
	}
	return m
}()

// LookupKind returns the rules of a known kind, built-in or optional, matched
// case-insensitively.
func LookupKind(kind string) (*KindSpec, bool) {
	k, ok := kindsByName[strings.ToLower(kind)]
	return k, ok
}

// KindNames returns the names of the built-in kinds, which every catalog
// accepts, sorted.
func KindNames() []string {
	var names []string
	for _, k := range builtinKinds {
		if !k.Optional {
			names = append(names, k.Kind)
		}
	}
	sort.Strings(names)
	return names
}

// OptionalKindNames returns what Kinds may name to accept an optional
// schema: the optional kinds and "API:<type>" for each remote API type, sorted.
func OptionalKindNames() []string {
	var names []string
	for _, k := range builtinKinds {
		if k.Optional {
			names = append(names, k.Kind)
		}
	}
	for _, t := range remoteAPITypes {
		names = append(names, "API:"+t)
	}
	sort.Strings(names)
	return names
}

func (k *KindSpec) acceptsVersion(v string) bool {
	if k.AnyVersion {
		return true
	}
	for _, a := range k.APIVersions {
		if a == v {
			return true
		}
	}
	return false
}
