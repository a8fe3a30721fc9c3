package webui

import (
	"encoding/json"
	"strings"

	"backlot.dev/backlot/projections/catalogstore"
)

// Summary is the part of an entity tables show.
type Summary struct {
	Ref         string
	Kind        string
	Namespace   string
	Name        string
	Title       string
	Description string
	Type        string
	Lifecycle   string
	Owner       string
	System      string
	Tags        []string
}

// bodyShape is what Summarize decodes of a stored body.
type bodyShape struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name        string   `json:"name"`
		Namespace   string   `json:"namespace"`
		Title       string   `json:"title"`
		Description string   `json:"description"`
		Tags        []string `json:"tags"`
	} `json:"metadata"`
	Spec struct {
		Type      any    `json:"type"`
		Lifecycle string `json:"lifecycle"`
		Owner     string `json:"owner"`
		System    string `json:"system"`
	} `json:"spec"`
}

// Summarize decodes the table fields of an entity.
func Summarize(v *catalogstore.EntityView) Summary {
	var b bodyShape
	_ = json.Unmarshal(v.Body, &b)
	s := Summary{
		Ref: v.Ref, Kind: b.Kind, Namespace: b.Metadata.Namespace, Name: b.Metadata.Name,
		Title: b.Metadata.Title, Description: b.Metadata.Description, Tags: b.Metadata.Tags,
		Lifecycle: b.Spec.Lifecycle, Owner: b.Spec.Owner, System: b.Spec.System,
	}
	if t, ok := b.Spec.Type.(string); ok {
		s.Type = t
	}
	if s.Namespace == "" {
		s.Namespace = "default"
	}
	if s.Owner != "" {
		s.Owner = qualify(s.Owner, "group", s.Namespace)
	}
	if s.System != "" {
		s.System = qualify(s.System, "system", s.Namespace)
	}
	return s
}

// qualify completes a short ref with its default kind and namespace.
func qualify(ref, kind, ns string) string {
	if !strings.Contains(ref, ":") {
		ref = kind + ":" + ref
	}
	k, rest, _ := strings.Cut(ref, ":")
	if !strings.Contains(rest, "/") {
		rest = ns + "/" + rest
	}
	return strings.ToLower(k) + ":" + rest
}
