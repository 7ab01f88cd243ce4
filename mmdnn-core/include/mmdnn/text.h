/* mmdnn — subtitle text → hashed token ids.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <mmdnn/error.h>

G_BEGIN_DECLS

/*
 * A subtitle cue becomes a (max_tokens, max_ids_per_token) grid of int32 ids
 * in [0, buckets), padded with −1, ready for mmdnn_embedding_bag_forward ().
 * There is no vocabulary: words and their character 3-grams are hashed
 * (fastText style), so unseen words still share sub-word ids with seen ones.
 *
 * These rules are a file format: a model trained offline (by this code or by
 * the Python mirror tests/core/golden/text-ids.py) only works live if both
 * sides produce the same ids bit for bit. Change nothing here without
 * retraining. Five steps, in this order:
 *
 * 1. VALIDATE.  The input is @len bytes of UTF-8 (@len −1: up to the NUL).
 *    Invalid UTF-8 — overlong forms, surrogates, > U+10FFFF, truncated or
 *    stray continuation bytes, and (with an explicit @len) NUL bytes — fails
 *    with MMDNN_ERROR_DATA naming the byte offset of the first bad sequence.
 *    Nothing is read past @len.  "é" given with len 1 is a truncated sequence
 *    at offset 0.
 *
 * 2. STRIP MARKUP.  One left-to-right pass over the bytes; what is decoded
 *    is never re-scanned.  At each position the first rule that matches wins;
 *    anything else is copied as is.  All delimiters are ASCII, so multi-byte
 *    characters are never split.
 *    a. Tag: '<' followed by an ASCII letter or '/' starts an SRT/HTML/pango
 *       or WebVTT class/voice tag; it ends at the first '>' that is not
 *       inside a "…" or '…' quoted attribute value.  The whole tag is
 *       removed (replaced by nothing), except <br>, <br/>, <br /> (the two
 *       bytes after '<' are "br" in any case, then one of > / space \t \n \r
 *       \f) which become one space.  With no closing '>' before the end,
 *       the '<' is plain text.
 *         "<i>Hel</i>lo"                       → "Hello"
 *         "<font color=\"a>b\">x</font>"       → "x"
 *         "<v Roger Bingham>Hi <c.yellow>yo</c>" → "Hi yo"
 *         "Line<br/>two"                      → "Line two"
 *    b. WebVTT timestamp: '<', a digit, more of [0-9:.] with at least one
 *       ':' in all, then '>': removed.  "<00:00:01.000>now" → "now";
 *       "x<3 y>" and "<3>" stay text.
 *    c. ASS override block: "{\" up to the first '}' is removed; without a
 *       '}' the '{' is text.  "{\an8}{\i1}Hi{\i0}" → "Hi";  "{no}" stays.
 *    d. ASS escapes: the two bytes "\N", "\n" (line breaks) and "\h" (hard
 *       space) each become one space.  Other backslashes are text.
 *         "Hello\NWorld" → "Hello World"
 *    e. Entities (case-sensitive, ';' required): &amp; &lt; &gt; &quot;
 *       &apos; → & < > " ';  &#D; with 1–7 decimal digits or &#xH; / &#XH;
 *       with 1–6 hex digits → that code point, if it is in [1, 0x10FFFF] and
 *       not a surrogate.  Anything else ("&nbsp;", "&#0;", "&#xD800;",
 *       "& ") stays text.  "&lt;i&gt;" → "<i>" (not re-read as a tag).
 *
 * 3. NORMALISE.  g_utf8_normalize (G_NORMALIZE_NFKC), then g_utf8_casefold ()
 *    (full case folding, e.g. "ß" → "ss"), in that order, nothing after.
 *    "ＡＢＣ" → "abc", "①" → "1", "ﾗｰﾒﾝ" → "ラーメン", NFD "Cafe\u0301" → "café".
 *    Steps 1–3 are mmdnn_text_normalize ().  (Python: NFKC, then
 *    str.casefold () except str.lower () for U+13A0–U+13F5, where GLib's
 *    folding differs from CaseFolding.txt.)
 *
 * 4. SPLIT into tokens, over code points ("characters" below are always code
 *    points, never bytes or grapheme clusters):
 *    - Ignored (deleted from the step-3 text first, so they never split a
 *      word):
 *      U+00AD soft hyphen, U+200C ZWNJ, U+200D ZWJ, U+2060 word joiner,
 *      U+FEFF, variation selectors U+FE00–FE0F and U+E0100–E01EF.
 *    - Classes, checked in this order:
 *        CJK:    g_unichar_get_script () is Han, Hiragana, Katakana or Hangul,
 *                or the character is U+30FC "ー" (script Common, but it lives
 *                inside kana words);
 *        alnum:  general category L* or N* (g_unichar_isalnum ());
 *        mark:   category Mn, Mc or Me;
 *        symbol: category So (emoji, ❤, ♪, ...);
 *        other:  everything else (spaces, punctuation, Sm/Sc/Sk, controls)
 *                — a separator, dropped.
 *    - Word: an alnum character followed by the longest run of alnum and
 *      mark characters.  An apostrophe (U+0027 or U+2019) directly after a
 *      word character and directly before an alnum character stays in the
 *      word, written as U+0027.  "Don’t" → don't, "rock'n'roll" → one token,
 *      "'til dawn'" → til, dawn; "well-known" → well, known.
 *    - CJK run: a maximal sequence of CJK units, a unit being one CJK
 *      character plus the marks right after it.  Units u1…uk give, in this
 *      order, u1, u1u2, u2, u2u3, u3, …, u(k−1)uk, uk (each unit, and after
 *      every unit but the first the bigram ending with it).  A single unit
 *      gives itself only.  "你好世界" → 你 你好 好 好世 世 世界 界.
 *    - Symbol: each symbol character is a token of its own; marks right after
 *      it are dropped.  "🐱🐱" → 🐱 🐱;  👨 U+200D 👩 (a ZWJ sequence)
 *      → 👨 👩;  skin-tone modifiers (Sk) are separators.
 *    - A mark not following a word or a CJK unit is dropped.
 *    Tokens come in text order; after max_tokens the rest is dropped (the
 *    first ones are kept; a CJK run may be cut anywhere in its sequence).
 *      "I ❤ cats 🐱" → i ❤ cats 🐱      "2024年は" → 2024 年 年は は
 *
 * 5. HASH.  fnv1a (s) is 32-bit FNV-1a over the bytes of s: h = 0x811C9DC5;
 *    for each byte: h ^= byte; h *= 0x01000193 (mod 2³²).  Ids of a token t
 *    with UTF-8 bytes T and n characters, in this order:
 *      id 0:          fnv1a ("w:" T) % buckets       (every token)
 *      ids 1, 2, …:   fnv1a ("g:" G_k) % buckets, k = 0 … n−1, G_k being the
 *                     3 characters at k of "<" t ">" — only for words (not CJK
 *                     or symbol tokens) with n ≥ 2
 *    cut to max_ids_per_token ids (the first kept), the rest of the row −1.
 *    Worked example, "cat", buckets 65536:
 *      0x811C9DC5 ^ 'w' (0x77) = 0x811C9DB2, × 0x01000193 = 0xF20C3F36;
 *      ^ ':' (0x3A) = 0xF20C3F0C, × 0x01000193 = 0x15473FE4; and so on over
 *      'c' 'a' 't': fnv1a ("w:cat") = 0x997FEA48 = 2575297096,
 *      % 65536 = 59976.  3-grams of "<cat>":
 *      fnv1a ("g:<ca") = 0xD3980680 → 1664,  fnv1a ("g:cat") = 0x1F051158
 *      → 4440,  fnv1a ("g:at>") = 0x01F6664D → 26189.
 *      Row: 59976 1664 4440 26189 −1 −1 … (16 columns by default).
 *    "cats" → 47841 1664 4440 46742 21909 ("<ca" and "cat" shared with
 *    "cat"); "a" → 65119 only (one character: no 3-grams);
 *    "你好" (CJK bigram token) → 27302 only.
 *
 * End to end, default config:
 *   "{\an8}<i>Don’t</i>\Ngo!" → normalize: "don’t go!"
 *     don't  27866 36225 17753 23278 7373 63643
 *     go     43106 43494 52260
 *
 * No global state: every function here is reentrant.
 */

#define MMDNN_TEXT_MAX_SIZE 4096   /* bound of max_tokens and max_ids_per_token */

typedef struct {
  int64_t buckets;             /* ids are in [0, buckets) = embedding rows  */
  int64_t max_tokens;          /* rows of the id grid                       */
  int64_t max_ids_per_token;   /* columns: word id + up to (this−1) 3-grams */
} MmdnnTextConfig;

/* Defaults: buckets 65536, max_tokens 32, max_ids_per_token 16. */
MMDNN_API void mmdnn_text_config_init (MmdnnTextConfig *c);

/* buckets in [1, 2³¹−1] (ids are int32), max_tokens and max_ids_per_token in
 * [1, MMDNN_TEXT_MAX_SIZE]; else MMDNN_ERROR_INVALID_ARGUMENT naming the
 * field and value. */
MMDNN_API gboolean mmdnn_text_config_check (const MmdnnTextConfig *c,
                                            GError **error);

/* Steps 1–3: markup stripped, NFKC, casefolded. @len −1 means NUL-terminated.
 * Whitespace is kept as it is (tokenizing ignores it).
 * Returns: (transfer full) (nullable): g_free () it; NULL with @error set on
 * NULL @text, @len < −1 (INVALID_ARGUMENT) or invalid UTF-8 (DATA). */
MMDNN_API char *mmdnn_text_normalize (const char *text, gssize len,
                                      GError **error);

/* Steps 1–5 on one cue.
 *   ids: (max_tokens, max_ids_per_token) int32, all of it written: token i's
 *        ids in row i (id 0 the word, then its 3-grams), −1 padding, rows
 *        after the last token all −1.
 *   n_tokens: (out) (optional): rows holding a token; 0 for an empty or
 *        markup-only cue, which is not an error.
 * On error (bad config, NULL @c/@text/@ids, @len < −1: INVALID_ARGUMENT;
 * invalid UTF-8: DATA with the byte offset) @ids and @n_tokens are untouched. */
MMDNN_API gboolean mmdnn_text_tokenize (const MmdnnTextConfig *c,
                                        const char *text, gssize len,
                                        int32_t *ids, int64_t *n_tokens,
                                        GError **error);

/* What the encoder sees, for users: one line per token, "token<TAB>id id …\n"
 * (ids without the −1 padding), tokens as in mmdnn_text_tokenize ().
 * An empty cue gives "".
 * Returns: (transfer full) (nullable): g_free () it; NULL with @error set on
 * the errors of mmdnn_text_tokenize (). */
MMDNN_API char *mmdnn_text_dump (const MmdnnTextConfig *c, const char *text,
                                 gssize len, GError **error);

G_END_DECLS
