// Package catalogdir is the auth.Directory of the catalog read model: a
// person who signs in resolves to a User entity (by spec.profile.email or
// by name), and a principal's groups are those of its memberOf relations
// and the tokens' own, with every parent group reached through childOf
// relations. Answers are cached for a short time (DefaultTTL), so a change
// to the catalog shows within that time and a busy server does not query
// the read model on every request.
package catalogdir
