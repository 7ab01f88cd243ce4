/* The shared reader of the "MMDG" golden files (see golden-file.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <string.h>

#include "golden-file.h"

typedef struct {
  const guint8 *p;
  gsize         left;
  gsize         pos;
} Cursor;

static void
golden_tensor_free (gpointer p)
{
  GoldenTensor *t = p;

  g_free (t->name);
  g_free (t->data);
  g_free (t);
}

void
golden_free (Golden *g)
{
  if (g == NULL)
    return;
  g_free (g->label);
  g_ptr_array_unref (g->tensors);
  g_ptr_array_unref (g->scratch);
  g_free (g);
}

static gboolean
cursor_take (Cursor *c, gsize n, const guint8 **out, const char *label,
             const char *what, GError **error)
{
  if (c->left < n) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "%s: truncated at byte %" G_GSIZE_FORMAT ": %s needs %"
                 G_GSIZE_FORMAT " bytes, %" G_GSIZE_FORMAT " left",
                 label, c->pos, what, n, c->left);
    return FALSE;
  }
  *out = c->p;
  c->p += n;
  c->left -= n;
  c->pos += n;
  return TRUE;
}

static gboolean
cursor_u32 (Cursor *c, guint32 *v, const char *label, const char *what,
            GError **error)
{
  const guint8 *b;
  guint32 le;

  if (!cursor_take (c, 4, &b, label, what, error))
    return FALSE;
  memcpy (&le, b, 4);
  *v = GUINT32_FROM_LE (le);
  return TRUE;
}

static gboolean
cursor_i64 (Cursor *c, int64_t *v, const char *label, const char *what,
            GError **error)
{
  const guint8 *b;
  guint64 le;

  if (!cursor_take (c, 8, &b, label, what, error))
    return FALSE;
  memcpy (&le, b, 8);
  *v = (int64_t) GUINT64_FROM_LE (le);
  return TRUE;
}

static GoldenTensor *
parse_tensor (Cursor *c, const char *label, guint32 index, GError **error)
{
  GoldenTensor *t = g_new0 (GoldenTensor, 1);
  const guint8 *b;
  guint32 name_len, dtype, ndim;
  int64_t numel = 1, max_numel;
  guint32 *words;

  if (!cursor_u32 (c, &name_len, label, "name length", error))
    goto fail;
  if (name_len < 1 || name_len > GOLDEN_MAX_NAME) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "%s: tensor %u: name length %u not in [1, %d]",
                 label, index, name_len, GOLDEN_MAX_NAME);
    goto fail;
  }
  if (!cursor_take (c, name_len, &b, label, "name", error))
    goto fail;
  for (guint32 i = 0; i < name_len; i++) {
    if (b[i] < 0x21 || b[i] > 0x7e) {
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                   "%s: tensor %u: name byte %u is 0x%02x, not printable "
                   "ASCII", label, index, i, b[i]);
      goto fail;
    }
  }
  t->name = g_strndup ((const char *) b, name_len);

  if (!cursor_u32 (c, &dtype, label, "dtype", error) ||
      !cursor_u32 (c, &ndim, label, "ndim", error))
    goto fail;
  if (dtype != GOLDEN_F32 && dtype != GOLDEN_I32) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "%s: tensor '%s': unknown dtype %u", label, t->name, dtype);
    goto fail;
  }
  if (ndim > MMDNN_MAX_DIMS) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "%s: tensor '%s': ndim %u above %d", label, t->name, ndim,
                 MMDNN_MAX_DIMS);
    goto fail;
  }
  t->dtype = (GoldenDtype) dtype;
  t->ndim = (int) ndim;

  /* Every size must fit in what is left of the file: bounds the product
   * before it can overflow and before anything is allocated. */
  if (c->left < 8 * (gsize) ndim) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "%s: tensor '%s': truncated in its shape", label, t->name);
    goto fail;
  }
  max_numel = (int64_t) ((c->left - 8 * (gsize) ndim) / 4);
  for (int d = 0; d < t->ndim; d++) {
    if (!cursor_i64 (c, &t->shape[d], label, "shape", error))
      goto fail;
    if (t->shape[d] < 1 || t->shape[d] > max_numel / numel) {
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                   "%s: tensor '%s': size %" G_GINT64_FORMAT " of dim %d "
                   "is below 1 or exceeds the %" G_GSIZE_FORMAT
                   " bytes left in the file", label, t->name, t->shape[d], d,
                   c->left);
      goto fail;
    }
    numel *= t->shape[d];
  }
  t->numel = numel;
  if (!cursor_take (c, (gsize) numel * 4, &b, label, "tensor data", error))
    goto fail;
  words = g_new (guint32, numel);
  memcpy (words, b, (gsize) numel * 4);
  for (int64_t i = 0; i < numel; i++)
    words[i] = GUINT32_FROM_LE (words[i]);
  t->data = words;
  return t;

fail:
  golden_tensor_free (t);
  return NULL;
}

Golden *
golden_parse (const guint8 *buf, gsize len, const char *label, GError **error)
{
  Cursor c = { buf, len, 0 };
  Golden *g = g_new0 (Golden, 1);
  const guint8 *magic;
  guint32 version, count;

  g->label = g_strdup (label);
  g->tensors = g_ptr_array_new_with_free_func (golden_tensor_free);
  g->scratch = g_ptr_array_new_with_free_func (g_free);

  if (!cursor_take (&c, 4, &magic, label, "magic", error))
    goto fail;
  if (memcmp (magic, GOLDEN_MAGIC, 4) != 0) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "%s: bad magic %02x %02x %02x %02x, want \"%s\"", label,
                 magic[0], magic[1], magic[2], magic[3], GOLDEN_MAGIC);
    goto fail;
  }
  if (!cursor_u32 (&c, &version, label, "version", error) ||
      !cursor_u32 (&c, &count, label, "tensor count", error))
    goto fail;
  if (version != GOLDEN_VERSION) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "%s: version %u, want %d", label, version, GOLDEN_VERSION);
    goto fail;
  }
  if (count < 1 || count > GOLDEN_MAX_TENSORS) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "%s: tensor count %u not in [1, %d]", label, count,
                 GOLDEN_MAX_TENSORS);
    goto fail;
  }
  for (guint32 i = 0; i < count; i++) {
    GoldenTensor *t = parse_tensor (&c, label, i, error);

    if (t == NULL)
      goto fail;
    for (guint j = 0; j < g->tensors->len; j++) {
      const GoldenTensor *o = g_ptr_array_index (g->tensors, j);
      if (strcmp (o->name, t->name) == 0) {
        g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                     "%s: tensor name '%s' appears twice", label, t->name);
        golden_tensor_free (t);
        goto fail;
      }
    }
    g_ptr_array_add (g->tensors, t);
  }
  if (c.left != 0) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "%s: %" G_GSIZE_FORMAT " trailing bytes after the last "
                 "tensor", label, c.left);
    goto fail;
  }
  return g;

fail:
  golden_free (g);
  return NULL;
}

Golden *
golden_load_path (const char *path, const char *label, GError **error)
{
  GError *local = NULL;
  gchar *buf = NULL;
  gsize len = 0;
  Golden *g;

  if (!g_file_get_contents (path, &buf, &len, &local)) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_IO, "%s: %s", label,
                 local->message);
    g_error_free (local);
    return NULL;
  }
  g = golden_parse ((const guint8 *) buf, len, label, error);
  g_free (buf);
  return g;
}

char *
golden_path (const char *case_name)
{
  char *file = g_strconcat (case_name, ".bin", NULL);
  char *path = g_test_build_filename (G_TEST_DIST, "golden", file, NULL);

  g_free (file);
  return path;
}

Golden *
golden_open (const char *case_name)
{
  GError *err = NULL;
  char *path = golden_path (case_name);
  Golden *g = golden_load_path (path, case_name, &err);

  if (g == NULL) {
    g_test_fail_printf ("golden file %s: %s", path, err->message);
    g_error_free (err);
  }
  g_free (path);
  return g;
}

const GoldenTensor *
golden_lookup (const Golden *g, const char *name, GoldenDtype dtype, int ndim,
               const int64_t *shape, GError **error)
{
  for (guint i = 0; i < g->tensors->len; i++) {
    const GoldenTensor *t = g_ptr_array_index (g->tensors, i);
    gboolean same;

    if (strcmp (t->name, name) != 0)
      continue;
    same = t->dtype == dtype && t->ndim == ndim;
    for (int d = 0; same && d < ndim; d++)
      same = shape[d] == GOLDEN_ANY || t->shape[d] == shape[d];
    if (!same) {
      GString *want = g_string_new (NULL), *got = g_string_new (NULL);

      for (int d = 0; d < ndim; d++) {
        if (shape[d] == GOLDEN_ANY)
          g_string_append_printf (want, "%s*", d ? "," : "");
        else
          g_string_append_printf (want, "%s%" G_GINT64_FORMAT, d ? "," : "",
                                  shape[d]);
      }
      for (int d = 0; d < t->ndim; d++)
        g_string_append_printf (got, "%s%" G_GINT64_FORMAT, d ? "," : "",
                                t->shape[d]);
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_MISMATCH,
                   "%s: tensor '%s' is %s (%s), want %s (%s)", g->label, name,
                   t->dtype == GOLDEN_F32 ? "f32" : "i32", got->str,
                   dtype == GOLDEN_F32 ? "f32" : "i32", want->str);
      g_string_free (want, TRUE);
      g_string_free (got, TRUE);
      return NULL;
    }
    return t;
  }
  g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_MISMATCH,
               "%s: no tensor named '%s'", g->label, name);
  return NULL;
}

gconstpointer
golden_get (Golden *g, const char *name, GoldenDtype dtype, int ndim,
            const int64_t *shape)
{
  GError *err = NULL;
  const GoldenTensor *t = golden_lookup (g, name, dtype, ndim, shape, &err);

  if (t == NULL) {
    g_test_fail_printf ("%s", err->message);
    g_error_free (err);
    g->failed = TRUE;
    return NULL;
  }
  return t->data;
}

float
golden_scalar_f (Golden *g, const char *name)
{
  const float *p = golden_get (g, name, GOLDEN_F32, 0, NULL);
  return p ? *p : NAN;
}

int32_t
golden_scalar_i (Golden *g, const char *name)
{
  const int32_t *p = golden_get (g, name, GOLDEN_I32, 0, NULL);
  return p ? *p : 0;
}

float *
golden_zeros (Golden *g, int64_t n)
{
  float *p = g_new0 (float, n);
  g_ptr_array_add (g->scratch, p);
  return p;
}
