package client

import (
	"context"
	"encoding/json"
	"net/http"
)

// DecideRequest asks a server's permission policy for a decision (POST
// /api/permissions/decide).
type DecideRequest struct {
	// Principal is the ref of who would act; "" is nobody signed in.
	Principal string `json:"principal"`
	// Groups are the principal's groups; nil lets the server read them from
	// the catalog (the User entity's memberOf relations).
	Groups *[]string `json:"groups,omitempty"`
	// Permission is the permission, such as catalog.entity.delete.
	Permission string `json:"permission"`
	// Resource is a name the server resolves (an entity or template ref, a
	// task, subscription, migration or location id) as a JSON string, or a
	// resource object; empty for none.
	Resource json.RawMessage `json:"resource,omitempty"`
}

// Decision is a server's answer to a DecideRequest.
type Decision struct {
	Allowed    bool           `json:"allowed"`
	Rule       string         `json:"rule"`
	Reason     string         `json:"reason"`
	Principal  string         `json:"principal"`
	Groups     []string       `json:"groups"`
	Permission string         `json:"permission"`
	Resource   map[string]any `json:"resource"`
	Policy     string         `json:"policy"`
}

// DecidePermission asks the server whether a principal may perform a
// permission on a resource it resolves from its stores, and which rule
// decides. The caller needs policy.read.
func (c *Client) DecidePermission(ctx context.Context, req DecideRequest) (Decision, error) {
	var d Decision
	err := c.apiJSON(ctx, http.MethodPost, "/api/permissions/decide", req, &d)
	return d, err
}
