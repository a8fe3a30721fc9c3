package permission

import (
	"fmt"
	"os"
	"strings"
)

// AllowedGroupsAnnotation is the template annotation that restricts who may
// run it: a comma-separated list of group (or user) refs. A template without
// it runs for everyone the policy lets run templates.
const AllowedGroupsAnnotation = "backlot.dev/allowed-groups"

// AllowedGroups reads AllowedGroupsAnnotation from a template's annotations:
// the refs, trimmed, empty items left out; nil when the annotation is absent
// or empty.
func AllowedGroups(annotations map[string]string) []string {
	var out []string
	for _, g := range strings.Split(annotations[AllowedGroupsAnnotation], ",") {
		if g = strings.TrimSpace(g); g != "" {
			out = append(out, g)
		}
	}
	return out
}

// EntityResource is the Resource of an action on a catalog entity: its kind,
// ref, owner ref and, when the caller resolved them, the refs of the owner
// group's members (nil otherwise).
func EntityResource(kind, ref, owner string, ownerMembers []string) Resource {
	r := Resource{"kind": kind, "ref": ref, "owner": owner}
	if ownerMembers != nil {
		r["ownerMembers"] = ownerMembers
	}
	return r
}

// TemplateResource is the Resource of running a template: its ref and the
// groups its AllowedGroupsAnnotation names.
func TemplateResource(ref string, annotations map[string]string) Resource {
	r := Resource{"kind": "Template", "ref": ref}
	if g := AllowedGroups(annotations); g != nil {
		r["allowedGroups"] = g
	}
	return r
}

// TaskResource is the Resource of an action on a scaffolder task: its id and
// the ref of its creator.
func TaskResource(id, creator string) Resource {
	return Resource{"kind": "Task", "ref": id, "taskCreator": creator}
}

// ApprovalResource is the Resource of deciding a backlot:approval step: the
// task and step ids, the task's creator, the users and groups the step names
// as approvers, and whether the step lets the creator approve.
func ApprovalResource(taskID, stepID, creator string, approvers []string, selfApproval bool) Resource {
	if approvers == nil {
		approvers = []string{}
	}
	return Resource{"kind": "ApprovalStep", "ref": taskID + "/" + stepID, "taskCreator": creator,
		"approvers": approvers, "selfApproval": selfApproval}
}

// SubscriptionResource is the Resource of an action on a webhook
// subscription: its id and the ref of its creator.
func SubscriptionResource(id, createdBy string) Resource {
	return Resource{"kind": "Subscription", "ref": id, "createdBy": createdBy}
}

// ParseFile reads a permission policy document from a file (see Parse).
func ParseFile(name string) (*Policy, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("permission policy: %w", err)
	}
	return Parse(name, data)
}
