package badges

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/event"
)

// digestByFmt is DigestOf as it was first written, with fmt: the stored
// digests were made by it, so DigestOf must give the same.
func digestByFmt(d *event.BadgeChanged) string {
	h := sha256.New()
	fmt.Fprintf(h, "%t\x00%s\x00%d\x00%s\x00%s\x00", d.Applies, d.Level, d.LevelRank, d.Owner, strings.Join(d.Campaigns, "\x01"))
	for _, c := range d.Checks {
		fmt.Fprintf(h, "%s\x01%s\x01%t\x01%s\x01%s\x00", c.ID, c.Level, c.Passed, c.Message, c.Error)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func TestDigestOfAsByFmt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		d    event.BadgeChanged
	}{
		{"empty", event.BadgeChanged{}},
		{"revoked", event.BadgeChanged{Policy: "p", Checks: []event.CheckOutcome{}}},
		{"rated", event.BadgeChanged{Applies: true, Level: "gold", LevelRank: 3, Owner: "group:default/team-a", Campaigns: []string{"q3", "q4"},
			Checks: []event.CheckOutcome{{ID: "c1", Level: "bronze", Passed: true, Message: "has an owner"}, {ID: "c2", Level: "gold", Error: "1:1: no such key"}}}},
		{"negative rank", event.BadgeChanged{Applies: true, LevelRank: -12, Campaigns: []string{""}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got, want := DigestOf(&tc.d), digestByFmt(&tc.d); got != want {
				t.Errorf("DigestOf = %s, fmt gives %s", got, want)
			}
		})
	}
}

func FuzzDigestOfAsByFmt(f *testing.F) {
	f.Add(true, "gold", 3, "group:default/a", "q3\x01q4", "c1", "bronze", true, "msg", "")
	f.Add(false, "", 0, "", "", "", "", false, "", "1:1: error\x00")
	f.Fuzz(func(t *testing.T, applies bool, level string, rank int, owner, campaigns, id, clevel string, passed bool, msg, cerr string) {
		d := &event.BadgeChanged{Applies: applies, Level: level, LevelRank: rank, Owner: owner,
			Checks: []event.CheckOutcome{{ID: id, Level: clevel, Passed: passed, Message: msg, Error: cerr}, {ID: msg, Level: level}}}
		if campaigns != "" {
			d.Campaigns = strings.Split(campaigns, "\x01")
		}
		if got, want := DigestOf(d), digestByFmt(d); got != want {
			t.Errorf("DigestOf = %s, fmt gives %s for %+v", got, want, d)
		}
	})
}
