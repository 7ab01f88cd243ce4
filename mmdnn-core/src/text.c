/* mmdnn — subtitle text → hashed token ids (rules in text.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include <mmdnn/text.h>
#include "internal.h"

#define FNV_OFFSET 0x811C9DC5u
#define FNV_PRIME  0x01000193u

typedef enum {
  CL_OTHER,
  CL_CJK,
  CL_ALNUM,
  CL_MARK,
  CL_SYMBOL,
} CharClass;

typedef enum {
  TOK_WORD,
  TOK_CJK,
  TOK_SYMBOL,
} TokenKind;

/* A token is a range of the (ignorables removed) code point array. */
typedef struct {
  int64_t start, end;
  TokenKind kind;
} Token;

void
mmdnn_text_config_init (MmdnnTextConfig *c)
{
  c->buckets = 65536;
  c->max_tokens = 32;
  c->max_ids_per_token = 16;
}

gboolean
mmdnn_text_config_check (const MmdnnTextConfig *c, GError **error)
{
  MMDNN_CHECK_NOT_NULL (c, error, FALSE);
  MMDNN_CHECK (c->buckets >= 1 && c->buckets <= G_MAXINT32, error, FALSE,
               "text config: buckets=%" G_GINT64_FORMAT
               " must be in [1, 2147483647]", c->buckets);
  MMDNN_CHECK (c->max_tokens >= 1 && c->max_tokens <= MMDNN_TEXT_MAX_SIZE,
               error, FALSE, "text config: max_tokens=%" G_GINT64_FORMAT
               " must be in [1, %d]", c->max_tokens, MMDNN_TEXT_MAX_SIZE);
  MMDNN_CHECK (c->max_ids_per_token >= 1
               && c->max_ids_per_token <= MMDNN_TEXT_MAX_SIZE, error, FALSE,
               "text config: max_ids_per_token=%" G_GINT64_FORMAT
               " must be in [1, %d]", c->max_ids_per_token,
               MMDNN_TEXT_MAX_SIZE);
  return TRUE;
}

/* Step 1: the byte count, or FALSE if @text is not valid UTF-8 within it. */
static gboolean
text_check (const char *text, gssize len, gsize *n_bytes, GError **error)
{
  const char *end = NULL;
  gsize n;

  MMDNN_CHECK (text != NULL, error, FALSE, "text: text must not be NULL");
  MMDNN_CHECK (len >= -1, error, FALSE,
               "text: len=%" G_GSSIZE_FORMAT " must be ≥ −1", len);
  n = len < 0 ? strlen (text) : (gsize) len;
  /* With an explicit length GLib also rejects NUL bytes, which is what we
   * want: a cue with a NUL in it is corrupt, not two cues. */
  if (!g_utf8_validate_len (text, n, &end)) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_DATA,
                 "text: invalid UTF-8 at byte offset %" G_GSIZE_FORMAT
                 " (of %" G_GSIZE_FORMAT ")", (gsize) (end - text), n);
    return FALSE;
  }
  *n_bytes = n;
  return TRUE;
}

static gboolean
is_ascii_letter (char ch)
{
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static gboolean
is_ascii_digit (char ch)
{
  return ch >= '0' && ch <= '9';
}

/* Rules 2a and 2b: the end (exclusive) of a tag starting at t[i] == '<',
 * or 0 when it is not a tag. */
static gsize
match_tag (const char *t, gsize n, gsize i)
{
  gsize j = i + 1;

  if (j >= n)
    return 0;
  if (is_ascii_letter (t[j]) || t[j] == '/') {
    char quote = 0;
    for (; j < n; j++) {
      if (quote) {
        if (t[j] == quote)
          quote = 0;
      } else if (t[j] == '"' || t[j] == '\'') {
        quote = t[j];
      } else if (t[j] == '>') {
        return j + 1;
      }
    }
    return 0;
  }
  if (is_ascii_digit (t[j])) {
    gboolean colon = FALSE;
    while (j < n && (is_ascii_digit (t[j]) || t[j] == ':' || t[j] == '.')) {
      colon = colon || t[j] == ':';
      j++;
    }
    if (j < n && t[j] == '>' && colon)
      return j + 1;
  }
  return 0;
}

/* <br>, <br/>, <br ...>, any case; only called on a matched tag, which is
 * at least 4 bytes long when it is one of these. */
static gboolean
tag_is_br (const char *t, gsize i, gsize end)
{
  char c3;

  if (end - i < 4 || g_ascii_tolower (t[i + 1]) != 'b'
      || g_ascii_tolower (t[i + 2]) != 'r')
    return FALSE;
  c3 = t[i + 3];
  return c3 == '>' || c3 == '/' || c3 == ' ' || c3 == '\t' || c3 == '\n'
      || c3 == '\r' || c3 == '\f';
}

/* Rule 2e: on a match appends the decoded character to @out and returns the
 * end (exclusive) of the entity; 0 otherwise. */
static gsize
match_entity (const char *t, gsize n, gsize i, GString *out)
{
  static const struct {
    const char *name;
    char value;
  } named[] = {
    { "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' },
    { "apos", '\'' },
  };
  gsize j, k, max_digits;
  gboolean hex;
  guint32 v = 0;

  for (gsize e = 0; e < G_N_ELEMENTS (named); e++) {
    gsize nl = strlen (named[e].name);
    if (n - i >= nl + 2 && memcmp (t + i + 1, named[e].name, nl) == 0
        && t[i + 1 + nl] == ';') {
      g_string_append_c (out, named[e].value);
      return i + nl + 2;
    }
  }
  if (i + 1 >= n || t[i + 1] != '#')
    return 0;
  hex = i + 2 < n && (t[i + 2] == 'x' || t[i + 2] == 'X');
  j = hex ? i + 3 : i + 2;
  max_digits = hex ? 6 : 7;
  for (k = j; k < n && (hex ? g_ascii_isxdigit (t[k]) : is_ascii_digit (t[k]));
       k++) {
    if (k - j >= max_digits)
      return 0;                 /* too many digits: stays text */
    v = hex ? v * 16 + (guint32) g_ascii_xdigit_value (t[k])
        : v * 10 + (guint32) (t[k] - '0');
  }
  if (k == j || k >= n || t[k] != ';')
    return 0;
  if (v < 1 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
    return 0;
  g_string_append_unichar (out, v);
  return k + 1;
}

/* Step 2 over @n valid UTF-8 bytes; the result is valid UTF-8 again since
 * only whole ASCII-delimited runs are removed and only valid characters
 * are added. */
static GString *
strip_markup (const char *t, gsize n)
{
  GString *out = g_string_sized_new (n);
  gsize i = 0;

  while (i < n) {
    char ch = t[i];
    gsize end;

    if (ch == '<' && (end = match_tag (t, n, i)) != 0) {
      if (tag_is_br (t, i, end))
        g_string_append_c (out, ' ');
      i = end;
      continue;
    }
    if (ch == '{' && i + 1 < n && t[i + 1] == '\\') {
      const char *close = memchr (t + i + 2, '}', n - (i + 2));
      if (close != NULL) {
        i = (gsize) (close - t) + 1;
        continue;
      }
    }
    if (ch == '\\' && i + 1 < n
        && (t[i + 1] == 'N' || t[i + 1] == 'n' || t[i + 1] == 'h')) {
      g_string_append_c (out, ' ');
      i += 2;
      continue;
    }
    if (ch == '&' && (end = match_entity (t, n, i, out)) != 0) {
      i = end;
      continue;
    }
    g_string_append_c (out, ch);
    i++;
  }
  return out;
}

/* Steps 2 and 3 on validated input. */
static char *
normalize_valid (const char *text, gsize n)
{
  GString *stripped = strip_markup (text, n);
  char *nfkc, *folded;

  nfkc = g_utf8_normalize (stripped->str, (gssize) stripped->len,
                           G_NORMALIZE_NFKC);
  g_string_free (stripped, TRUE);
  folded = g_utf8_casefold (nfkc, -1);
  g_free (nfkc);
  return folded;
}

char *
mmdnn_text_normalize (const char *text, gssize len, GError **error)
{
  gsize n;

  if (!text_check (text, len, &n, error))
    return NULL;
  return normalize_valid (text, n);
}

static gboolean
is_ignored (gunichar c)
{
  return c == 0x00AD || c == 0x200C || c == 0x200D || c == 0x2060
      || c == 0xFEFF || (c >= 0xFE00 && c <= 0xFE0F)
      || (c >= 0xE0100 && c <= 0xE01EF);
}

static CharClass
char_class (gunichar c)
{
  GUnicodeScript script = g_unichar_get_script (c);

  if (c == 0x30FC || script == G_UNICODE_SCRIPT_HAN
      || script == G_UNICODE_SCRIPT_HIRAGANA
      || script == G_UNICODE_SCRIPT_KATAKANA
      || script == G_UNICODE_SCRIPT_HANGUL)
    return CL_CJK;
  switch (g_unichar_type (c)) {
    case G_UNICODE_LOWERCASE_LETTER:
    case G_UNICODE_MODIFIER_LETTER:
    case G_UNICODE_OTHER_LETTER:
    case G_UNICODE_TITLECASE_LETTER:
    case G_UNICODE_UPPERCASE_LETTER:
    case G_UNICODE_DECIMAL_NUMBER:
    case G_UNICODE_LETTER_NUMBER:
    case G_UNICODE_OTHER_NUMBER:
      return CL_ALNUM;
    case G_UNICODE_SPACING_MARK:
    case G_UNICODE_ENCLOSING_MARK:
    case G_UNICODE_NON_SPACING_MARK:
      return CL_MARK;
    case G_UNICODE_OTHER_SYMBOL:
      return CL_SYMBOL;
    default:
      return CL_OTHER;
  }
}

static void
emit (Token *tok, int64_t *n_tok, int64_t max_tokens, int64_t start,
      int64_t end, TokenKind kind)
{
  if (*n_tok >= max_tokens)
    return;
  tok[*n_tok].start = start;
  tok[*n_tok].end = end;
  tok[*n_tok].kind = kind;
  (*n_tok)++;
}

/* Step 4. Rewrites @cp in place (ignorables removed, kept apostrophes made
 * U+0027) and returns the number of tokens written to @tok (≤ max_tokens). */
static int64_t
split_tokens (gunichar *cp, int64_t *n_cp, Token *tok, int64_t max_tokens)
{
  int64_t n = 0, n_tok = 0, i = 0;
  guint8 *cls;

  for (int64_t k = 0; k < *n_cp; k++)
    if (!is_ignored (cp[k]))
      cp[n++] = cp[k];
  *n_cp = n;
  cls = g_new (guint8, n + 1);
  for (int64_t k = 0; k < n; k++)
    cls[k] = (guint8) char_class (cp[k]);

  while (i < n && n_tok < max_tokens) {
    if (cls[i] == CL_CJK) {
      int64_t prev = -1, j = i;
      while (j < n && cls[j] == CL_CJK) {
        int64_t start = j++;
        while (j < n && cls[j] == CL_MARK)
          j++;
        if (prev >= 0)
          emit (tok, &n_tok, max_tokens, prev, j, TOK_CJK);
        emit (tok, &n_tok, max_tokens, start, j, TOK_CJK);
        prev = start;
      }
      i = j;
    } else if (cls[i] == CL_ALNUM) {
      int64_t j = i + 1;
      while (j < n) {
        if (cls[j] == CL_ALNUM || cls[j] == CL_MARK) {
          j++;
        } else if ((cp[j] == 0x27 || cp[j] == 0x2019) && j + 1 < n
                   && cls[j + 1] == CL_ALNUM) {
          cp[j++] = 0x27;
        } else {
          break;
        }
      }
      emit (tok, &n_tok, max_tokens, i, j, TOK_WORD);
      i = j;
    } else if (cls[i] == CL_SYMBOL) {
      emit (tok, &n_tok, max_tokens, i, i + 1, TOK_SYMBOL);
      i++;
    } else {
      i++;                      /* separator, or a mark with nothing to join */
    }
  }
  g_free (cls);
  return n_tok;
}

static guint32
fnv1a_bytes (guint32 h, const char *p, gsize n)
{
  for (gsize i = 0; i < n; i++) {
    h ^= (guint8) p[i];
    h *= FNV_PRIME;
  }
  return h;
}

static guint32
fnv1a_unichars (guint32 h, const gunichar *cp, int64_t n)
{
  char buf[8];

  for (int64_t i = 0; i < n; i++)
    h = fnv1a_bytes (h, buf, (gsize) g_unichar_to_utf8 (cp[i], buf));
  return h;
}

/* Step 5: one row of @max_ids ids for @t, −1 padded. */
static void
token_ids (int32_t *row, const gunichar *cp, const Token *t, guint32 buckets,
           int64_t max_ids)
{
  const gunichar *s = cp + t->start;
  int64_t len = t->end - t->start, col = 0;

  row[col++] = (int32_t) (fnv1a_unichars (fnv1a_bytes (FNV_OFFSET, "w:", 2),
                                          s, len) % buckets);
  if (t->kind == TOK_WORD && len >= 2) {
    /* the 3-gram at k of "<" t ">" */
    for (int64_t k = 0; k < len && col < max_ids; k++) {
      guint32 h = fnv1a_bytes (FNV_OFFSET, "g:", 2);
      if (k == 0) {
        h = fnv1a_bytes (h, "<", 1);
        h = fnv1a_unichars (h, s, 2);
      } else if (k == len - 1) {
        h = fnv1a_unichars (h, s + k - 1, 2);
        h = fnv1a_bytes (h, ">", 1);
      } else {
        h = fnv1a_unichars (h, s + k - 1, 3);
      }
      row[col++] = (int32_t) (h % buckets);
    }
  }
  for (; col < max_ids; col++)
    row[col] = -1;
}

/* Steps 1–4; on success *cp (g_free) holds the code points the *tok ranges
 * (g_free) point into. */
static gboolean
text_split (const MmdnnTextConfig *c, const char *text, gssize len,
            gunichar **cp_out, Token **tok_out, int64_t *n_tok_out,
            GError **error)
{
  gsize n;
  char *norm;
  gunichar *cp;
  glong n_cp_l;
  int64_t n_cp;
  Token *tok;

  if (!mmdnn_text_config_check (c, error) || !text_check (text, len, &n, error))
    return FALSE;
  norm = normalize_valid (text, n);
  cp = g_utf8_to_ucs4_fast (norm, -1, &n_cp_l);
  g_free (norm);
  n_cp = n_cp_l;
  tok = g_new (Token, c->max_tokens);
  *n_tok_out = split_tokens (cp, &n_cp, tok, c->max_tokens);
  *cp_out = cp;
  *tok_out = tok;
  return TRUE;
}

gboolean
mmdnn_text_tokenize (const MmdnnTextConfig *c, const char *text, gssize len,
                     int32_t *ids, int64_t *n_tokens, GError **error)
{
  gunichar *cp;
  Token *tok;
  int64_t n_tok;

  MMDNN_CHECK_NOT_NULL (c, error, FALSE);
  MMDNN_CHECK_NOT_NULL (ids, error, FALSE);
  if (!text_split (c, text, len, &cp, &tok, &n_tok, error))
    return FALSE;
  for (int64_t t = 0; t < c->max_tokens; t++) {
    int32_t *row = ids + t * c->max_ids_per_token;
    if (t < n_tok) {
      token_ids (row, cp, &tok[t], (guint32) c->buckets, c->max_ids_per_token);
    } else {
      for (int64_t k = 0; k < c->max_ids_per_token; k++)
        row[k] = -1;
    }
  }
  if (n_tokens != NULL)
    *n_tokens = n_tok;
  g_free (tok);
  g_free (cp);
  return TRUE;
}

char *
mmdnn_text_dump (const MmdnnTextConfig *c, const char *text, gssize len,
                 GError **error)
{
  gunichar *cp;
  Token *tok;
  int64_t n_tok;
  int32_t *row;
  GString *out;

  MMDNN_CHECK_NOT_NULL (c, error, NULL);
  if (!text_split (c, text, len, &cp, &tok, &n_tok, error))
    return NULL;
  row = g_new (int32_t, c->max_ids_per_token);
  out = g_string_new (NULL);
  for (int64_t t = 0; t < n_tok; t++) {
    for (int64_t k = tok[t].start; k < tok[t].end; k++)
      g_string_append_unichar (out, cp[k]);
    g_string_append_c (out, '\t');
    token_ids (row, cp, &tok[t], (guint32) c->buckets, c->max_ids_per_token);
    for (int64_t k = 0; k < c->max_ids_per_token && row[k] >= 0; k++) {
      if (k > 0)
        g_string_append_c (out, ' ');
      g_string_append_printf (out, "%" G_GINT32_FORMAT, row[k]);
    }
    g_string_append_c (out, '\n');
  }
  g_free (row);
  g_free (tok);
  g_free (cp);
  return g_string_free (out, FALSE);
}
