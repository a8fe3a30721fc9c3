package catalogstore

import (
	"context"
	"unicode"
)

// PrefixLister lists entities by the start of their name, reading no more
// rows than it returns and no relations: the scaffolder's entity pickers ask
// it as the user types, so an answer costs the same in a catalog of ten
// entities or of a million. Both catalog stores implement it; a reader that
// does not (the catalog as of an instant) is asked through Query instead.
type PrefixLister interface {
	// ByNamePrefix returns up to limit entities of kind (any kind when
	// empty; kinds compare lower case) whose name starts with prefix
	// (compared lower case; every entity when empty), ordered by name and
	// then key. The views carry Key, Ref, UID, LocationID and Body, neither
	// relations nor status.
	ByNamePrefix(ctx context.Context, kind, prefix string, limit int) ([]EntityView, error)
}

// PrefixEnd returns the least string above every string that starts with
// prefix, in byte order (which is code point order in UTF-8), and false when
// there is none (prefix empty, or only U+10FFFF): a name starts with prefix
// when prefix <= name < PrefixEnd. The last character that can be is
// replaced by the next one, so the answer is valid UTF-8 when prefix is (a
// database that checks its text's encoding takes it as an argument).
func PrefixEnd(prefix string) (string, bool) {
	r := []rune(prefix)
	for i := len(r) - 1; i >= 0; i-- {
		next := r[i] + 1
		if next >= 0xD800 && next <= 0xDFFF {
			next = 0xE000 // surrogates are no characters
		}
		if next <= unicode.MaxRune {
			r[i] = next
			return string(r[:i+1]), true
		}
	}
	return "", false
}
