// Buffer, as far as nunjitsu uses it (byteLength of a string, to count
// scratch bytes), for a runtime without Node: the UTF-8 length.
export const Buffer = {
  byteLength(s) {
    s = String(s);
    // The Go host gives a native count; the loop below serves elsewhere.
    if (typeof __backlotByteLength === 'function') return __backlotByteLength(s);
    let n = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) n += 1;
      else if (c < 0x800) n += 2;
      else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        n += 4;
        i++;
      } else n += 3;
    }
    return n;
  },
};
