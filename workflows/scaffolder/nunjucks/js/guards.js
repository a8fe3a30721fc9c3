// Memory guards of the template runtime. nunjitsu bounds a render's output,
// work and the values handed to filters, but not the strings built on the
// way: a chain of replace, join or concatenation that multiplies its text
// would build gigabytes before the output limit is checked. These guards
// refuse, before building it, any string longer than MAX_STRING code units
// (Backlot's MaxStringLength, which is MaxRenderedLength). build.mjs also wraps
// nunjitsu's + and ~ operators with checkLength.
export const MAX_STRING = 2 * 1024 * 1024;

export function limitError(n) {
  return new RangeError(`a string of ${n} code units would pass the limit of ${MAX_STRING} (MaxStringLength)`);
}

export function checkLength(v) {
  if (typeof v === 'string' && v.length > MAX_STRING) throw limitError(v.length);
  return v;
}

function guard(n) {
  if (n > MAX_STRING) throw limitError(n);
}

const join = Array.prototype.join;
Object.defineProperty(Array.prototype, 'join', {
  configurable: true,
  writable: true,
  value: function (sep) {
    const s = sep === undefined ? ',' : String(sep);
    let n = this.length > 0 ? (this.length - 1) * s.length : 0;
    guard(n);
    for (let i = 0; i < this.length; i++) {
      const e = this[i];
      if (typeof e === 'string') n += e.length;
      else if (e !== null && e !== undefined) n += 24;
      guard(n);
    }
    return join.call(this, sep);
  },
});

const repeat = String.prototype.repeat;
const padStart = String.prototype.padStart;
const padEnd = String.prototype.padEnd;
const replace = String.prototype.replace;
const replaceAll = String.prototype.replaceAll;
const match = String.prototype.match;

function def(name, fn) {
  Object.defineProperty(String.prototype, name, { configurable: true, writable: true, value: fn });
}
def('repeat', function (count) {
  guard(String(this).length * Number(count));
  return repeat.call(this, count);
});
def('padStart', function (len, fill) {
  guard(Number(len));
  return padStart.call(this, len, fill);
});
def('padEnd', function (len, fill) {
  guard(Number(len));
  return padEnd.call(this, len, fill);
});

// replacedBound is an upper bound of the length of s with each match of
// pattern replaced by a string replacement (whose $& and $n patterns can
// each insert at most all of s once per match).
function replacedBound(s, pattern, replacement, all) {
  if (typeof replacement !== 'string') return 0;
  let count;
  if (pattern instanceof RegExp) {
    if (!pattern.global && !all) count = 1;
    else {
      const m = match.call(s, new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : pattern.flags + 'g'));
      count = m ? m.length : 0;
    }
  } else {
    const needle = String(pattern);
    if (!all) count = 1;
    else if (needle === '') count = s.length + 1;
    else if (typeof __backlotCount === 'function') count = __backlotCount(s, needle);
    else count = s.split(needle).length - 1;
  }
  const dollars = replacement.split('$').length - 1;
  return s.length + count * replacement.length + Math.min(count, dollars) * s.length;
}
def('replace', function (pattern, replacement) {
  const s = String(this);
  guard(replacedBound(s, pattern, replacement, false));
  return replace.call(s, pattern, replacement);
});
def('replaceAll', function (pattern, replacement) {
  const s = String(this);
  guard(replacedBound(s, pattern, replacement, true));
  return replaceAll.call(s, pattern, replacement);
});
