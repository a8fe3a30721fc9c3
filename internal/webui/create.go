package webui

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/policies/permission"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/workflows/scaffolder"
)

func init() {
	Register(Page{Pattern: "GET /create", Section: "create", Template: "create.html",
		Permission: permission.ScaffolderTemplateRead, Load: loadCreate})
	Register(Page{Pattern: "GET /create/templates/{namespace}/{name}", Section: "create", Template: "create_form.html",
		Permission: permission.ScaffolderTemplateRead, Load: loadCreateForm})
	Register(Page{Pattern: "POST /create/templates/{namespace}/{name}", Section: "create", Template: "create_form.html",
		Permission: permission.ScaffolderTemplateRead, Method: postCreateForm})
}

// createPageSize is how many templates a page of the Create page lists.
const createPageSize = 24

// templateCard is one template of the Create page.
type templateCard struct {
	Summary
	URL string
}

// createData is what create.html shows.
type createData struct {
	State    State
	Query    string
	Tags     []facetValue
	Items    []templateCard
	Pager    Pager
	Tasks    []scaffolder.TaskSummary
	TasksOff bool
}

// loadCreate answers the Create page: the templates, searched by name,
// title, description and tag and filtered by tag (with counts), and the
// newest tasks. Templates are few: the page reads them (up to
// maxTemplates, by kind alone, which the catalog answers from its index)
// and searches them here, instead of a full-text search over the whole
// catalog that a common word would make slow.
func loadCreate(s *Server, r *Request) (any, string, error) {
	ctx := r.Context()
	st := StateOf(r)
	d := &createData{State: st, Query: strings.TrimSpace(st.Get("q"))}
	page, err := s.cfg.Catalog.Query(ctx, catalogstore.PageQuery{Filter: catalogstore.Filter{{{Key: "kind", Values: []string{"template"}}}},
		Order: []catalogstore.Order{{Field: "metadata.name"}}, Limit: maxTemplates})
	if err != nil {
		return nil, "", err
	}
	tags := st.All("tag")
	counts := map[string]int{}
	var tagOrder []string
	var matched []templateCard
	for i := range page.Items {
		sum := Summarize(&page.Items[i])
		if !templateMatches(sum, d.Query) {
			continue
		}
		for _, t := range sum.Tags {
			if counts[t] == 0 {
				tagOrder = append(tagOrder, t)
			}
			counts[t]++
		}
		if len(tags) > 0 && !slices.ContainsFunc(sum.Tags, func(t string) bool {
			return slices.ContainsFunc(tags, func(x string) bool { return strings.EqualFold(x, t) })
		}) {
			continue
		}
		matched = append(matched, templateCard{Summary: sum, URL: templateURL(sum.Namespace, sum.Name)})
	}
	slices.SortStableFunc(tagOrder, func(a, b string) int { return counts[b] - counts[a] })
	for _, t := range tagOrder {
		d.Tags = append(d.Tags, facetValue{Value: t, Count: counts[t], Selected: st.Has("tag", t), URL: st.Toggle("tag", t)})
	}
	for _, t := range tags {
		if counts[t] == 0 {
			d.Tags = append(d.Tags, facetValue{Value: t, Selected: true, URL: st.Toggle("tag", t)})
		}
	}
	n := st.Int("page", 1, 1, 1+len(matched)/createPageSize)
	from := (n - 1) * createPageSize
	d.Items = matched[from:min(len(matched), from+createPageSize)]
	d.Pager = Pager{Shown: len(d.Items), Total: len(matched)}
	if n > 1 {
		d.Pager.Prev = st.With("page", strconv.Itoa(n-1))
	}
	if from+createPageSize < len(matched) {
		d.Pager.Next = st.With("page", strconv.Itoa(n+1))
	}
	if tr, err := s.taskRunner(); err != nil {
		d.TasksOff = true
	} else if d.Tasks, err = tr.List(ctx, 20, "", ""); err != nil {
		return nil, "", err
	}
	return d, "Create", nil
}

// maxTemplates bounds the templates the Create page reads.
const maxTemplates = 1000

// templateMatches reports whether every word of q is in the template's
// name, title, description or tags (without case).
func templateMatches(sum Summary, q string) bool {
	hay := strings.ToLower(strings.Join(append([]string{sum.Name, sum.Title, sum.Description}, sum.Tags...), " "))
	for _, w := range strings.Fields(strings.ToLower(q)) {
		if !strings.Contains(hay, w) {
			return false
		}
	}
	return true
}

// templateURL is the form of a template.
func templateURL(ns, name string) string {
	return "/create/templates/" + url.PathEscape(ns) + "/" + url.PathEscape(name)
}

// createFormData is what create_form.html shows: one parameter page of a
// template, or the review of every value.
type createFormData struct {
	Ref, Title, Description string
	Action                  string
	Tabs                    []formTab
	Step                    int
	Review                  bool
	PageTitle, PageNote     string
	Fields                  []formField
	Signature               string
	Hidden                  [][2]string
	Errors                  []string
	Rows                    []reviewRow
	CanCreate               bool
	Denied                  string
}

// formTab is one step of the form's progress: a parameter page or the
// review.
type formTab struct {
	Title   string
	Current bool
}

// reviewRow is one value on the review step.
type reviewRow struct {
	Page, Label, Value string
	Step               int
	Error              string
}

// formRequest is one render of a template's form.
type formRequest struct {
	ns, name string
	tmpl     *scaffolder.Template
	raw      url.Values
	values   map[string]any
	step     int
	review   bool
	errs     map[string]string
	other    []string
}

// readTemplate reads the template entity namespace/name and what running
// it needs.
func (s *Server) readTemplate(r *Request) (*scaffolder.Template, map[string]string, error) {
	ns, name := r.PathValue("namespace"), r.PathValue("name")
	key := strings.ToLower("template:" + ns + "/" + name)
	views, err := s.cfg.Catalog.ByKeys(r.Context(), []string{key})
	if err != nil {
		return nil, nil, err
	}
	if len(views) == 0 || views[0] == nil {
		return nil, nil, fault.New(fault.NotFound, key, "No template %s in the catalog", key)
	}
	t, err := scaffolder.FromEntity(views[0].Ref, views[0].Body)
	if err != nil {
		return nil, nil, err
	}
	var body struct {
		Metadata struct {
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
	}
	_ = json.Unmarshal(views[0].Body, &body)
	return t, body.Metadata.Annotations, nil
}

// loadCreateForm answers a template's form at its first page (or the page
// ?step= names), with values from the URL: a form may be linked filled in.
func loadCreateForm(s *Server, r *Request) (any, string, error) {
	t, ann, err := s.readTemplate(r)
	if err != nil {
		return nil, "", err
	}
	fr := &formRequest{ns: r.PathValue("namespace"), name: r.PathValue("name"), tmpl: t, raw: r.URL.Query()}
	fr.values = typedValues(t.Pages, fr.raw)
	fr.step, _ = strconv.Atoi(fr.raw.Get("step"))
	fr.step = max(0, min(fr.step, len(t.Pages)))
	fr.review = fr.step == len(t.Pages)
	d := s.formData(r, fr, ann)
	return d, d.Title, nil
}

// postCreateForm moves through a template's form: _action next checks the
// page with the template's own checks (the messages the API answers) and
// goes on, back goes back, validate and refresh render the page again (the
// script's inline checks and conditional fields), and create starts the
// task and leads to its page.
func postCreateForm(s *Server, w http.ResponseWriter, r *Request) error {
	if err := checkWrite(r.Request); err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return fault.New(fault.Invalid, "form", "the form does not parse: %v", err)
	}
	t, ann, err := s.readTemplate(r)
	if err != nil {
		return err
	}
	fr := &formRequest{ns: r.PathValue("namespace"), name: r.PathValue("name"), tmpl: t, raw: r.PostForm}
	fr.values = typedValues(t.Pages, fr.raw)
	fr.step, _ = strconv.Atoi(fr.raw.Get("_step"))
	fr.step = max(0, min(fr.step, len(t.Pages)))
	action := fr.raw.Get("_action")
	if action == "" && fr.raw.Has("_goto") {
		action = "goto"
	}
	status := http.StatusOK
	switch action {
	case "back":
		fr.step = max(0, fr.step-1)
	case "refresh":
	case "validate", "next":
		if fr.step < len(t.Pages) {
			fr.errs, fr.other = s.pageErrors(t, fr.step, fr.values)
		}
		if action == "validate" {
			// As the person fills the page in, an empty field is not yet
			// an error: Next says so.
			for k, msg := range fr.errs {
				if _, set := fr.values[k]; !set && msg == "is required" {
					delete(fr.errs, k)
				}
			}
		}
		if action == "next" {
			if len(fr.errs) == 0 && len(fr.other) == 0 {
				fr.step++
			} else {
				status = http.StatusUnprocessableEntity
			}
		}
	case "goto":
		n, _ := strconv.Atoi(fr.raw.Get("_goto"))
		fr.step = max(0, min(n, len(t.Pages)))
	case "create":
		if err := s.may(r, permission.ScaffolderTaskCreate, permission.TemplateResource(t.Ref, ann)); err != nil {
			return err
		}
		tr, err := s.taskRunner()
		if err != nil {
			return err
		}
		id, err := tr.Create(r.Context(), r.Principal.Ref, t.Ref, fr.values, nil)
		if err == nil {
			seeOther(w, r, "/create/tasks/"+url.PathEscape(id))
			return nil
		}
		if fault.Of(err) != fault.Invalid {
			return err
		}
		fr.errs, fr.other = fieldErrors(err)
		fr.step = len(t.Pages)
		status = http.StatusUnprocessableEntity
	default:
		return fault.New(fault.Invalid, "_action", "_action=%q: want next, back, validate, refresh, goto or create", action)
	}
	fr.review = fr.step == len(t.Pages)
	d := s.formData(r, fr, ann)
	s.render(w, r.Request, r, Page{Section: "create", Template: "create_form.html"}, status, d.Title, d, 0)
	return nil
}

// pageErrors checks the values with the template's own checks and keeps
// the errors of the properties page step draws (and those naming none).
func (s *Server) pageErrors(t *scaffolder.Template, step int, values map[string]any) (map[string]string, []string) {
	_, err := t.Parameters(values)
	all, other := fieldErrors(err)
	es := resolvePage(t.Pages[step].Schema, values)
	out := map[string]string{}
	for k, v := range all {
		if _, ok := es.props[k]; ok {
			out[k] = v
		}
	}
	return out, other
}

// formData assembles a form page or the review.
func (s *Server) formData(r *Request, fr *formRequest, ann map[string]string) *createFormData {
	t := fr.tmpl
	d := &createFormData{Ref: t.Ref, Title: t.Title, Description: t.Description, Action: templateURL(fr.ns, fr.name),
		Step: fr.step, Review: fr.review, Errors: fr.other}
	if d.Title == "" {
		d.Title = fr.name
	}
	for i, p := range t.Pages {
		title := p.Title
		if title == "" {
			title = fmt.Sprintf("Step %d", i+1)
		}
		d.Tabs = append(d.Tabs, formTab{Title: title, Current: i == fr.step})
	}
	d.Tabs = append(d.Tabs, formTab{Title: "Review", Current: fr.review})
	if err := s.may(r, permission.ScaffolderTaskCreate, permission.TemplateResource(t.Ref, ann)); err != nil {
		d.Denied = err.Error()
	} else {
		d.CanCreate = true
	}
	drawn := map[string]bool{}
	if !fr.review {
		pg := t.Pages[fr.step]
		d.PageTitle, d.PageNote = d.Tabs[fr.step].Title, pg.Description
		es := resolvePage(pg.Schema, fr.values)
		d.Fields = fieldsOf(es, fr.raw, fr.values, fr.errs, func(picker string, opts map[string]any, value string) ([]formOption, string) {
			kinds := pickerKinds(picker, opts)
			return s.pickerOptions(r.Context(), kinds, value).Options, pickerURL(kinds)
		})
		var sig []string
		for _, f := range d.Fields {
			drawn[f.Name] = true
			sig = append(sig, f.Name)
		}
		d.Signature = strings.Join(sig, ",")
	} else {
		for i, p := range t.Pages {
			es := resolvePage(p.Schema, fr.values)
			for _, name := range es.order {
				prop := es.props[name]
				v, ok := fr.values[name]
				text := ""
				if ok {
					text = valueText(v)
				}
				if strOf(prop["ui:widget"]) == "password" && text != "" {
					text = "••••••"
				}
				label := strOf(prop["title"])
				if label == "" {
					label = name
				}
				d.Rows = append(d.Rows, reviewRow{Page: d.Tabs[i].Title, Label: label, Value: text, Step: i, Error: fr.errs[name]})
			}
		}
	}
	names := make([]string, 0, len(fr.values))
	for k := range fr.values {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		if drawn[k] {
			continue
		}
		switch v := fr.values[k].(type) {
		case []any:
			for _, x := range v {
				d.Hidden = append(d.Hidden, [2]string{k, fmt.Sprint(x)})
			}
		default:
			d.Hidden = append(d.Hidden, [2]string{k, valueText(v)})
		}
	}
	return d
}
