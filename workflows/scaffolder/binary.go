package scaffolder

import "bytes"

// binarySniffBytes is how much of a file isBinary reads, as Backstage's
// fetch:template (the isbinaryfile package) does: 512 bytes and up to 3
// more to finish a UTF-8 sequence.
const binarySniffBytes = 512

// isBinary reports whether a skeleton file is binary, and so copied as it is
// rather than rendered: the heuristic of isbinaryfile, which Backstage's
// fetch:template uses (a byte-order mark means text; "%PDF-", a NUL byte or
// more than 10% of bytes that are neither printable ASCII, the controls 7 to
// 14, nor part of a valid UTF-8 sequence mean binary). Its protocol-buffer
// guess is left out.
func isBinary(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	total := min(len(b), binarySniffBytes+3)
	scan := min(total, binarySniffBytes)
	for _, bom := range [][]byte{{0xef, 0xbb, 0xbf}, {0, 0, 0xfe, 0xff}, {0xff, 0xfe, 0, 0}, {0x84, 0x31, 0x95, 0x33}} {
		if bytes.HasPrefix(b, bom) {
			return false
		}
	}
	if total >= 5 && string(b[:5]) == "%PDF-" {
		return true
	}
	if bytes.HasPrefix(b, []byte{0xfe, 0xff}) || bytes.HasPrefix(b, []byte{0xff, 0xfe}) {
		return false
	}
	cont := func(i int) bool { return i < len(b) && b[i] >= 0x80 && b[i] <= 0xbf }
	suspicious := 0
	for i := 0; i < scan; i++ {
		c := b[i]
		if c == 0 {
			return true
		}
		if (c >= 7 && c <= 14) || (c >= 32 && c <= 127) {
			continue
		}
		switch {
		case c >= 0xc0 && c <= 0xdf && i+1 < total:
			i++
			if cont(i) {
				continue
			}
		case c >= 0xe0 && c <= 0xef && i+2 < total:
			i++
			if cont(i) && cont(i+1) {
				i++
				continue
			}
		case c >= 0xf0 && c <= 0xf7 && i+3 < total:
			i++
			if cont(i) && cont(i+1) && cont(i+2) {
				i += 2
				continue
			}
		}
		suspicious++
		if i >= 32 && float64(suspicious*100)/float64(scan) > 10 {
			return true
		}
	}
	return float64(suspicious*100)/float64(scan) > 10
}
