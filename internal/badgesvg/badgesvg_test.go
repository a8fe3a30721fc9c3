package badgesvg_test

import (
	"bytes"
	"encoding/xml"
	"io"
	"strconv"
	"strings"
	"testing"

	"backlot.dev/backlot/internal/badgesvg"
)

// svgDoc is the part of a badge the tests read back.
type svgDoc struct {
	XMLName   xml.Name `xml:"svg"`
	Width     string   `xml:"width,attr"`
	Height    string   `xml:"height,attr"`
	AriaLabel string   `xml:"aria-label,attr"`
	Title     string   `xml:"title"`
	Rects     []struct {
		Fill string `xml:"fill,attr"`
	} `xml:"g>rect"`
	Texts []struct {
		Hidden string `xml:"aria-hidden,attr"`
		Text   string `xml:",chardata"`
	} `xml:"g>text"`
}

// parse decodes a badge, failing the test unless it is one well-formed SVG
// document.
func parse(t *testing.T, raw []byte) svgDoc {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(raw))
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, raw)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "svg" && se.Name.Space != "http://www.w3.org/2000/svg" {
			t.Fatalf("the svg element is in namespace %q, want the SVG one", se.Name.Space)
		}
	}
	var doc svgDoc
	if err := xml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%v\n%s", err, raw)
	}
	return doc
}

// width is the badge's width in pixels.
func width(t *testing.T, doc svgDoc) float64 {
	t.Helper()
	w, err := strconv.ParseFloat(doc.Width, 64)
	if err != nil || w <= 0 {
		t.Fatalf("width %q", doc.Width)
	}
	return w
}

func TestRenderIsAnAccessibleSVGWithEscapedText(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, label, message string
		color                badgesvg.Color
	}{
		{"plain", "test-certification", "silver", badgesvg.ColorGreen},
		{"markup characters", `a<b & "c"`, `<&>"'`, badgesvg.ColorRed},
		{"a closing tag", "x", "</text></svg><svg>", badgesvg.ColorBlue},
		{"non-ASCII", "Zertifizierung", "größte Stufe ✓", badgesvg.ColorBrightGreen},
		{"empty message", "policy", "", badgesvg.ColorGrey},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			raw := badgesvg.Render(c.label, c.message, c.color)
			doc := parse(t, raw)
			want := c.label + ": " + c.message
			if doc.Title != want || doc.AriaLabel != want {
				t.Errorf("title %q, aria-label %q, want %q", doc.Title, doc.AriaLabel, want)
			}
			if doc.Height != "20" {
				t.Errorf("height %q, want 20", doc.Height)
			}
			width(t, doc)
			var texts []string
			for _, x := range doc.Texts {
				texts = append(texts, x.Text)
			}
			if want := []string{c.label, c.label, c.message, c.message}; strings.Join(texts, "\x00") != strings.Join(want, "\x00") {
				t.Errorf("texts %q, want %q (each with its shadow)", texts, want)
			}
			if len(doc.Texts) == 4 && (doc.Texts[0].Hidden != "true" || doc.Texts[1].Hidden != "") {
				t.Errorf("the shadow is not hidden from screen readers, or the text is: %+v", doc.Texts)
			}
			fills := map[string]bool{}
			for _, r := range doc.Rects {
				fills[r.Fill] = true
			}
			if !fills["#555"] || !fills[c.color.Hex()] {
				t.Errorf("fills %v, want the grey label and %s", fills, c.color.Hex())
			}
			if strings.ContainsAny(c.message, "<&") && strings.Contains(string(raw), c.message) {
				t.Errorf("the message is in the document unescaped: %s", raw)
			}
		})
	}
}

func TestRenderWithoutALabelDrawsTheMessageAlone(t *testing.T) {
	t.Parallel()
	doc := parse(t, badgesvg.Render("", "gold", badgesvg.ColorBrightGreen))
	if doc.Title != "gold" || len(doc.Texts) != 2 {
		t.Fatalf("title %q, %d texts", doc.Title, len(doc.Texts))
	}
	for _, r := range doc.Rects {
		if r.Fill == "#555" {
			t.Fatal("a label part without a label")
		}
	}
}

func TestWidthGrowsWithTheText(t *testing.T) {
	t.Parallel()
	prev := 0.0
	for _, msg := range []string{"", "i", "gold", "bronze", "no level reached", "WWWWWWWWWWWWWWWWWWWWWWWW"} {
		w := width(t, parse(t, badgesvg.Render("test-certification", msg, badgesvg.ColorRed)))
		if w <= prev {
			t.Errorf("message %q: width %v, not wider than the shorter message's %v", msg, w, prev)
		}
		prev = w
	}
	if a, b := badgesvg.TextWidth("iiii"), badgesvg.TextWidth("MMMM"); a >= b {
		t.Errorf("iiii is %v wide, MMMM %v: per-character widths are not applied", a, b)
	}
	if w := badgesvg.TextWidth("語"); w <= 0 {
		t.Errorf("a character missing from the table has width %v", w)
	}
	// build in Verdana 11px is about 27px wide (a 37px label part with its
	// padding, as the common badges draw it).
	if w := badgesvg.TextWidth("build"); w < 25 || w > 29 {
		t.Errorf("build is %v wide, want about 27", w)
	}
}

func TestForLevel(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name         string
		rank, levels int
		want         badgesvg.Color
	}{
		{"does not apply", -1, 3, badgesvg.ColorGrey},
		{"no level of three", 0, 3, badgesvg.ColorRed},
		{"bronze of three", 1, 3, badgesvg.ColorOrange},
		{"silver of three", 2, 3, badgesvg.ColorGreen},
		{"gold of three", 3, 3, badgesvg.ColorBrightGreen},
		{"above the top", 4, 3, badgesvg.ColorBrightGreen},
		{"the only level", 1, 1, badgesvg.ColorBrightGreen},
		{"none of one", 0, 1, badgesvg.ColorRed},
		{"first of two", 1, 2, badgesvg.ColorYellow},
		{"first of five", 1, 5, badgesvg.ColorOrange},
		{"second of five", 2, 5, badgesvg.ColorYellow},
		{"third of five", 3, 5, badgesvg.ColorYellowGreen},
		{"fourth of five", 4, 5, badgesvg.ColorGreen},
		{"a policy without levels", 0, 0, badgesvg.ColorGrey},
	} {
		if got := badgesvg.ForLevel(c.rank, c.levels); got != c.want {
			t.Errorf("%s: ForLevel(%d, %d) = %s, want %s", c.name, c.rank, c.levels, got, c.want)
		}
	}
	// Colours never get worse as the rank rises, whatever the number of levels;
	// reaching the first level and reaching the top always show.
	order := []badgesvg.Color{badgesvg.ColorRed, badgesvg.ColorOrange, badgesvg.ColorYellow,
		badgesvg.ColorYellowGreen, badgesvg.ColorGreen, badgesvg.ColorBrightGreen}
	idx := func(c badgesvg.Color) int {
		for i, o := range order {
			if o == c {
				return i
			}
		}
		t.Fatalf("colour %s is not on the scale", c)
		return -1
	}
	for levels := 1; levels <= 12; levels++ {
		for rank := 1; rank <= levels; rank++ {
			cur, prev := idx(badgesvg.ForLevel(rank, levels)), idx(badgesvg.ForLevel(rank-1, levels))
			if cur < prev || (rank == 1 || rank == levels) && cur == prev {
				t.Errorf("%d levels: rank %d is %s, rank %d %s", levels, rank, order[cur], rank-1, order[prev])
			}
		}
	}
}

func TestColorHex(t *testing.T) {
	t.Parallel()
	seen := map[string]badgesvg.Color{}
	for _, c := range []badgesvg.Color{badgesvg.ColorBrightGreen, badgesvg.ColorGreen, badgesvg.ColorYellowGreen, badgesvg.ColorYellow,
		badgesvg.ColorOrange, badgesvg.ColorRed, badgesvg.ColorGrey, badgesvg.ColorBlue} {
		h := c.Hex()
		if !strings.HasPrefix(h, "#") {
			t.Errorf("%s: %q", c, h)
		}
		if o, dup := seen[h]; dup {
			t.Errorf("%s and %s are both %s", c, o, h)
		}
		seen[h] = c
	}
	if got := badgesvg.Color("purple").Hex(); got != badgesvg.ColorGrey.Hex() {
		t.Errorf("an undeclared colour is drawn %s, want grey", got)
	}
	doc := parse(t, badgesvg.Render("a", "b", badgesvg.Color(`"/><script/>`)))
	for _, r := range doc.Rects {
		if strings.Contains(r.Fill, "script") {
			t.Fatal("an undeclared colour reaches the document")
		}
	}
}
