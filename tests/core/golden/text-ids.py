#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Independent Python implementation of mmdnn's subtitle-text encoder.

It follows the rules documented in mmdnn-core/include/mmdnn/text.h, written
from that description (not from text.c), and prints the expected dumps that
tests/core/test-text.c checks (the block between "BEGIN text-ids.py" and
"END text-ids.py" there is pasted from `text-ids.py --c`).

Only the standard library is used.  Two data notes, so that this file matches
GLib bit for bit:

* Casefolding: GLib's g_utf8_casefold () is CaseFolding.txt where that table
  has an entry and g_unichar_tolower () otherwise.  The only place where that
  differs from Python's str.casefold () is uppercase Cherokee U+13A0..U+13F5
  (GLib lowers them, CaseFolding.txt maps lowercase Cherokee *up*).  casefold()
  below special-cases exactly that range; with it, NFKC + casefold agree with
  GLib 2.74 on every code point assigned in Python's Unicode database (checked
  exhaustively through ctypes once; that check is not part of this script).
* Scripts: Python has no script property.  CJK_RANGES are the Han, Hiragana,
  Katakana and Hangul ranges of Unicode 15.0 Scripts.txt (what GLib 2.74's
  g_unichar_get_script () returns); cross-checked against perl 5.36's
  \\p{Script=...} (Unicode 14), which differs only by the 15.0 additions.

Characters assigned after Python's Unicode version (14.0 for Python 3.11) have
category "Cn" here but a real category in GLib (15.0): do not use them in
expected values.

Usage:  text-ids.py          print every case as "token<TAB>ids" lines
        text-ids.py --c      print the C table pasted into test-text.c
        text-ids.py --check tests/core/test-text.c   exit 1 if that table is stale
        text-ids.py [--buckets B --max-tokens T --max-ids I] --text STRING
"""

import sys
import unicodedata

# ---------------------------------------------------------------- markup

NAMED_ENTITIES = {b"amp": "&", b"lt": "<", b"gt": ">", b"quot": '"', b"apos": "'"}
ASCII_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
DIGITS = b"0123456789"
HEXDIGITS = b"0123456789abcdefABCDEF"


def match_tag(b, i):
    """End (exclusive) of a tag starting with '<' at i, or -1."""
    n = len(b)
    if i + 1 >= n:
        return -1
    c = b[i + 1]
    if c in ASCII_LETTERS or c == ord("/"):
        j = i + 1
        quote = 0
        while j < n:
            ch = b[j]
            if quote:
                if ch == quote:
                    quote = 0
            elif ch == ord('"') or ch == ord("'"):
                quote = ch
            elif ch == ord(">"):
                return j + 1
            j += 1
        return -1
    if c in DIGITS:
        j = i + 1
        colon = False
        while j < n and (b[j] in DIGITS or b[j] in b":."):
            colon = colon or b[j] == ord(":")
            j += 1
        if j < n and b[j] == ord(">") and colon:
            return j + 1
    return -1


def is_br(b, i):
    """<br>, <br/>, <br />, any case."""
    if len(b) < i + 4 or b[i + 1:i + 3].lower() != b"br":
        return False
    return b[i + 3] in b">/ \t\n\r\f"


def match_entity(b, i):
    """(decoded str, end) for an entity starting with '&' at i, or None."""
    n = len(b)
    for name, val in NAMED_ENTITIES.items():
        if b.startswith(b"&" + name + b";", i):
            return val, i + len(name) + 2
    if i + 1 >= n or b[i + 1] != ord("#"):
        return None
    if i + 2 < n and b[i + 2] in b"xX":
        j, allowed, maxd, base = i + 3, HEXDIGITS, 6, 16
    else:
        j, allowed, maxd, base = i + 2, DIGITS, 7, 10
    k = j
    while k < n and b[k] in allowed:
        k += 1
    if k - j < 1 or k - j > maxd or k >= n or b[k] != ord(";"):
        return None
    v = int(b[j:k].decode("ascii"), base)
    if v < 1 or v > 0x10FFFF or 0xD800 <= v <= 0xDFFF:
        return None
    return chr(v), k + 1


def strip_markup(b):
    out = bytearray()
    i, n = 0, len(b)
    while i < n:
        c = b[i]
        if c == ord("<"):
            j = match_tag(b, i)
            if j >= 0:
                if is_br(b, i):
                    out += b" "
                i = j
                continue
        elif c == ord("{") and i + 1 < n and b[i + 1] == ord("\\"):
            k = b.find(b"}", i + 2)
            if k >= 0:
                i = k + 1
                continue
        elif c == ord("\\") and i + 1 < n and b[i + 1] in b"Nnh":
            out += b" "
            i += 2
            continue
        elif c == ord("&"):
            r = match_entity(b, i)
            if r is not None:
                out += r[0].encode("utf-8")
                i = r[1]
                continue
        out.append(c)
        i += 1
    return bytes(out)


def casefold(s):
    return "".join(c.lower() if 0x13A0 <= ord(c) <= 0x13F5 else c.casefold()
                   for c in s)


def normalize(b):
    """bytes (UTF-8) -> str; raises ValueError at the first invalid byte."""
    bad = b.find(b"\0")                # a NUL byte counts as invalid
    try:
        b.decode("utf-8")
    except UnicodeDecodeError as e:
        bad = e.start if bad < 0 else min(bad, e.start)
    if bad >= 0:
        raise ValueError("invalid UTF-8 at byte offset %d" % bad)
    s = strip_markup(b).decode("utf-8")
    return casefold(unicodedata.normalize("NFKC", s))


# ---------------------------------------------------------------- tokens

CJK_RANGES = [
    # Han
    (0x2E80, 0x2E99), (0x2E9B, 0x2EF3), (0x2F00, 0x2FD5), (0x3005, 0x3005),
    (0x3007, 0x3007), (0x3021, 0x3029), (0x3038, 0x303B), (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF), (0xF900, 0xFA6D), (0xFA70, 0xFAD9), (0x16FE2, 0x16FE3),
    (0x16FF0, 0x16FF1), (0x20000, 0x2A6DF), (0x2A700, 0x2B739),
    (0x2B740, 0x2B81D), (0x2B820, 0x2CEA1), (0x2CEB0, 0x2EBE0),
    (0x2F800, 0x2FA1D), (0x30000, 0x3134A), (0x31350, 0x323AF),
    # Hiragana
    (0x3041, 0x3096), (0x309D, 0x309F), (0x1B001, 0x1B11F), (0x1B132, 0x1B132),
    (0x1B150, 0x1B152), (0x1F200, 0x1F200),
    # Katakana
    (0x30A1, 0x30FA), (0x30FD, 0x30FF), (0x31F0, 0x31FF), (0x32D0, 0x32FE),
    (0x3300, 0x3357), (0xFF66, 0xFF6F), (0xFF71, 0xFF9D), (0x1AFF0, 0x1AFF3),
    (0x1AFF5, 0x1AFFB), (0x1AFFD, 0x1AFFE), (0x1B000, 0x1B000),
    (0x1B120, 0x1B122), (0x1B155, 0x1B155), (0x1B164, 0x1B167),
    # Hangul
    (0x1100, 0x11FF), (0x302E, 0x302F), (0x3131, 0x318E), (0x3200, 0x321E),
    (0x3260, 0x327E), (0xA960, 0xA97C), (0xAC00, 0xD7A3), (0xD7B0, 0xD7C6),
    (0xD7CB, 0xD7FB), (0xFFA0, 0xFFBE), (0xFFC2, 0xFFC7), (0xFFCA, 0xFFCF),
    (0xFFD2, 0xFFD7), (0xFFDA, 0xFFDC),
]

IGNORED = {0x00AD, 0x200C, 0x200D, 0x2060, 0xFEFF}


def is_ignored(c):
    o = ord(c)
    return o in IGNORED or 0xFE00 <= o <= 0xFE0F or 0xE0100 <= o <= 0xE01EF


def is_cjk(c):
    o = ord(c)
    if o == 0x30FC:
        return True
    return any(a <= o <= b for a, b in CJK_RANGES)


def is_alnum(c):
    return not is_cjk(c) and unicodedata.category(c)[0] in "LN"


def is_mark(c):
    return not is_cjk(c) and unicodedata.category(c)[0] == "M"


def is_symbol(c):
    return not is_cjk(c) and unicodedata.category(c) == "So"


def tokens(s, max_tokens):
    """[(kind, text)] with kind 'w' word, 'c' CJK char/bigram, 's' symbol."""
    cp = [c for c in s if not is_ignored(c)]
    n = len(cp)
    out = []
    i = 0

    def emit(kind, a, b):
        if len(out) < max_tokens:
            out.append((kind, "".join(cp[a:b])))

    while i < n and len(out) < max_tokens:
        c = cp[i]
        if is_cjk(c):
            prev = -1
            j = i
            while j < n and is_cjk(cp[j]):
                start = j
                j += 1
                while j < n and is_mark(cp[j]):
                    j += 1
                if prev >= 0:
                    emit("c", prev, j)
                emit("c", start, j)
                prev = start
            i = j
        elif is_alnum(c):
            j = i + 1
            while j < n:
                if is_alnum(cp[j]) or is_mark(cp[j]):
                    j += 1
                elif cp[j] in "'\u2019" and j + 1 < n and is_alnum(cp[j + 1]):
                    cp[j] = "'"
                    j += 1
                else:
                    break
            emit("w", i, j)
            i = j
        elif is_symbol(c):
            emit("s", i, i + 1)
            i += 1
        else:
            i += 1
    return out


# ---------------------------------------------------------------- hashing

def fnv1a32(data):
    h = 0x811C9DC5
    for byte in data:
        h ^= byte
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def token_ids(kind, tok, buckets, max_ids):
    ids = [fnv1a32(b"w:" + tok.encode("utf-8")) % buckets]
    if kind == "w" and len(tok) >= 2:
        marked = "<" + tok + ">"
        for k in range(len(tok)):
            if len(ids) >= max_ids:
                break
            ids.append(fnv1a32(b"g:" + marked[k:k + 3].encode("utf-8")) % buckets)
    return ids[:max_ids]


def encode(b, buckets=65536, max_tokens=32, max_ids=16):
    toks = tokens(normalize(b), max_tokens)
    return [(t, token_ids(kind, t, buckets, max_ids)) for kind, t in toks]


def dump(b, **kw):
    return "".join("%s\t%s\n" % (t, " ".join(str(i) for i in ids))
                   for t, ids in encode(b, **kw))


# ---------------------------------------------------------------- cases

CASES = [
    # ("group/name", text bytes, buckets, max_tokens, max_ids); test-text.c
    # runs one test per group, /text/golden/<group>
    ("ascii/ascii", "Hello, world!".encode(), 65536, 32, 16),
    ("accented/accented", "Café crème".encode(), 65536, 32, 16),
    ("accented/accented-nfd", unicodedata.normalize("NFD", "Café crème").encode(), 65536, 32, 16),
    ("cjk/cjk", "你好世界".encode(), 65536, 32, 16),
    ("emoji/emoji", "I ❤ cats 🐱".encode(), 65536, 32, 16),
    ("emoji/emoji-vs16", "I ❤\ufe0f cats 🐱".encode(), 65536, 32, 16),
    ("markup/srt", "<i>Hello</i> <b>there</b>,\n<font color=\"#ff0000\">friend</font>".encode(), 65536, 32, 16),
    ("markup/ass", "{\\an8}{\\i1}Hello{\\i0}\\NWorld\\hagain".encode(), 65536, 32, 16),
    ("markup/webvtt", "<v Roger Bingham>Hi <c.yellow>there</c> <00:00:01.000>now<01:02.500>!".encode(), 65536, 32, 16),
    ("markup/pango", "<span foreground=\"red\">Red</span> &amp; &lt;b&gt;blue&quot; &#65;&#x62;c".encode(), 65536, 32, 16),
    ("nfkc/fullwidth", "ＡＢＣ".encode(), 65536, 32, 16),
    ("nfkc/fullwidth-ascii", "abc".encode(), 65536, 32, 16),
    ("cjk/katakana", "ラーメン、ﾗｰﾒﾝ!".encode(), 65536, 32, 16),
    ("words/apostrophe", "Don’t stop rock'n'roll 'til dawn' ok'♪ ok'你 ok'\u0301".encode(), 65536, 32, 16),
    ("words/long-word", "Supercalifragilistic".encode(), 65536, 32, 16),
    ("nfkc/mixed", "Straße 2024年は<br/>ＯＫ ①".encode(), 1000, 32, 4),
    ("truncation/truncate", "one two three four five".encode(), 1000, 3, 2),
    ("truncation/truncate-cjk", "你好世界".encode(), 97, 4, 1),
    ("markup/not-markup", "a < b > c &nbsp; x<3 &#xD800; &#0; {no} \\q".encode(), 65536, 32, 16),
    ("cjk/hangul", "안녕하세요".encode(), 65536, 32, 16),
    ("markup/markup-edge", ("<font color=\"a>b\">x</font> <b unclosed &#233;t&#xE9; "
                     "&#00000065; &AMP; {\\an8 open").encode(), 65536, 32, 16),
    ("words/marks-ignorables", "\u0301abc ♪\u0301 x\u0301y ex\u00adam\u200bple 👨\u200d👩\u200d👧 wo\u2060rd bo\ufeffm".encode(),
     65536, 32, 16),
    ("emoji/symbols", "$5 + 3 = 8 ♪♫ ©".encode(), 65536, 32, 16),
    ("empty/empty", b"", 65536, 32, 16),
    ("markup/markup-only", "<i></i>{\\an8}&amp;".encode(), 65536, 32, 16),
]


def c_string(b):
    """C string literal of UTF-8 bytes: visible letters, digits, symbols and
    punctuation stay as they are (readable), anything else (marks, variation
    selectors, controls) as octal escapes, which never swallow a following
    digit the way \\x escapes do."""
    out = '"'
    for ch in b.decode("utf-8"):
        if ch in '"\\':
            out += "\\" + ch
        elif ch == "\t":
            out += "\\t"
        elif ch == "\n":
            out += "\\n"
        elif " " <= ch < "\x7f" or (ord(ch) >= 0x80 and
                                    unicodedata.category(ch)[0] in "LNPS"):
            out += ch
        else:
            out += "".join("\\%03o" % x for x in ch.encode("utf-8"))
    return out + '"'


def main(argv):
    if "--text" in argv:
        def opt(name, default):
            return int(argv[argv.index(name) + 1]) if name in argv else default
        b = argv[argv.index("--text") + 1].encode("utf-8")
        sys.stdout.write(dump(b, buckets=opt("--buckets", 65536),
                              max_tokens=opt("--max-tokens", 32),
                              max_ids=opt("--max-ids", 16)))
        return 0
    if "--check" in argv:
        # is the table pasted into test-text.c up to date?
        import contextlib
        import io
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            main(["--c"])
        src = open(argv[argv.index("--check") + 1], encoding="utf-8").read()
        if buf.getvalue() not in src:
            print("text-ids.py: the table in %s is stale; paste `text-ids.py --c`"
                  % argv[argv.index("--check") + 1], file=sys.stderr)
            return 1
        print("up to date")
        return 0
    if "--c" in argv:
        print("/* BEGIN text-ids.py --c (generated; do not edit by hand) */")
        print("static const TextCase text_cases[] = {")
        for name, b, buckets, mt, mi in CASES:
            d = dump(b, buckets=buckets, max_tokens=mt, max_ids=mi)
            print("  { %s, %s, %d, %d, %d," % (c_string(name.encode()), c_string(b),
                                             buckets, mt, mi))
            print("    %s," % c_string(normalize(b).encode("utf-8")))
            if d:
                lines = d.splitlines(keepends=True)
                for k, line in enumerate(lines):
                    print("    %s%s" % (c_string(line.encode()),
                                        " }," if k == len(lines) - 1 else ""))
            else:
                print('    "" },')
        print("};")
        print("/* END text-ids.py */")
        return 0
    for name, b, buckets, mt, mi in CASES:
        print("== %s (buckets %d, max_tokens %d, max_ids %d)" % (name, buckets, mt, mi))
        print("   normalized: %r" % normalize(b))
        sys.stdout.write(dump(b, buckets=buckets, max_tokens=mt, max_ids=mi))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
