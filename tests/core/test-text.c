/* Subtitle text → hashed token ids.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Expected ids come from tests/core/golden/text-ids.py, an independent Python
 * implementation of the rules in text.h (stdlib unicodedata for NFKC and
 * casefolding). Python's str.casefold () and g_utf8_casefold () only differ on
 * uppercase Cherokee (the script special-cases it) and Unicode 15 additions
 * (Python 3.11 has Unicode 14): no test string uses those. */
#include <stdint.h>
#include <string.h>
#include <mmdnn/text.h>

typedef struct {
  const char *name, *text;
  int64_t buckets, max_tokens, max_ids;
  const char *normalized;       /* mmdnn_text_normalize ()                 */
  const char *dump;             /* mmdnn_text_dump (): "token\tid id ...\n" */
} TextCase;

/* Regenerate with: /usr/bin/python3 tests/core/golden/text-ids.py --c */
/* BEGIN text-ids.py --c (generated; do not edit by hand) */
static const TextCase text_cases[] = {
  { "ascii/ascii", "Hello, world!", 65536, 32, 16,
    "hello, world!",
    "hello\t31924 64431 40989 48579 52345 1985\n"
    "world\t11296 14806 34480 3199 20986 53390\n" },
  { "accented/accented", "Café crème", 65536, 32, 16,
    "café crème",
    "café\t62634 1664 11694 32931 45700\n"
    "crème\t49060 9321 50478 64116 3553 50220\n" },
  { "accented/accented-nfd", "Cafe\314\201 cre\314\200me", 65536, 32, 16,
    "café crème",
    "café\t62634 1664 11694 32931 45700\n"
    "crème\t49060 9321 50478 64116 3553 50220\n" },
  { "cjk/cjk", "你好世界", 65536, 32, 16,
    "你好世界",
    "你\t15717\n"
    "你好\t27302\n"
    "好\t55725\n"
    "好世\t24109\n"
    "世\t51610\n"
    "世界\t19566\n"
    "界\t62168\n" },
  { "emoji/emoji", "I ❤ cats 🐱", 65536, 32, 16,
    "i ❤ cats 🐱",
    "i\t2807\n"
    "❤\t65243\n"
    "cats\t47841 1664 4440 46742 21909\n"
    "🐱\t31790\n" },
  { "emoji/emoji-vs16", "I ❤\357\270\217 cats 🐱", 65536, 32, 16,
    "i ❤\357\270\217 cats 🐱",
    "i\t2807\n"
    "❤\t65243\n"
    "cats\t47841 1664 4440 46742 21909\n"
    "🐱\t31790\n" },
  { "markup/srt", "<i>Hello</i> <b>there</b>,\n<font color=\"#ff0000\">friend</font>", 65536, 32, 16,
    "hello there,\nfriend",
    "hello\t31924 64431 40989 48579 52345 1985\n"
    "there\t40686 19780 1255 41795 37810 32337\n"
    "friend\t24796 35128 59935 17900 46232 14921 4864\n" },
  { "markup/ass", "{\\an8}{\\i1}Hello{\\i0}\\NWorld\\hagain", 65536, 32, 16,
    "hello world again",
    "hello\t31924 64431 40989 48579 52345 1985\n"
    "world\t11296 14806 34480 3199 20986 53390\n"
    "again\t50904 56916 34715 35043 1460 32463\n" },
  { "markup/webvtt", "<v Roger Bingham>Hi <c.yellow>there</c> <00:00:01.000>now<01:02.500>!", 65536, 32, 16,
    "hi there now!",
    "hi\t16247 507 12283\n"
    "there\t40686 19780 1255 41795 37810 32337\n"
    "now\t58140 58263 42604 17972\n" },
  { "markup/pango", "<span foreground=\"red\">Red</span> &amp; &lt;b&gt;blue&quot; &#65;&#x62;c", 65536, 32, 16,
    "red & <b>blue\" abc",
    "red\t64371 4257 60547 33985\n"
    "b\t65522\n"
    "blue\t11688 57222 28973 11206 30004\n"
    "abc\t60268 55707 18972 29719\n" },
  { "nfkc/fullwidth", "ＡＢＣ", 65536, 32, 16,
    "abc",
    "abc\t60268 55707 18972 29719\n" },
  { "nfkc/fullwidth-ascii", "abc", 65536, 32, 16,
    "abc",
    "abc\t60268 55707 18972 29719\n" },
  { "cjk/katakana", "ラーメン、ﾗｰﾒﾝ!", 65536, 32, 16,
    "ラーメン、ラーメン!",
    "ラ\t7489\n"
    "ラー\t32345\n"
    "ー\t2250\n"
    "ーメ\t54715\n"
    "メ\t4265\n"
    "メン\t19996\n"
    "ン\t62547\n"
    "ラ\t7489\n"
    "ラー\t32345\n"
    "ー\t2250\n"
    "ーメ\t54715\n"
    "メ\t4265\n"
    "メン\t19996\n"
    "ン\t62547\n" },
  { "words/apostrophe", "Don’t stop rock'n'roll 'til dawn' ok'♪ ok'你 ok'\314\201", 65536, 32, 16,
    "don’t stop rock'n'roll 'til dawn' ok'♪ ok'你 ok'\314\201",
    "don't\t27866 36225 17753 23278 7373 63643\n"
    "stop\t6604 6175 4708 15543 32103\n"
    "rock'n'roll\t56070 227 52364 13143 39143 23440 46918 4955 64490 55185 15009 32598\n"
    "til\t31445 20183 3173 50557\n"
    "dawn\t20294 33807 48668 24562 16401\n"
    "ok\t10702 23258 12576\n"
    "♪\t38977\n"
    "ok\t10702 23258 12576\n"
    "你\t15717\n"
    "ok\t10702 23258 12576\n" },
  { "words/long-word", "Supercalifragilistic", 65536, 32, 16,
    "supercalifragilistic",
    "supercalifragilistic\t4995 5772 54624 54900 52731 35392 44550 7664 44816 42255 32627 63159 18314 31491 54148 14440\n" },
  { "nfkc/mixed", "Straße 2024年は<br/>ＯＫ ①", 1000, 32, 4,
    "strasse 2024年は ok 1",
    "strasse\t179 855 931 885\n"
    "2024\t768 290 636 42\n"
    "年\t190\n"
    "年は\t559\n"
    "は\t745\n"
    "ok\t382 986 16\n"
    "1\t943\n" },
  { "truncation/truncate", "one two three four five", 1000, 3, 2,
    "one two three four five",
    "one\t808 129\n"
    "two\t462 569\n"
    "three\t700 236\n" },
  { "truncation/truncate-cjk", "你好世界", 97, 4, 1,
    "你好世界",
    "你\t86\n"
    "你好\t31\n"
    "好\t34\n"
    "好世\t7\n" },
  { "markup/not-markup", "a < b > c &nbsp; x<3 &#xD800; &#0; {no} \\q", 65536, 32, 16,
    "a < b > c &nbsp; x<3 &#xd800; &#0; {no} \\q",
    "a\t65119\n"
    "b\t65522\n"
    "c\t389\n"
    "nbsp\t11919 53024 61493 41481 21955\n"
    "x\t8852\n"
    "3\t32629\n"
    "xd800\t22136 9548 65192 15736 22564 24958\n"
    "0\t31420\n"
    "no\t61827 58263 20439\n"
    "q\t6031\n" },
  { "cjk/hangul", "안녕하세요", 65536, 32, 16,
    "안녕하세요",
    "안\t28269\n"
    "안녕\t60224\n"
    "녕\t46439\n"
    "녕하\t35083\n"
    "하\t45222\n"
    "하세\t9218\n"
    "세\t46020\n"
    "세요\t38806\n"
    "요\t12854\n" },
  { "markup/markup-edge", "<font color=\"a>b\">x</font> <b unclosed &#233;t&#xE9; &#00000065; &AMP; {\\an8 open", 65536, 32, 16,
    "x <b unclosed été &#00000065; &amp; {\\an8 open",
    "x\t8852\n"
    "b\t65522\n"
    "unclosed\t3275 48699 15276 21249 61084 39714 25961 45836 33985\n"
    "été\t43680 2532 8304 48458\n"
    "00000065\t27929 55320 22540 22540 22540 22540 21734 62881 5941\n"
    "amp\t12210 54498 23554 26909\n"
    "an8\t36737 54095 48081 49748\n"
    "open\t39204 13183 62578 44671 36683\n" },
  { "words/marks-ignorables", "\314\201abc ♪\314\201 x\314\201y ex\302\255am\342\200\213ple 👨\342\200\215👩\342\200\215👧 wo\342\201\240rd bo\357\273\277m", 65536, 32, 16,
    "\314\201abc ♪\314\201 x\314\201y ex\302\255am\342\200\213ple 👨\342\200\215👩\342\200\215👧 wo\342\201\240rd bo\357\273\277m",
    "abc\t60268 55707 18972 29719\n"
    "♪\t38977\n"
    "x\314\201y\t6934 17311 294 35288\n"
    "exam\t32103 20717 35840 50102 50152\n"
    "ple\t45647 60412 17375 4683\n"
    "👨\t44880\n"
    "👩\t45283\n"
    "👧\t50925\n"
    "word\t10860 14806 34480 6423 15508\n"
    "bom\t57470 56819 16174 30670\n" },
  { "emoji/symbols", "$5 + 3 = 8 ♪♫ ©", 65536, 32, 16,
    "$5 + 3 = 8 ♪♫ ©",
    "5\t30211\n"
    "3\t32629\n"
    "8\t34644\n"
    "♪\t38977\n"
    "♫\t38574\n"
    "©\t31137\n" },
  { "empty/empty", "", 65536, 32, 16,
    "",
    "" },
  { "markup/markup-only", "<i></i>{\\an8}&amp;", 65536, 32, 16,
    "&",
    "" },
};
/* END text-ids.py */

#define SENTINEL 0x5A5A5A5A

static void
config_of (MmdnnTextConfig *c, const TextCase *tc)
{
  c->buckets = tc->buckets;
  c->max_tokens = tc->max_tokens;
  c->max_ids_per_token = tc->max_ids;
}

/* The ids a dump line lists, into @row (−1 padded to @max_ids). */
static void
parse_dump_line (const char *line, int32_t *row, int64_t max_ids)
{
  const char *tab = strchr (line, '\t');
  char **parts;
  int64_t k = 0;

  g_assert_nonnull (tab);
  parts = g_strsplit (tab + 1, " ", -1);
  for (; parts[k] != NULL; k++) {
    g_assert_cmpint (k, <, max_ids);
    row[k] = (int32_t) g_ascii_strtoll (parts[k], NULL, 10);
  }
  g_assert_cmpint (k, >=, 1);
  for (; k < max_ids; k++)
    row[k] = -1;
  g_strfreev (parts);
}

/* A golden case through the three entry points: normalize and dump
 * compared as strings, tokenize against the ids of the dump, −1 padded. */
static void
check_case (const TextCase *tc)
{
  MmdnnTextConfig c;
  GError *err = NULL;
  char *norm, *dump, **lines;
  int32_t *ids, *want;
  int64_t n_tokens = -7, n_lines;
  gsize len = strlen (tc->text);

  config_of (&c, tc);
  norm = mmdnn_text_normalize (tc->text, -1, &err);
  g_assert_no_error (err);
  g_assert_cmpstr (norm, ==, tc->normalized);
  g_free (norm);

  dump = mmdnn_text_dump (&c, tc->text, -1, &err);
  g_assert_no_error (err);
  g_assert_cmpstr (dump, ==, tc->dump);
  g_free (dump);

  lines = g_strsplit (tc->dump, "\n", -1);
  n_lines = g_strv_length (lines) - 1;          /* the dump ends with '\n' */
  if (tc->dump[0] == '\0')
    n_lines = 0;
  want = g_new (int32_t, c.max_tokens * c.max_ids_per_token);
  for (int64_t t = 0; t < c.max_tokens; t++) {
    int32_t *row = want + t * c.max_ids_per_token;
    if (t < n_lines) {
      parse_dump_line (lines[t], row, c.max_ids_per_token);
    } else {
      for (int64_t k = 0; k < c.max_ids_per_token; k++)
        row[k] = -1;
    }
  }
  ids = g_new (int32_t, c.max_tokens * c.max_ids_per_token);
  /* explicit length and NUL-terminated must agree */
  for (int pass = 0; pass < 2; pass++) {
    for (int64_t k = 0; k < c.max_tokens * c.max_ids_per_token; k++)
      ids[k] = SENTINEL;
    g_assert_true (mmdnn_text_tokenize (&c, tc->text, pass ? (gssize) len : -1,
                                        ids, &n_tokens, &err));
    g_assert_no_error (err);
    g_assert_cmpint (n_tokens, ==, n_lines);
    for (int64_t k = 0; k < c.max_tokens * c.max_ids_per_token; k++) {
      g_assert_cmpint (ids[k], ==, want[k]);
      g_assert_cmpint (ids[k], <, c.buckets);
    }
  }
  g_free (ids);
  g_free (want);
  g_strfreev (lines);
}

/* @data: a group name; runs the cases named "<group>/..." */
static void
test_golden (gconstpointer data)
{
  const char *group = data;
  gsize gl = strlen (group);
  int n = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (text_cases); i++) {
    if (strncmp (text_cases[i].name, group, gl) != 0
        || text_cases[i].name[gl] != '/')
      continue;
    g_test_message ("case %s", text_cases[i].name);
    check_case (&text_cases[i]);
    n++;
  }
  g_assert_cmpint (n, >, 0);
}

static void
assert_same_ids (const MmdnnTextConfig *c, const char *a, gssize alen,
                 const char *b, gssize blen)
{
  int64_t size = c->max_tokens * c->max_ids_per_token, na = -1, nb = -2;
  int32_t *ia = g_new (int32_t, size), *ib = g_new (int32_t, size);
  GError *err = NULL;

  g_assert_true (mmdnn_text_tokenize (c, a, alen, ia, &na, &err));
  g_assert_true (mmdnn_text_tokenize (c, b, blen, ib, &nb, &err));
  g_assert_no_error (err);
  g_assert_cmpint (na, ==, nb);
  g_assert_cmpmem (ia, size * sizeof (int32_t), ib, size * sizeof (int32_t));
  g_free (ia);
  g_free (ib);
}

static void
test_config_default (void)
{
  MmdnnTextConfig c;
  GError *err = NULL;

  mmdnn_text_config_init (&c);
  g_assert_cmpint (c.buckets, ==, 65536);
  g_assert_cmpint (c.max_tokens, ==, 32);
  g_assert_cmpint (c.max_ids_per_token, ==, 16);
  g_assert_true (mmdnn_text_config_check (&c, &err));
  g_assert_no_error (err);
  /* the bounds themselves are valid */
  c.buckets = G_MAXINT32;
  c.max_tokens = MMDNN_TEXT_MAX_SIZE;
  c.max_ids_per_token = 1;
  g_assert_true (mmdnn_text_config_check (&c, &err));
  c.buckets = 1;
  c.max_tokens = 1;
  c.max_ids_per_token = MMDNN_TEXT_MAX_SIZE;
  g_assert_true (mmdnn_text_config_check (&c, &err));
  g_assert_no_error (err);
}

/* Equivalent spellings of a cue give the same ids. */
static void
test_equivalent_forms (void)
{
  MmdnnTextConfig c;

  mmdnn_text_config_init (&c);
  assert_same_ids (&c, "Café crème", -1, "Cafe\xcc\x81 cre\xcc\x80me", -1);
  assert_same_ids (&c, "ＡＢＣ", -1, "abc", -1);
  assert_same_ids (&c, "ABC", -1, "abc", -1);
  assert_same_ids (&c, "Don’t", -1, "don't", -1);
  assert_same_ids (&c, "I ❤\xef\xb8\x8f cats", -1, "i ❤ cats", -1);
  assert_same_ids (&c, "<i>Hello</i>\\Nworld", -1, "hello world", -1);
  assert_same_ids (&c, "&#72;&#x65;llo", -1, "Hello", -1);
  assert_same_ids (&c, "STRASSE", -1, "Straße", -1);
}

/* Only @len bytes are read: a buffer without NUL, and a cut inside text. */
static void
test_explicit_len (void)
{
  static const char no_nul[5] = { 'H', 'e', 'l', 'l', 'o' };
  MmdnnTextConfig c;
  GError *err = NULL;
  char *norm;

  mmdnn_text_config_init (&c);
  assert_same_ids (&c, no_nul, 5, "hello", -1);
  assert_same_ids (&c, "hello world", 5, "hello", -1);
  assert_same_ids (&c, "你好世界", 6, "你好", -1);   /* cut on a boundary */
  /* with len −1 a NUL ends the cue, so what follows is never looked at */
  assert_same_ids (&c, "ok\0\xff", -1, "ok", -1);
  norm = mmdnn_text_normalize ("<i>Ab</i>cd", 9, &err);  /* "<i>Ab</i>" */
  g_assert_no_error (err);
  g_assert_cmpstr (norm, ==, "ab");
  g_free (norm);
  norm = mmdnn_text_normalize ("<i>Ab</i", 8, &err);    /* unclosed: text */
  g_assert_cmpstr (norm, ==, "ab</i");
  g_free (norm);
}

/* Ids stay within [0, buckets) at both ends of the range, n_tokens may be
 * NULL, and the grid is fully overwritten. */
static void
test_buckets_range (void)
{
  MmdnnTextConfig c = { 1, 4, 3 };
  int32_t ids[12];
  GError *err = NULL;
  static const int32_t one[12] = { 0, 0, 0, 0, -1, -1, -1, -1, -1, -1, -1, -1 };

  for (int k = 0; k < 12; k++)
    ids[k] = SENTINEL;
  /* "ab" → word + 2 grams = 3 ids, "c" → 1 id */
  g_assert_true (mmdnn_text_tokenize (&c, "ab c", -1, ids, NULL, &err));
  g_assert_no_error (err);
  g_assert_cmpint (ids[0], ==, 0);
  g_assert_cmpint (ids[1], ==, 0);
  g_assert_cmpint (ids[2], ==, 0);
  g_assert_cmpint (ids[3], ==, 0);
  g_assert_cmpmem (ids + 3, 9 * sizeof (int32_t), one + 3, 9 * sizeof (int32_t));

  /* fnv1a ("w:cat") = 0x997FEA48 (the worked example in text.h) */
  c.buckets = G_MAXINT32;
  c.max_tokens = 3;
  c.max_ids_per_token = 4;
  g_assert_true (mmdnn_text_tokenize (&c, "cat", -1, ids, NULL, &err));
  g_assert_cmpint (ids[0], ==, (int32_t) (0x997FEA48u % (guint32) G_MAXINT32));
  g_assert_cmpint (ids[1], ==, (int32_t) (0xD3980680u % (guint32) G_MAXINT32));
  g_assert_cmpint (ids[2], ==, 0x1F051158);
  g_assert_cmpint (ids[3], ==, 0x01F6664D);
  for (int k = 4; k < 12; k++)
    g_assert_cmpint (ids[k], ==, -1);
}

static void
test_normalize (void)
{
  static const struct {
    const char *in, *out;
  } cases[] = {
    { "ＡＢＣ", "abc" },
    { "Straße", "strasse" },
    { "{\\an8}<i>Don’t</i>\\Ngo!", "don’t go!" },
    { "Line<BR>two<br />three<br/>four<bra>five</br>", "line two three fourfive" },
    { "&lt;i&gt;x&lt;/i&gt;", "<i>x</i>" },     /* decoded, not re-read */
    { "&amp;lt;", "&lt;" },
    { "&#x1F431;&#128049;", "🐱🐱" },
    { "&#1234567;&#x110000;&#12345678;", "&#1234567;&#x110000;&#12345678;" },
    { "<00:00:01.000>a<0.5>b<1:2>", "a<0.5>b" },
    { "a\\hb\\nc\\Nd\\x", "a b c d\\x" },
    { "", "" },
  };
  GError *err = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    char *norm = mmdnn_text_normalize (cases[i].in, -1, &err);
    g_assert_no_error (err);
    g_assert_cmpstr (norm, ==, cases[i].out);
    g_free (norm);
  }
}

/* ---- negative tests ---------------------------------------------------- */

static void
small_config (MmdnnTextConfig *c)
{
  c->buckets = 97;
  c->max_tokens = 4;
  c->max_ids_per_token = 4;
}

/* tokenize fails with @code and a message containing @part, and writes
 * neither ids nor n_tokens */
static void
assert_tokenize_fails (const MmdnnTextConfig *c, const char *text, gssize len,
                       gint code, const char *part)
{
  int32_t ids[16];
  int64_t n_tokens = 12345;
  GError *err = NULL;

  for (int k = 0; k < 16; k++)
    ids[k] = SENTINEL;
  g_assert_false (mmdnn_text_tokenize (c, text, len, ids, &n_tokens, &err));
  g_assert_error (err, MMDNN_ERROR, code);
  if (part != NULL && strstr (err->message, part) == NULL)
    g_error ("message \"%s\" lacks \"%s\"", err->message, part);
  g_clear_error (&err);
  g_assert_cmpint (n_tokens, ==, 12345);
  for (int k = 0; k < 16; k++)
    g_assert_cmpint (ids[k], ==, SENTINEL);
}

/* All three entry points reject @text as invalid UTF-8 at @offset. */
static void
assert_invalid_utf8 (const char *text, gssize len, gsize offset)
{
  MmdnnTextConfig c;
  GError *err = NULL;
  char *part = g_strdup_printf ("byte offset %" G_GSIZE_FORMAT " ", offset);
  char *s;

  small_config (&c);
  assert_tokenize_fails (&c, text, len, MMDNN_ERROR_DATA, part);

  s = mmdnn_text_normalize (text, len, &err);
  g_assert_null (s);
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_DATA);
  g_assert_nonnull (strstr (err->message, part));
  g_clear_error (&err);

  s = mmdnn_text_dump (&c, text, len, &err);
  g_assert_null (s);
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_DATA);
  g_assert_nonnull (strstr (err->message, part));
  g_clear_error (&err);
  g_free (part);
}

static void
test_utf8_overlong_n (void)
{
  assert_invalid_utf8 ("ab\xc0\xaf", -1, 2);            /* '/' in 2 bytes */
  assert_invalid_utf8 ("\xe0\x80\xaf", -1, 0);          /* '/' in 3 bytes */
  assert_invalid_utf8 ("x\xf0\x80\x80\xaf", -1, 1);     /* '/' in 4 bytes */
}

static void
test_utf8_truncated_n (void)
{
  assert_invalid_utf8 ("ab\xe4\xbd", -1, 2);            /* 你 cut at the end */
  assert_invalid_utf8 ("ab\xe4\xbd" "cd", -1, 2);       /* ... and mid-text */
  assert_invalid_utf8 ("\xf0\x9f\x90", -1, 0);          /* 🐱 cut */
}

static void
test_utf8_lone_continuation_n (void)
{
  assert_invalid_utf8 ("\x80" "abc", -1, 0);
  assert_invalid_utf8 ("abc\xbf", -1, 3);
}

static void
test_utf8_middle_n (void)
{
  assert_invalid_utf8 ("Hello \xff world", -1, 6);
  assert_invalid_utf8 ("你好\xfe世界", -1, 6);
}

static void
test_utf8_inside_markup_n (void)
{
  /* markup that would be stripped must not hide bad bytes */
  assert_invalid_utf8 ("<i \xff>x</i>", -1, 3);
  assert_invalid_utf8 ("{\\an8\xc3}x", -1, 5);
  assert_invalid_utf8 ("&#65;\xe9t\xe9", -1, 5);       /* Latin-1 "été" */
}

static void
test_utf8_surrogate_n (void)
{
  assert_invalid_utf8 ("a\xed\xa0\x80", -1, 1);         /* U+D800 */
  assert_invalid_utf8 ("\xed\xbf\xbf" "b", -1, 0);      /* U+DFFF */
}

static void
test_utf8_beyond_max_n (void)
{
  assert_invalid_utf8 ("\xf4\x90\x80\x80", -1, 0);      /* U+110000 */
  assert_invalid_utf8 ("z\xf8\x88\x80\x80\x80", -1, 1); /* 5-byte form */
}

static void
test_utf8_embedded_nul_n (void)
{
  assert_invalid_utf8 ("ab\0cd", 5, 2);
}

/* len ends inside a multi-byte character: a truncated sequence, and nothing
 * after len is read to complete it. */
static void
test_len_inside_char_n (void)
{
  assert_invalid_utf8 ("é", 1, 0);
  assert_invalid_utf8 ("aé", 2, 1);
  assert_invalid_utf8 ("你好", 5, 3);
  assert_invalid_utf8 ("🐱", 3, 0);
}

static void
test_len_negative_n (void)
{
  MmdnnTextConfig c;
  GError *err = NULL;

  small_config (&c);
  assert_tokenize_fails (&c, "abc", -2, MMDNN_ERROR_INVALID_ARGUMENT, "len=-2");
  g_assert_null (mmdnn_text_normalize ("abc", -5, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_null (mmdnn_text_dump (&c, "abc", G_MINSSIZE, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
}

static void
test_null_text_n (void)
{
  MmdnnTextConfig c;
  GError *err = NULL;

  small_config (&c);
  assert_tokenize_fails (&c, NULL, -1, MMDNN_ERROR_INVALID_ARGUMENT, "text");
  assert_tokenize_fails (&c, NULL, 0, MMDNN_ERROR_INVALID_ARGUMENT, "text");
  g_assert_null (mmdnn_text_normalize (NULL, -1, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_null (mmdnn_text_dump (&c, NULL, 3, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
}

static void
test_null_config_n (void)
{
  GError *err = NULL;

  assert_tokenize_fails (NULL, "abc", -1, MMDNN_ERROR_INVALID_ARGUMENT, "c ");
  g_assert_false (mmdnn_text_config_check (NULL, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_null (mmdnn_text_dump (NULL, "abc", -1, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
}

static void
test_null_ids_n (void)
{
  MmdnnTextConfig c;
  int64_t n_tokens = 99;
  GError *err = NULL;

  small_config (&c);
  g_assert_false (mmdnn_text_tokenize (&c, "abc", -1, NULL, &n_tokens, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (err->message, "ids"));
  g_clear_error (&err);
  g_assert_cmpint (n_tokens, ==, 99);
}

/* A bad field fails the check, tokenize (grid untouched) and dump, and the
 * message names the field and value. */
static void
assert_bad_config (int64_t buckets, int64_t max_tokens, int64_t max_ids,
                   const char *part)
{
  MmdnnTextConfig c = { buckets, max_tokens, max_ids };
  GError *err = NULL;

  g_assert_false (mmdnn_text_config_check (&c, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  if (strstr (err->message, part) == NULL)
    g_error ("message \"%s\" lacks \"%s\"", err->message, part);
  g_clear_error (&err);
  assert_tokenize_fails (&c, "hello world", -1, MMDNN_ERROR_INVALID_ARGUMENT,
                         part);
  g_assert_null (mmdnn_text_dump (&c, "hello", -1, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
}

static void
test_config_buckets_zero_n (void)
{
  assert_bad_config (0, 4, 4, "buckets=0");
  assert_bad_config (-65536, 4, 4, "buckets=-65536");
}

static void
test_config_buckets_too_big_n (void)
{
  assert_bad_config ((int64_t) G_MAXINT32 + 1, 4, 4, "buckets=2147483648");
  assert_bad_config (G_MAXINT64, 4, 4, "buckets=");
}

static void
test_config_max_tokens_zero_n (void)
{
  assert_bad_config (97, 0, 4, "max_tokens=0");
  assert_bad_config (97, -1, 4, "max_tokens=-1");
}

static void
test_config_max_tokens_too_big_n (void)
{
  assert_bad_config (97, MMDNN_TEXT_MAX_SIZE + 1, 4, "max_tokens=4097");
}

static void
test_config_max_ids_zero_n (void)
{
  assert_bad_config (97, 4, 0, "max_ids_per_token=0");
  assert_bad_config (97, 4, G_MININT64, "max_ids_per_token=");
}

static void
test_config_max_ids_too_big_n (void)
{
  assert_bad_config (97, 4, MMDNN_TEXT_MAX_SIZE + 1, "max_ids_per_token=4097");
}

/* An error in one call leaves nothing behind: the next call on the same
 * buffers gives exactly the ids of a call that never saw the bad input. */
static void
test_error_then_ok_n (void)
{
  MmdnnTextConfig c;
  int32_t ids[16], fresh[16];
  int64_t n = 0;
  GError *err = NULL;

  small_config (&c);
  g_assert_true (mmdnn_text_tokenize (&c, "hi you", -1, fresh, &n, &err));
  g_assert_cmpint (n, ==, 2);
  g_assert_true (mmdnn_text_tokenize (&c, "other words", -1, ids, &n, &err));
  g_assert_false (mmdnn_text_tokenize (&c, "hi \xff", -1, ids, &n, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_DATA);
  g_clear_error (&err);
  g_assert_cmpint (n, ==, 2);                  /* still the previous count */
  g_assert_true (mmdnn_text_tokenize (&c, "hi you", -1, ids, &n, &err));
  g_assert_no_error (err);
  g_assert_cmpmem (ids, sizeof ids, fresh, sizeof fresh);
}

int
main (int argc, char **argv)
{
  GPtrArray *paths = g_ptr_array_new_with_free_func (g_free);
  int ret;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/text/config-default", test_config_default);
  g_test_add_func ("/text/normalize", test_normalize);
  g_test_add_func ("/text/equivalent-forms", test_equivalent_forms);
  g_test_add_func ("/text/explicit-len", test_explicit_len);
  g_test_add_func ("/text/buckets-range", test_buckets_range);
  for (gsize i = 0; i < G_N_ELEMENTS (text_cases); i++) {
    const char *slash = strchr (text_cases[i].name, '/');
    char *group = g_strndup (text_cases[i].name, slash - text_cases[i].name);
    char *path = g_strdup_printf ("/text/golden/%s", group);
    if (g_ptr_array_find_with_equal_func (paths, path, g_str_equal, NULL)) {
      g_free (path);
      g_free (group);
      continue;
    }
    g_ptr_array_add (paths, path);
    g_ptr_array_add (paths, group);
    g_test_add_data_func (path, group, test_golden);
  }

  g_test_add_func ("/text/utf8-overlong_n", test_utf8_overlong_n);
  g_test_add_func ("/text/utf8-truncated_n", test_utf8_truncated_n);
  g_test_add_func ("/text/utf8-lone-continuation_n",
                   test_utf8_lone_continuation_n);
  g_test_add_func ("/text/utf8-middle_n", test_utf8_middle_n);
  g_test_add_func ("/text/utf8-inside-markup_n", test_utf8_inside_markup_n);
  g_test_add_func ("/text/utf8-surrogate_n", test_utf8_surrogate_n);
  g_test_add_func ("/text/utf8-beyond-max_n", test_utf8_beyond_max_n);
  g_test_add_func ("/text/utf8-embedded-nul_n", test_utf8_embedded_nul_n);
  g_test_add_func ("/text/len-inside-char_n", test_len_inside_char_n);
  g_test_add_func ("/text/len-negative_n", test_len_negative_n);
  g_test_add_func ("/text/null-text_n", test_null_text_n);
  g_test_add_func ("/text/null-config_n", test_null_config_n);
  g_test_add_func ("/text/null-ids_n", test_null_ids_n);
  g_test_add_func ("/text/config-buckets-zero_n", test_config_buckets_zero_n);
  g_test_add_func ("/text/config-buckets-too-big_n",
                   test_config_buckets_too_big_n);
  g_test_add_func ("/text/config-max-tokens-zero_n",
                   test_config_max_tokens_zero_n);
  g_test_add_func ("/text/config-max-tokens-too-big_n",
                   test_config_max_tokens_too_big_n);
  g_test_add_func ("/text/config-max-ids-zero_n", test_config_max_ids_zero_n);
  g_test_add_func ("/text/config-max-ids-too-big_n",
                   test_config_max_ids_too_big_n);
  g_test_add_func ("/text/error-then-ok_n", test_error_then_ok_n);

  ret = g_test_run ();
  g_ptr_array_unref (paths);
  return ret;
}
