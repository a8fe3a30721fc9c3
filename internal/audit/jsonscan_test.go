package audit

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"

	"backlot.dev/backlot/domain/event"
)

// checkUpsertFields checks upsertFields against json.Unmarshal into an
// EntityUpserted: where it reads data and encoding/json decodes it too
// (data in valid UTF-8, which encoding/json would otherwise rewrite), both
// find the same uid, hash and entity bytes.
func checkUpsertFields(t *testing.T, data []byte) (read bool) {
	uid, hash, entity, ok := upsertFields(data)
	var d event.EntityUpserted
	if !ok || json.Unmarshal(data, &d) != nil || !utf8.Valid(data) {
		return ok
	}
	if uid != d.UID || hash != d.Hash || !bytes.Equal(entity, d.Entity) || (entity == nil) != (d.Entity == nil) {
		t.Fatalf("%q: upsertFields read uid %q hash %q entity %q; json.Unmarshal %q %q %q", data, uid, hash, entity, d.UID, d.Hash, d.Entity)
	}
	return true
}

var upsertSeeds = []string{
	`{"ref":"component:default/a","uid":"u-1","hash":"h1","entity":{"kind":"Component","metadata":{"name":"a"}},"locationId":"L1"}`,
	` { "uid" : "u" , "entity" : [ 1, "x\"y", {"k": null} ] , "hash":"h" } `,
	`{}`, `{"entity":{"a":1},"entity":{"b":2}}`, `{"uid":"a","uid":"b"}`, `{"UID":"x"}`, `{"haſh":"x"}`, `{"Entity":{}}`,
	`{"uid":"a\"b"}`, `{"u\u0069d":"x"}`, `{"uid":1}`, `{"uid":null}`, `{"entity":null}`, `{"ref":tru}`, "{\"uid\":\"caf\xc3\xa9\"}",
	"{\"uid\":\"\xff\"}", `{"hash":"<&>"}`, `{"entity":"\u00e9"}`, `{"uid":"a"} x`, `[]`, `{"uid":"a",}`,
}

func TestUpsertFieldsIsJSONUnmarshal(t *testing.T) {
	for _, seed := range upsertSeeds {
		checkUpsertFields(t, []byte(seed))
	}
	// What the log holds, written by json.Marshal, takes the fast path.
	data, err := json.Marshal(event.EntityUpserted{Ref: "component:default/a", UID: "u-1", Hash: "h1", LocationID: "L1",
		Entity: json.RawMessage(`{"kind":"Component","metadata":{"name":"a","description":"Line one.\nLine two."}}`)})
	if err != nil {
		t.Fatal(err)
	}
	if !checkUpsertFields(t, data) {
		t.Fatalf("%s: upsertFields does not read it", data)
	}
}

func FuzzUpsertFields(f *testing.F) {
	for _, seed := range upsertSeeds {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkUpsertFields(t, data) })
}
