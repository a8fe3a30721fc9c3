package catalogstore

// Internal pieces the external tests check against the general path.
var (
	StoredJSON       = storedJSON
	DecodeUpsertData = decodeUpsertData
)

// BuiltRows returns the rows the fold builds for ent (with the event's JSON
// raw, or nil) as eid.
func BuiltRows(p Payload, raw []byte, eid int64, uid, hash string) (EntityRows, []SearchRecord, []RelationRecord, error) {
	b, _ := buildRows(&entState{ent: p.Entity, raw: raw, eid: eid, uid: uid, hash: hash}, p.Entity.Ref().Key(), newSearchKeys(), newRelationText(), nil, make([]RelationRecord, 0, len(p.Entity.Declared())))
	return b.rows, b.search, b.rels, b.err
}
