// Package badges is the badge read model: the facts each source reported about
// each entity, the JSON Schemas sources declared for their facts, every
// entity's current verdict under every policy that rates it, and every change
// of a verdict, so the badges of any past instant, a policy's level counts over
// time and a campaign's burndown are read from it.
//
// It folds the facts and badge events of the log (TypeFactsReported,
// TypeFactSourceDeclared, TypeBadgeAwarded, TypeBadgeRevoked,
// TypeCheckChanged) and ignores the rest. The evaluator that writes the badge
// events (package internal/badging) reads the verdicts back from it to decide
// what changed. Its adapters live in sub-packages (sqlitebadges).
package badges
