package pgcatalog

import (
	"fmt"
	"testing"
	"time"
)

// The cache of search key ids holds at most its size, keeps the keys in use
// and drops those no longer named.
func TestTheKeyCacheIsBoundedAndKeepsTheKeysInUse(t *testing.T) {
	t.Parallel()
	c := newKeyCache(100)
	c.put("kind", 1)
	for i := range 10_000 {
		c.put(fmt.Sprintf("spec.dependsOn.component:default/c%d", i), int32(i+10))
		if _, ok := c.get("kind"); !ok {
			t.Fatalf("the key in use was dropped after %d others", i+1)
		}
		if n := c.len(); n > 100 {
			t.Fatalf("the cache holds %d keys, more than its 100", n)
		}
	}
	if id, ok := c.get("spec.dependsOn.component:default/c9999"); !ok || id != 10_009 {
		t.Fatalf("the last key: %d, %v", id, ok)
	}
	if _, ok := c.get("spec.dependsOn.component:default/c0"); ok {
		t.Fatal("a key not named for 9,999 puts is still cached")
	}
}

// A key the cache lacks is looked up once at a time, and again only after
// keyLookupEvery.
func TestAnUnknownKeyIsLookedUpOnceAtATime(t *testing.T) {
	t.Parallel()
	c := newKeyCache(100)
	now := time.Now()
	if !c.ask("spec.nowhere", now) {
		t.Fatal("the first ask of an unknown key was refused")
	}
	if c.ask("spec.nowhere", now.Add(2*keyLookupEvery)) {
		t.Fatal("a key being looked up was asked again")
	}
	c.done("spec.nowhere")
	if c.ask("spec.nowhere", now.Add(keyLookupEvery/2)) {
		t.Fatal("a key looked up less than keyLookupEvery ago was asked again")
	}
	if !c.ask("spec.nowhere", now.Add(2*keyLookupEvery)) {
		t.Fatal("a key looked up long ago was not asked again")
	}
	for i := range 1000 {
		c.ask(fmt.Sprintf("k%d", i), now)
		c.done(fmt.Sprintf("k%d", i))
	}
	if len(c.asked) > 100 {
		t.Fatalf("the cache remembers %d asked keys, more than its size", len(c.asked))
	}
}
