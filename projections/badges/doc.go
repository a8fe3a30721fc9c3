// Package badges is the badge read model: the facts each source reported about
// each entity, the JSON Schemas sources declared for their facts, every
// entity's current verdict under every policy that rates it, and every change
// of a verdict, so the badges of any past instant, a policy's level counts over
// time and a campaign's burndown are read from it.
//
// It folds the facts and badge events of the log (TypeFactsReported,
// TypeFactSourceDeclared, TypeBadgeAwarded, TypeBadgeRevoked,
// TypeCheckChanged) and ignores the rest. A current verdict's row holds its
// level, owner and digest (DigestOf) and names the change that made it; the
// verdict itself is read from that change. The evaluator that writes the badge
// events (package internal/badging) reads the digests back to decide what
// changed (VerdictsOf), and a verdict in full only when its digest differs
// (BadgesOf). The fold reads the evaluator's badge data with a scanner made
// for it (DecodeBadgeChanged, json.Unmarshal's answer for any input). Its
// adapters live in sub-packages (sqlitebadges, pgbadges).
package badges
