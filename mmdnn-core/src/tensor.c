/* mmdnn — tensors and parameter slabs.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include <mmdnn/tensor.h>
#include "internal.h"

#define SLAB_ALIGN_FLOATS 16    /* 64 bytes: one cache line, one AVX-512 load */

int64_t
mmdnn_shape_numel (int ndim, const int64_t *shape, GError **error)
{
  int64_t numel = 1;

  MMDNN_CHECK_NOT_NULL (shape, error, -1);
  MMDNN_CHECK (ndim >= 1 && ndim <= MMDNN_MAX_DIMS, error, -1,
               "a tensor has 1 to %d dimensions, not %d", MMDNN_MAX_DIMS, ndim);
  for (int i = 0; i < ndim; i++) {
    MMDNN_CHECK (shape[i] >= 1, error, -1,
                 "dimension %d has size %" G_GINT64_FORMAT ", must be ≥ 1",
                 i, shape[i]);
    MMDNN_CHECK (shape[i] <= MMDNN_MAX_NUMEL / numel, error, -1,
                 "shape has more than %" G_GINT64_FORMAT " elements",
                 MMDNN_MAX_NUMEL);
    numel *= shape[i];
  }
  return numel;
}

float *
mmdnn_floats_new (int64_t n, GError **error)
{
  void *p = NULL;
  size_t bytes;

  MMDNN_CHECK (n >= 1 && n <= MMDNN_MAX_NUMEL, error, NULL,
               "cannot allocate %" G_GINT64_FORMAT " floats", n);
  bytes = ((size_t) n * sizeof (float) + 63) & ~(size_t) 63;
  if (posix_memalign (&p, 64, bytes) != 0) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_NO_MEMORY,
                 "out of memory allocating %zu bytes", bytes);
    return NULL;
  }
  memset (p, 0, bytes);
  return p;
}

void
mmdnn_floats_free (float *p)
{
  free (p);
}

static MmdnnTensor *
tensor_header (int ndim, const int64_t *shape, GError **error)
{
  int64_t numel = mmdnn_shape_numel (ndim, shape, error);
  MmdnnTensor *t;

  if (numel < 0)
    return NULL;
  t = g_new0 (MmdnnTensor, 1);
  t->ndim = ndim;
  t->numel = numel;
  memcpy (t->shape, shape, sizeof (int64_t) * ndim);
  return t;
}

MmdnnTensor *
mmdnn_tensor_new (int ndim, const int64_t *shape, GError **error)
{
  MmdnnTensor *t = tensor_header (ndim, shape, error);

  if (t == NULL)
    return NULL;
  t->data = mmdnn_floats_new (t->numel, error);
  if (t->data == NULL) {
    g_free (t);
    return NULL;
  }
  t->owns_data = TRUE;
  return t;
}

MmdnnTensor *
mmdnn_tensor_new_view (float *data, int ndim, const int64_t *shape,
                       GError **error)
{
  MmdnnTensor *t;

  MMDNN_CHECK_NOT_NULL (data, error, NULL);
  t = tensor_header (ndim, shape, error);
  if (t != NULL)
    t->data = data;
  return t;
}

void
mmdnn_tensor_free (MmdnnTensor *t)
{
  if (t == NULL)
    return;
  if (t->owns_data)
    mmdnn_floats_free (t->data);
  g_free (t);
}

gboolean
mmdnn_tensor_reshape (MmdnnTensor *t, int ndim, const int64_t *shape,
                      GError **error)
{
  int64_t numel;

  MMDNN_CHECK_NOT_NULL (t, error, FALSE);
  numel = mmdnn_shape_numel (ndim, shape, error);
  if (numel < 0)
    return FALSE;
  MMDNN_CHECK (numel == t->numel, error, FALSE,
               "cannot reshape %" G_GINT64_FORMAT " elements into %"
               G_GINT64_FORMAT, t->numel, numel);
  memset (t->shape, 0, sizeof (t->shape));
  memcpy (t->shape, shape, sizeof (int64_t) * ndim);
  t->ndim = ndim;
  return TRUE;
}

gboolean
mmdnn_tensor_same_shape (const MmdnnTensor *a, const MmdnnTensor *b)
{
  if (a == NULL || b == NULL || a->ndim != b->ndim)
    return FALSE;
  for (int i = 0; i < a->ndim; i++)
    if (a->shape[i] != b->shape[i])
      return FALSE;
  return TRUE;
}

static void
param_free (gpointer data)
{
  MmdnnParam *p = data;
  g_free (p->name);
  g_free (p);
}

MmdnnParamSet *
mmdnn_param_set_new (void)
{
  MmdnnParamSet *ps = g_new0 (MmdnnParamSet, 1);
  ps->params = g_ptr_array_new_with_free_func (param_free);
  ps->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  return ps;
}

void
mmdnn_param_set_free (MmdnnParamSet *ps)
{
  if (ps == NULL)
    return;
  g_hash_table_unref (ps->by_name);
  g_ptr_array_unref (ps->params);
  mmdnn_floats_free (ps->values);
  mmdnn_floats_free (ps->grads);
  g_free (ps);
}

MmdnnParam *
mmdnn_param_set_declare (MmdnnParamSet *ps, const char *name, int ndim,
                         const int64_t *shape, gboolean decay, GError **error)
{
  MmdnnParam *p;
  int64_t numel, padded;

  MMDNN_CHECK_NOT_NULL (ps, error, NULL);
  MMDNN_CHECK (name != NULL && name[0] != '\0', error, NULL,
               "a parameter needs a non-empty name");
  MMDNN_CHECK (!ps->allocated, error, NULL,
               "cannot declare parameter '%s': the set is already allocated",
               name);
  MMDNN_CHECK (!g_hash_table_contains (ps->by_name, name), error, NULL,
               "parameter '%s' is declared twice", name);
  numel = mmdnn_shape_numel (ndim, shape, error);
  if (numel < 0) {
    g_prefix_error (error, "parameter '%s': ", name);
    return NULL;
  }
  padded = (numel + SLAB_ALIGN_FLOATS - 1) / SLAB_ALIGN_FLOATS * SLAB_ALIGN_FLOATS;
  MMDNN_CHECK (ps->numel <= MMDNN_MAX_NUMEL - padded, error, NULL,
               "parameter '%s': the set would exceed %" G_GINT64_FORMAT
               " floats", name, MMDNN_MAX_NUMEL);

  p = g_new0 (MmdnnParam, 1);
  p->name = g_strdup (name);
  p->ndim = ndim;
  memcpy (p->shape, shape, sizeof (int64_t) * ndim);
  p->numel = numel;
  p->offset = ps->numel;
  p->decay = decay;
  ps->numel += padded;
  g_ptr_array_add (ps->params, p);
  g_hash_table_insert (ps->by_name, p->name, p);
  return p;
}

gboolean
mmdnn_param_set_allocate (MmdnnParamSet *ps, GError **error)
{
  MMDNN_CHECK_NOT_NULL (ps, error, FALSE);
  MMDNN_CHECK (!ps->allocated, error, FALSE, "the set is already allocated");
  MMDNN_CHECK (ps->params->len > 0, error, FALSE,
               "cannot allocate a set with no parameters");
  ps->values = mmdnn_floats_new (ps->numel, error);
  if (ps->values == NULL)
    return FALSE;
  ps->grads = mmdnn_floats_new (ps->numel, error);
  if (ps->grads == NULL) {
    mmdnn_floats_free (ps->values);
    ps->values = NULL;
    return FALSE;
  }
  for (guint i = 0; i < ps->params->len; i++) {
    MmdnnParam *p = g_ptr_array_index (ps->params, i);
    p->value = ps->values + p->offset;
    p->grad = ps->grads + p->offset;
  }
  ps->allocated = TRUE;
  return TRUE;
}

gboolean
mmdnn_param_set_declare_layer (MmdnnParamSet *ps, const char *what,
                               const char *prefix, int wndim,
                               const int64_t *wshape, gboolean weight_decay,
                               int64_t bias_len, MmdnnParam **weight,
                               MmdnnParam **bias, GError **error)
{
  g_autofree char *wname = NULL;
  g_autofree char *bname = NULL;
  MmdnnParam *w, *b = NULL;

  MMDNN_CHECK (ps != NULL, error, FALSE, "%s: the parameter set is NULL", what);
  MMDNN_CHECK (prefix != NULL && prefix[0] != '\0', error, FALSE,
               "%s: prefix must be a non-empty string", what);
  MMDNN_CHECK (!ps->allocated, error, FALSE,
               "%s '%s': the parameter set is already allocated", what, prefix);
  MMDNN_CHECK (weight != NULL && (bias_len <= 0 || bias != NULL), error, FALSE,
               "%s '%s': no place for the parameter views", what, prefix);
  wname = g_strconcat (prefix, ".weight", NULL);
  bname = g_strconcat (prefix, ".bias", NULL);
  MMDNN_CHECK (mmdnn_param_set_lookup (ps, wname) == NULL &&
               (bias_len <= 0 || mmdnn_param_set_lookup (ps, bname) == NULL),
               error, FALSE, "%s: prefix '%s' is already in use", what, prefix);

  w = mmdnn_param_set_declare (ps, wname, wndim, wshape, weight_decay, error);
  if (w == NULL)
    return FALSE;
  if (bias_len > 0) {
    b = mmdnn_param_set_declare (ps, bname, 1, &bias_len, FALSE, error);
    if (b == NULL) {
      /* only reachable when the bias alone overflows the set: undo */
      g_hash_table_remove (ps->by_name, w->name);
      ps->numel = w->offset;
      g_ptr_array_remove_index (ps->params, ps->params->len - 1);
      return FALSE;
    }
  }
  *weight = w;
  if (bias != NULL)
    *bias = b;
  return TRUE;
}

MmdnnParam *
mmdnn_param_set_lookup (const MmdnnParamSet *ps, const char *name)
{
  if (ps == NULL || name == NULL)
    return NULL;
  return g_hash_table_lookup (ps->by_name, name);
}

void
mmdnn_param_set_zero_grad (MmdnnParamSet *ps)
{
  if (ps != NULL && ps->allocated)
    memset (ps->grads, 0, sizeof (float) * ps->numel);
}
