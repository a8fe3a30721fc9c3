package golden

import (
	"strings"
	"testing"
)

func TestDiffNamesThePathAndBothValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		want, got string
		lines     []string
	}{
		{"equal in another key order", `{"a":1,"b":[1,2]}`, `{"b":[1,2],"a":1}`, nil},
		{"a changed value", `{"e":[{"spec":{"owner":"a"}}]}`, `{"e":[{"spec":{"owner":"b"}}]}`,
			[]string{`e[0].spec.owner: committed "a", replayed "b"`}},
		{"a renamed field", `{"ref":"x"}`, `{"entityRef":"x"}`,
			[]string{`entityRef: committed no such field, replayed "x"`, `ref: committed "x", replayed no such field`}},
		{"a missing item", `[1,2]`, `[1]`, []string{`[1]: committed 2, replayed nothing (1 items instead of 2)`}},
		{"a number is not a string", `{"n":1}`, `{"n":"1"}`, []string{`n: committed 1, replayed "1"`}},
		{"an odd key", `{"a.b":1}`, `{"a.b":2}`, []string{`["a.b"]: committed 1, replayed 2`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DiffNamed([]byte(tt.want), []byte(tt.got), "committed", "replayed")
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "\n") != strings.Join(tt.lines, "\n") {
				t.Fatalf("DiffNamed =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.lines, "\n"))
			}
		})
	}
}

func TestDiffListsAtMostMaxDiffs(t *testing.T) {
	t.Parallel()
	got, err := Diff([]byte(`[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]`), []byte(`[2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2]`))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != maxDiffs+1 || got[maxDiffs] != "… and 8 more differences" {
		t.Fatalf("Diff listed %d lines, the last %q", len(got), got[len(got)-1])
	}
}

func TestReadLogRefusesWhatIsNotAGoldenLog(t *testing.T) {
	t.Parallel()
	ev := `{"id":"1","source":"/s","specversion":"1.0","type":"backlot.entity.removed.v1","subject":"component:default/a","time":"2026-01-01T00:00:00Z","datacontenttype":"application/json","data":{}}`
	tests := []struct {
		name, log, want string
	}{
		{"positions go back", `{"position":2,"partition":0,"event":` + ev + "}\n" + `{"position":2,"partition":0,"event":` + ev + "}\n", "g.jsonl:2: event 1: position 2 of partition 0 does not follow 2"},
		{"an unknown field", `{"position":1,"offset":3,"event":` + ev + "}\n", `g.jsonl:1: json: unknown field "offset"`},
		{"an invalid envelope", `{"position":1,"event":{"id":"1"}}` + "\n", "g.jsonl:1: event: source is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeLog("g.jsonl", strings.NewReader(tt.log))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("decodeLog = %v, want %q", err, tt.want)
			}
		})
	}
	evs, err := decodeLog("g.jsonl", strings.NewReader(`{"position":1,"partition":0,"event":`+ev+"}\n\n"+`{"position":1,"partition":1,"event":`+ev+"}\n"))
	if err != nil || len(evs) != 2 || evs[1].Partition != 1 || evs[1].Position != 1 {
		t.Fatalf("decodeLog = %+v, %v", evs, err)
	}
}
