package event

import (
	"encoding/json"
	"testing"
	"time"
)

func TestDigestAndLink(t *testing.T) {
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	a, _ := New(TypeEntityRemoved, "component:default/a", EntityRemoved{Ref: "component:default/a", UID: "1"}, Meta{Time: at, Actor: "user:default/ada"})
	b, _ := New(TypeEntityRemoved, "component:default/b", EntityRemoved{Ref: "component:default/b", UID: "2"}, Meta{Time: at})
	if Digest(&a) == Digest(&b) {
		t.Fatal("different events share a digest")
	}
	spaced := a
	spaced.Data = json.RawMessage(" {\n \"ref\": \"component:default/a\", \"uid\": \"1\", \"reason\": \"\"}")
	spaced.Position, spaced.Partition = 99, 3
	if Digest(&spaced) != Digest(&a) {
		t.Fatal("white space in data or the position changed the digest")
	}
	altered := a
	altered.Actor = "user:default/mallory"
	if Digest(&altered) == Digest(&a) {
		t.Fatal("a changed actor kept the digest")
	}
	ab := Link(Link(GenesisLink, &a), &b)
	ba := Link(Link(GenesisLink, &b), &a)
	if ab == ba {
		t.Fatal("swapping two events kept the chain's head")
	}
	if Link(GenesisLink, &b) == ab {
		t.Fatal("removing an event kept the chain's head")
	}
}
