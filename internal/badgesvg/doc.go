// Package badgesvg draws the small SVG badges a README shows for a policy's
// verdict on an entity: a flat two-part badge, a grey label on the left and a
// coloured message on the right ("test-certification | silver"), in the style
// of the common README badges.
//
// Render draws a badge; ForLevel chooses its colour from the level an entity
// reached among a policy's levels. Widths come from approximate per-character
// widths of Verdana at 11px, the font badges are drawn in, so no font is read
// and a badge is the same on every machine. Everything is pure: no I/O, safe
// for concurrent use.
package badgesvg
