package sqlitecatalog

import "hash/maphash"

// keyHash stands for a search key in the writer's map of search key ids
// (Store.keys): two 64-bit hashes of the key under two seeds of the process.
// At 100,000 entities the catalog holds about 90,000 search keys (a key per
// relation target, spec.dependsOn.component:…): as map[string]int64 their
// strings held 4.5 MB of the writer's live heap beside the map's 4.1 MB (a
// heap profile at the end of an ingestion); by their hashes, which take a
// string header's 16 bytes in a map entry, only the map remains. Two
// distinct keys share a keyHash with a probability of about n²/2¹²⁹ (10⁻²⁹
// at 100,000 keys), the seeds are drawn at each start, and the map is
// rebuilt from search_keys when the store opens, so no file ever records a
// hash.
type keyHash [2]uint64

// keyHasher hashes search keys into keyHashes; the zero value is unusable,
// newKeyHasher makes one.
type keyHasher struct{ a, b maphash.Seed }

// newKeyHasher returns a keyHasher with two random seeds.
func newKeyHasher() keyHasher {
	return keyHasher{a: maphash.MakeSeed(), b: maphash.MakeSeed()}
}

// of returns the keyHash of search key k.
func (h keyHasher) of(k string) keyHash {
	return keyHash{maphash.String(h.a, k), maphash.String(h.b, k)}
}
