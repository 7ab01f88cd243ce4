/* mmdnn — fuzz target: the subtitle text path of mmdnntextenc and of data
 * set ingestion: validation, markup stripping, NFKC + casefold, splitting
 * and hashing (mmdnn_text_normalize, mmdnn_text_tokenize, mmdnn_text_dump),
 * on a cue's bytes as a buffer holds them (explicit length, no NUL after).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include <mmdnn/text.h>

#include "fuzz-common.h"

/* The default grid, the smallest one and one with the largest bucket count
 * and more rows than a cue usually fills: cutting and the modulo at both
 * ends of their ranges. */
static const MmdnnTextConfig configs[] = {
  { 65536, 32, 16 },
  { 1, 1, 1 },
  { G_MAXINT32, 200, 40 },
};

static void
check_tokenize (const MmdnnTextConfig *c, const char *text, gssize len,
                gboolean valid)
{
  gsize n_ids = (gsize) (c->max_tokens * c->max_ids_per_token);
  int32_t *ids = g_new (int32_t, n_ids);
  int64_t n_tokens = -7;
  GError *err = NULL;
  char *dump;
  gboolean ok;

  /* untouched on error (text.h) */
  memset (ids, 0x5a, n_ids * sizeof *ids);
  ok = mmdnn_text_tokenize (c, text, len, ids, &n_tokens, &err);
  fuzz_assert (ok == valid);
  fuzz_assert (ok == (err == NULL));
  if (!ok) {
    fuzz_assert (err->domain == MMDNN_ERROR
                 && err->code == MMDNN_ERROR_DATA);
    fuzz_assert (n_tokens == -7 && ids[0] == 0x5a5a5a5a);
    g_error_free (err);
    g_free (ids);
    return;
  }
  fuzz_assert (n_tokens >= 0 && n_tokens <= c->max_tokens);
  for (int64_t i = 0; i < c->max_tokens; i++) {
    const int32_t *row = ids + i * c->max_ids_per_token;

    /* a token's row: its word id, then 3-grams, then −1 padding; rows
     * after the last token all −1 */
    fuzz_assert ((i < n_tokens) == (row[0] != -1));
    for (int64_t k = 0; k < c->max_ids_per_token; k++) {
      fuzz_assert (row[k] == -1 || (row[k] >= 0 && row[k] < c->buckets));
      fuzz_assert (k == 0 || row[k] == -1 || row[k - 1] != -1);
    }
  }

  /* the dump shows the same tokens, one per line */
  dump = mmdnn_text_dump (c, text, len, &err);
  fuzz_assert (dump != NULL && err == NULL);
  {
    int64_t lines = 0;

    for (const char *p = dump; *p; p++)
      lines += *p == '\n';
    fuzz_assert (lines == n_tokens);
    fuzz_assert (g_utf8_validate (dump, -1, NULL));
  }
  g_free (dump);
  g_free (ids);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *text = (const char *) data;
  GError *err = NULL;
  char *norm;
  gboolean valid;

  fuzz_init ();
  if (size > G_MAXSSIZE)
    return 0;

  norm = mmdnn_text_normalize (text, (gssize) size, &err);
  valid = norm != NULL;
  fuzz_assert (valid == (err == NULL));
  /* what validation accepts: UTF-8 without NUL bytes (text.h, step 1) */
  fuzz_assert (valid == (g_utf8_validate_len (text, size, NULL)
                         && memchr (text, '\0', size) == NULL));
  if (valid) {
    fuzz_assert (g_utf8_validate (norm, -1, NULL));
    g_free (norm);
  } else {
    fuzz_assert (err->domain == MMDNN_ERROR
                 && err->code == MMDNN_ERROR_DATA);
    g_clear_error (&err);
  }

  for (gsize i = 0; i < G_N_ELEMENTS (configs); i++)
    check_tokenize (&configs[i], text, (gssize) size, valid);
  return 0;
}
