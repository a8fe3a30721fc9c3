package badgesvg

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
	"strconv"
)

// Color is the colour of a badge's message part. Only the values declared
// below exist; Render draws any other value as ColorGrey.
type Color string

// The badge colours, from worst to best, and the neutral ones.
const (
	// ColorRed is for an entity that reached no level of a policy that rates it.
	ColorRed Color = "red"
	// ColorOrange is for a low level.
	ColorOrange Color = "orange"
	// ColorYellow is for a level below the middle.
	ColorYellow Color = "yellow"
	// ColorYellowGreen is for a level above the middle.
	ColorYellowGreen Color = "yellowgreen"
	// ColorGreen is for a high level short of the top.
	ColorGreen Color = "green"
	// ColorBrightGreen is for the top level of a policy.
	ColorBrightGreen Color = "brightgreen"
	// ColorGrey is for a policy that does not rate the entity. It is a light
	// grey, so the message stands apart from the darker label.
	ColorGrey Color = "grey"
	// ColorBlue is for informational badges that rate nothing.
	ColorBlue Color = "blue"
)

// colorHex maps each Color to the fill it is drawn with.
var colorHex = map[Color]string{
	ColorRed:         "#e05d44",
	ColorOrange:      "#fe7d37",
	ColorYellow:      "#dfb317",
	ColorYellowGreen: "#a4a61d",
	ColorGreen:       "#97ca00",
	ColorBrightGreen: "#4c1",
	ColorGrey:        "#9f9f9f",
	ColorBlue:        "#007ec6",
}

// Hex returns the fill the colour is drawn with (#4c1 for ColorBrightGreen);
// a value that is not one of the declared colours gets ColorGrey's.
func (c Color) Hex() string {
	if h, ok := colorHex[c]; ok {
		return h
	}
	return colorHex[ColorGrey]
}

// between are the colours of the levels between none and the top, worst first.
var between = []Color{ColorOrange, ColorYellow, ColorYellowGreen, ColorGreen}

// ForLevel returns the colour of a badge for an entity at rank among levels
// (the number of levels of the policy; rank is the index of the level reached
// plus one, as event.BadgeChanged.LevelRank counts it):
//
//   - rank < 0 asks for ColorGrey: callers pass -1 when the policy does not
//     rate the entity (its selector does not choose it, or no verdict exists);
//     a policy without levels (levels <= 0) is grey too;
//   - rank 0, no level reached, is ColorRed;
//   - the top level (rank >= levels) is ColorBrightGreen;
//   - the levels in between are spread evenly over ColorOrange, ColorYellow,
//     ColorYellowGreen and ColorGreen: with two or more levels in between, the
//     lowest is orange and the highest green; a single one is yellow. With
//     three levels (bronze, silver, gold) that is red for none, then orange,
//     green and bright green.
func ForLevel(rank, levels int) Color {
	switch {
	case rank < 0 || levels <= 0:
		return ColorGrey
	case rank == 0:
		return ColorRed
	case rank >= levels:
		return ColorBrightGreen
	}
	inner := levels - 1 // ranks 1 … levels-1
	if inner == 1 {
		return between[(len(between)-1)/2]
	}
	// Place rank 1 on the first colour and rank levels-1 on the last, rounding
	// the ones between to the nearest.
	span := len(between) - 1
	i := ((rank-1)*span*2 + (inner - 1)) / (2 * (inner - 1))
	return between[i]
}

// The badge geometry, in pixels.
const (
	height     = 20
	padding    = 5 // on each side of a text
	radius     = 3
	fontSize   = 11
	labelColor = "#555"
	shadowFill = "#010101"
	fontFamily = "Verdana,Geneva,DejaVu Sans,sans-serif"
)

// Render returns a badge showing label in grey and message in color, as a
// complete SVG document (UTF-8, with its xmlns). Each part is as wide as its
// text, measured with approximate Verdana 11px widths, plus padding. The text
// is XML-escaped (characters XML cannot hold become U+FFFD), drawn with a
// shadow, and the document's <title> and aria-label read "label: message" for
// screen readers. An empty label draws the message part alone.
func Render(label, message string, color Color) []byte {
	lw := 0.0
	if label != "" {
		lw = partWidth(label)
	}
	mw := partWidth(message)
	total := lw + mw
	title := message
	if label != "" {
		title = label + ": " + message
	}

	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%d" role="img" aria-label="%s">`, num(total), height, escape(title))
	fmt.Fprintf(&b, `<title>%s</title>`, escape(title))
	b.WriteString(`<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>`)
	fmt.Fprintf(&b, `<clipPath id="r"><rect width="%s" height="%d" rx="%d" fill="#fff"/></clipPath>`, num(total), height, radius)
	b.WriteString(`<g clip-path="url(#r)">`)
	if label != "" {
		fmt.Fprintf(&b, `<rect width="%s" height="%d" fill="%s"/>`, num(lw), height, labelColor)
	}
	fmt.Fprintf(&b, `<rect x="%s" width="%s" height="%d" fill="%s"/>`, num(lw), num(mw), height, color.Hex())
	fmt.Fprintf(&b, `<rect width="%s" height="%d" fill="url(#s)"/>`, num(total), height)
	b.WriteString(`</g>`)
	fmt.Fprintf(&b, `<g fill="#fff" text-anchor="middle" font-family="%s" text-rendering="geometricPrecision" font-size="%d">`, fontFamily, fontSize)
	if label != "" {
		writeText(&b, label, lw/2)
	}
	writeText(&b, message, lw+mw/2)
	b.WriteString(`</g></svg>`)
	return b.Bytes()
}

// writeText draws s centred on x with its shadow one pixel below.
func writeText(b *bytes.Buffer, s string, x float64) {
	w := num(TextWidth(s))
	fmt.Fprintf(b, `<text aria-hidden="true" x="%s" y="15" fill="%s" fill-opacity=".3" textLength="%s">%s</text>`, num(x), shadowFill, w, escape(s))
	fmt.Fprintf(b, `<text x="%s" y="14" textLength="%s">%s</text>`, num(x), w, escape(s))
}

// partWidth is the width of a badge part holding s: its text and the padding,
// rounded up to a whole pixel so the parts meet on pixel edges.
func partWidth(s string) float64 {
	return math.Ceil(TextWidth(s) + 2*padding)
}

// TextWidth returns the approximate width in pixels of s drawn in Verdana at
// 11px: the sum of each character's width from a table of the common ones,
// and defaultWidth for the others.
func TextWidth(s string) float64 {
	w := 0.0
	for _, r := range s {
		if cw, ok := charWidths[r]; ok {
			w += cw
		} else {
			w += defaultWidth
		}
	}
	return w
}

// defaultWidth is the width of a character missing from charWidths, about
// that of a digit or a lower-case letter at its widest.
const defaultWidth = 7.0

// charWidths are approximate advance widths of Verdana 11px, in pixels.
var charWidths = map[rune]float64{
	' ': 3.87, '!': 4.33, '"': 5.05, '#': 9.0, '$': 7.0, '%': 11.84, '&': 7.99, '\'': 2.95,
	'(': 4.99, ')': 4.99, '*': 7.0, '+': 9.0, ',': 4.0, '-': 4.99, '.': 4.0, '/': 4.99,
	'0': 7.0, '1': 7.0, '2': 7.0, '3': 7.0, '4': 7.0, '5': 7.0, '6': 7.0, '7': 7.0, '8': 7.0, '9': 7.0,
	':': 4.99, ';': 4.99, '<': 9.0, '=': 9.0, '>': 9.0, '?': 6.0, '@': 11.0,
	'A': 7.52, 'B': 7.54, 'C': 7.68, 'D': 8.48, 'E': 6.96, 'F': 6.32, 'G': 8.53, 'H': 8.27,
	'I': 4.62, 'J': 4.98, 'K': 7.6, 'L': 6.17, 'M': 9.27, 'N': 8.23, 'O': 8.66, 'P': 6.63,
	'Q': 8.66, 'R': 7.65, 'S': 7.52, 'T': 6.78, 'U': 8.05, 'V': 7.52, 'W': 10.87, 'X': 7.54,
	'Y': 6.77, 'Z': 7.54,
	'[': 4.99, '\\': 4.99, ']': 4.99, '_': 7.0,
	'a': 6.61, 'b': 6.85, 'c': 5.73, 'd': 6.85, 'e': 6.55, 'f': 3.87, 'g': 6.85, 'h': 6.96,
	'i': 3.02, 'j': 3.79, 'k': 6.51, 'l': 3.02, 'm': 10.69, 'n': 6.96, 'o': 6.68, 'p': 6.85,
	'q': 6.85, 'r': 4.69, 's': 5.73, 't': 4.33, 'u': 6.96, 'v': 6.51, 'w': 9.0, 'x': 6.51,
	'y': 6.51, 'z': 5.78,
	'{': 6.98, '|': 4.99, '}': 6.98, '~': 9.0,
}

// num formats a length with at most one decimal (12, 12.5).
func num(x float64) string {
	return strconv.FormatFloat(math.Round(x*10)/10, 'f', -1, 64)
}

// escape returns s as XML character data, safe in text and in attributes.
func escape(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s)) // writes to a bytes.Buffer cannot fail
	return b.String()
}
