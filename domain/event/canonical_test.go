package event

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// referenceDigest is Digest as it was first written (decode and encode the
// data every time): the chains already stored were linked with it, so the
// faster Digest must give the same answer for every input.
func referenceDigest(e *Envelope) string {
	h := sha256.New()
	field := func(s string) {
		h.Write([]byte(strconv.Itoa(len(s))))
		h.Write([]byte{':'})
		h.Write([]byte(s))
	}
	field(e.ID)
	field(e.Source)
	field(e.SpecVersion)
	field(e.Type)
	field(e.Subject)
	field(e.Time.UTC().Format("2006-01-02T15:04:05.000000000Z"))
	field(e.DataContentType)
	field(e.DataSchema)
	field(e.Actor)
	field(e.Commit)
	field(e.CorrelationID)
	field(string(slowCanonical(e.Data)))
	return hex.EncodeToString(h.Sum(nil))
}

// canonicalCases are data the fast path must take or refuse, each compared
// with the definition.
var canonicalCases = []struct {
	name string
	data string
	fast bool // the one-pass copy applies
}{
	{"object", `{"a":1,"b":"x","c":[true,false,null],"d":{}}`, true},
	{"spaced", " {\n \"a\" : [ 1 , 2 ] ,\t\"b\":{ \"c\" : \"d\" } } ", true},
	{"empty array", `[]`, true},
	{"string top level", `"plain"`, true},
	{"zero", `{"n":0}`, true},
	{"negative", `{"n":-42}`, true},
	{"fifteen digits", `{"n":999999999999999}`, true},
	{"sixteen digits", `{"n":9999999999999999}`, false},
	{"float", `{"n":1.5}`, false},
	{"float as integer", `{"n":1.0}`, false},
	{"exponent", `{"n":1e3}`, false},
	{"minus zero", `{"n":-0}`, false},
	{"leading zero", `{"n":01}`, false},
	{"unsorted keys", `{"b":1,"a":2}`, true},
	{"unsorted nested", `{"z":{"y":[{"b":1,"a":{"d":2,"c":3}}],"x":0},"a":"b"}`, true},
	{"repeated key unsorted", `{"b":1,"a":2,"b":3}`, false},
	{"repeated key", `{"a":1,"a":2}`, false},
	{"escaped quote", `{"a":"say \"hi\""}`, true},
	{"lines", `{"a":"openapi: 3.0.3\ninfo:\r\n\ttitle: x\\y"}`, true},
	{"escaped key", `{"a\nb":1,"a":2}`, false},
	{"short escapes json.Marshal does not write", `{"a":"\b\f"}`, false},
	{"needless escape", `{"a":"\u0041\/"}`, false},
	{"html", `{"a":"<b>&</b>"}`, false},
	{"unicode", `{"a":"café"}`, true},
	{"unicode keys", `{"é":1,"e":2,"日本":3}`, true},
	{"line separator", "{\"a\":\"\u2028\"}", false},
	{"invalid utf-8", "{\"a\":\"\xff\"}", false},
	{"control character", "{\"a\":\"\x01\"}", false},
	{"not json", `{"a":`, false},
	{"trailing garbage", `{"a":1} x`, false},
	{"two values", `1 2`, false},
	{"empty", ``, false},
	{"bare word", `nul`, false},
	{"deep", deepArray(150), false},
}

func deepArray(n int) string {
	s := ""
	for range n {
		s += "["
	}
	for range n {
		s += "]"
	}
	return s
}

func TestCanonicalJSONMatchesDecodeAndEncode(t *testing.T) {
	t.Parallel()
	for _, c := range canonicalCases {
		t.Run(c.name, func(t *testing.T) {
			_, fast := fastCanonical([]byte(c.data))
			if fast != c.fast {
				t.Errorf("fast path taken = %v, want %v", fast, c.fast)
			}
			got, want := canonicalJSON(json.RawMessage(c.data)), slowCanonical(json.RawMessage(c.data))
			if string(got) != string(want) {
				t.Errorf("canonical form %q, want %q", got, want)
			}
		})
	}
}

func TestDigestUnchanged(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 25, 12, 0, 0, 123, time.UTC)
	up, err := New(TypeEntityUpserted, "component:default/a", EntityUpserted{
		Ref: "component:default/a", UID: "u1", Hash: "h",
		Entity: json.RawMessage(`{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"a","tags":["go"]},"spec":{"owner":"team-<a>"}}`),
	}, Meta{Time: at, Actor: "location:L1", Commit: "abc", CorrelationID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, fast := fastCanonical(up.Data); fast {
		t.Fatal("an owner with < and > took the fast path")
	}
	plain := up
	plain.Data = json.RawMessage(`{"entity":{"kind":"Component","metadata":{"name":"a"}},"hash":"h","ref":"component:default/a","uid":"u1"}`)
	if _, fast := fastCanonical(plain.Data); !fast {
		t.Fatal("data as json.Marshal writes it did not take the fast path")
	}
	plain.Data = json.RawMessage(`{"ref":"component:default/a","uid":"u1","hash":"h","entity":{"metadata":{"name":"a"},"kind":"Component"}}`)
	if _, fast := fastCanonical(plain.Data); !fast {
		t.Fatal("data in a struct's field order did not take the fast path")
	}
	for _, c := range canonicalCases {
		e := plain
		e.Data = json.RawMessage(c.data)
		if got, want := Digest(&e), referenceDigest(&e); got != want {
			t.Errorf("%s: digest %s, want %s", c.name, got, want)
		}
	}
	for _, e := range []Envelope{up, plain} {
		if got, want := Digest(&e), referenceDigest(&e); got != want {
			t.Errorf("digest %s, want %s", got, want)
		}
	}
}

// TestDigestsOnManyGoroutines checks that digests computed at once, as the
// log computes a batch's, each hash their own event's data although their
// scanners share buffers.
func TestDigestsOnManyGoroutines(t *testing.T) {
	t.Parallel()
	events := make([]Envelope, 64)
	want := make([]string, len(events))
	for i := range events {
		events[i] = verdictEnvelope()
		events[i].Data = json.RawMessage(strings.Replace(string(events[i].Data), `"level":"silver"`, `"level":"silver`+strconv.Itoa(i)+`"`, 1))
		want[i] = referenceDigest(&events[i])
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for round := range 50 {
				i := (g*7 + round*13) % len(events)
				if got := Digest(&events[i]); got != want[i] {
					t.Errorf("event %d: digest %s, want %s", i, got, want[i])
					return
				}
			}
		})
	}
	wg.Wait()
}

func FuzzCanonicalJSON(f *testing.F) {
	for _, c := range canonicalCases {
		f.Add([]byte(c.data))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, want := canonicalJSON(data), slowCanonical(data)
		if string(got) != string(want) {
			t.Fatalf("canonical form of %q: %q, want %q", data, got, want)
		}
	})
}

func BenchmarkDigest(b *testing.B) {
	body := `{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"annotations":{"backstage.io/managed-by-location":"file:/catalog/file-1.yaml","github.com/project-slug":"org/service-1"},"description":"Service number 1 of the synthetic catalog.","name":"service-1","namespace":"default","tags":["go","tier-1","backend"]},"spec":{"consumesApis":["api-2","api-8"],"dependsOn":["component:service-4"],"lifecycle":"experimental","owner":"team-1","providesApis":["api-1"],"system":"system-1","type":"website"}}`
	e, err := New(TypeEntityUpserted, "component:default/service-1", EntityUpserted{Ref: "component:default/service-1", UID: "uid-1", Hash: "h", Entity: json.RawMessage(body)}, Meta{Actor: "location:L1"})
	if err != nil {
		b.Fatal(err)
	}
	if _, fast := fastCanonical(e.Data); !fast {
		b.Fatal("the event's data does not take the fast path")
	}
	verdict := verdictEnvelope()
	for _, bc := range []struct {
		name   string
		e      *Envelope
		digest func(*Envelope) string
	}{
		{"fast", &e, Digest}, {"reference", &e, referenceDigest},
		{"verdict", &verdict, Digest}, {"verdict-reference", &verdict, referenceDigest},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.e.Data)))
			b.ReportAllocs()
			for range b.N {
				bc.digest(bc.e)
			}
		})
	}
}

// verdictEnvelope is a badge event as the policy evaluator appends them by
// the thousand: a verdict of 20 checks, its data in BadgeChanged's field
// order (not sorted).
func verdictEnvelope() Envelope {
	d := BadgeChanged{Entity: "component:default/service-0012345", EntityHash: "3f786850e387550fdab836ed7e6dc881de23001b3f786850e387550fdab836ed",
		Owner: "group:default/team-7", Policy: "bench", Applies: true, Level: "silver", LevelRank: 2, Changed: []string{}}
	levels := []string{"bronze", "silver", "gold", "platinum"}
	for c := range 20 {
		d.Checks = append(d.Checks, CheckOutcome{ID: "c" + strconv.Itoa(c+10), Level: levels[c/5], Passed: c < 10 || c%3 == 0})
	}
	e, err := New(TypeBadgeAwarded, d.Entity, d, Meta{Actor: "backlot:policies", Time: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)})
	if err != nil {
		panic(err)
	}
	return e
}
