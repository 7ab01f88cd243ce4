/* Tensors and parameter slabs.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <string.h>
/* the umbrella header: all public headers compile together */
#include <mmdnn/mmdnn.h>

static void
test_tensor_new (void)
{
  const int64_t shape[] = { 2, 3, 5 };
  GError *err = NULL;
  MmdnnTensor *t = mmdnn_tensor_new (3, shape, &err);

  g_assert_no_error (err);
  g_assert_nonnull (t);
  g_assert_cmpint (t->numel, ==, 30);
  g_assert_cmpint (t->ndim, ==, 3);
  g_assert_true (t->owns_data);
  g_assert_cmpuint ((uintptr_t) t->data % 64, ==, 0);
  for (int64_t i = 0; i < t->numel; i++)
    g_assert_cmpfloat (t->data[i], ==, 0.0f);
  mmdnn_tensor_free (t);
  mmdnn_tensor_free (NULL);
}

static void
test_tensor_view_reshape (void)
{
  float data[12] = { 0 };
  const int64_t s1[] = { 3, 4 }, s2[] = { 2, 2, 3 };
  GError *err = NULL;
  MmdnnTensor *t = mmdnn_tensor_new_view (data, 2, s1, &err), *u;

  g_assert_no_error (err);
  g_assert_false (t->owns_data);
  g_assert_true (t->data == data);
  g_assert_true (mmdnn_tensor_reshape (t, 3, s2, &err));
  g_assert_no_error (err);
  g_assert_cmpint (t->shape[2], ==, 3);
  u = mmdnn_tensor_new (3, s2, &err);
  g_assert_true (mmdnn_tensor_same_shape (t, u));
  g_assert_true (mmdnn_tensor_reshape (u, 2, s1, &err));
  g_assert_false (mmdnn_tensor_same_shape (t, u));
  mmdnn_tensor_free (u);
  mmdnn_tensor_free (t);          /* must not free the stack array */
}

static void
test_param_set (void)
{
  const int64_t w[] = { 4, 3 }, b[] = { 4 };
  GError *err = NULL;
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  MmdnnParam *pw = mmdnn_param_set_declare (ps, "fc.weight", 2, w, TRUE, &err);
  MmdnnParam *pb = mmdnn_param_set_declare (ps, "fc.bias", 1, b, FALSE, &err);

  g_assert_no_error (err);
  g_assert_null (pw->value);
  g_assert_true (mmdnn_param_set_allocate (ps, &err));
  g_assert_no_error (err);
  /* two views into one slab, each 64-byte aligned, grads at the same offset */
  g_assert_true (pw->value == ps->values + pw->offset);
  g_assert_true (pb->grad == ps->grads + pb->offset);
  g_assert_cmpint (pb->offset, ==, 16);
  g_assert_cmpuint ((uintptr_t) pb->value % 64, ==, 0);
  g_assert_cmpint (ps->numel, ==, 32);
  g_assert_true (mmdnn_param_set_lookup (ps, "fc.bias") == pb);
  g_assert_null (mmdnn_param_set_lookup (ps, "fc.nothing"));
  g_assert_true (pw->decay);
  g_assert_false (pb->decay);

  pw->grad[0] = 1.0f;
  pb->grad[3] = 2.0f;
  mmdnn_param_set_zero_grad (ps);
  g_assert_cmpfloat (pw->grad[0], ==, 0.0f);
  g_assert_cmpfloat (pb->grad[3], ==, 0.0f);
  mmdnn_param_set_free (ps);
  mmdnn_param_set_free (NULL);
}

static void
test_shape_bad_ndim_n (void)
{
  const int64_t shape[] = { 1, 1, 1, 1, 1 };
  GError *err = NULL;

  g_assert_cmpint (mmdnn_shape_numel (0, shape, &err), ==, -1);
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_cmpint (mmdnn_shape_numel (5, shape, &err), ==, -1);
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
}

static void
test_shape_zero_size_n (void)
{
  const int64_t shape[] = { 3, 0 };
  GError *err = NULL;

  g_assert_null (mmdnn_tensor_new (2, shape, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
}

static void
test_shape_negative_size_n (void)
{
  const int64_t shape[] = { -4 };
  GError *err = NULL;

  g_assert_null (mmdnn_tensor_new (1, shape, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
}

static void
test_shape_overflow_n (void)
{
  /* each size fits, the product does not fit in int64 */
  const int64_t shape[] = { INT64_C (1) << 31, INT64_C (1) << 31, 4 };
  GError *err = NULL;

  g_assert_cmpint (mmdnn_shape_numel (3, shape, &err), ==, -1);
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
}

static void
test_shape_null_n (void)
{
  GError *err = NULL;

  g_assert_cmpint (mmdnn_shape_numel (2, NULL, &err), ==, -1);
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
}

static void
test_floats_bad_count_n (void)
{
  GError *err = NULL;

  g_assert_null (mmdnn_floats_new (0, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_null (mmdnn_floats_new (MMDNN_MAX_NUMEL + 1, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
}

static void
test_view_null_data_n (void)
{
  const int64_t shape[] = { 2 };
  GError *err = NULL;

  g_assert_null (mmdnn_tensor_new_view (NULL, 1, shape, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
}

static void
test_reshape_count_mismatch_n (void)
{
  const int64_t s1[] = { 3, 4 }, s2[] = { 5, 2 };
  GError *err = NULL;
  MmdnnTensor *t = mmdnn_tensor_new (2, s1, NULL);

  g_assert_false (mmdnn_tensor_reshape (t, 2, s2, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (t->shape[0], ==, 3);      /* untouched */
  g_assert_cmpint (t->shape[1], ==, 4);
  g_clear_error (&err);
  g_assert_false (mmdnn_tensor_reshape (NULL, 2, s2, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  mmdnn_tensor_free (t);
}

static void
test_param_duplicate_n (void)
{
  const int64_t s[] = { 2 };
  GError *err = NULL;
  MmdnnParamSet *ps = mmdnn_param_set_new ();

  g_assert_nonnull (mmdnn_param_set_declare (ps, "a", 1, s, TRUE, &err));
  g_assert_null (mmdnn_param_set_declare (ps, "a", 1, s, TRUE, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_assert_cmpuint (ps->params->len, ==, 1);
  g_clear_error (&err);
  mmdnn_param_set_free (ps);
}

static void
test_param_bad_name_or_shape_n (void)
{
  const int64_t s[] = { 2 }, bad[] = { 0 };
  GError *err = NULL;
  MmdnnParamSet *ps = mmdnn_param_set_new ();

  g_assert_null (mmdnn_param_set_declare (ps, "", 1, s, TRUE, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_null (mmdnn_param_set_declare (ps, NULL, 1, s, TRUE, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_null (mmdnn_param_set_declare (ps, "w", 1, bad, TRUE, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (err->message, "'w'"));
  g_clear_error (&err);
  g_assert_null (mmdnn_param_set_declare (NULL, "w", 1, s, TRUE, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_cmpuint (ps->params->len, ==, 0);
  mmdnn_param_set_free (ps);
}

static void
test_param_declare_after_allocate_n (void)
{
  const int64_t s[] = { 2 };
  GError *err = NULL;
  MmdnnParamSet *ps = mmdnn_param_set_new ();

  mmdnn_param_set_declare (ps, "a", 1, s, TRUE, NULL);
  g_assert_true (mmdnn_param_set_allocate (ps, NULL));
  g_assert_null (mmdnn_param_set_declare (ps, "b", 1, s, TRUE, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_false (mmdnn_param_set_allocate (ps, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  mmdnn_param_set_free (ps);
}

static void
test_param_allocate_empty_n (void)
{
  GError *err = NULL;
  MmdnnParamSet *ps = mmdnn_param_set_new ();

  g_assert_false (mmdnn_param_set_allocate (ps, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_assert_false (ps->allocated);
  g_clear_error (&err);
  g_assert_false (mmdnn_param_set_allocate (NULL, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  mmdnn_param_set_free (ps);
}

static void
test_param_declare_layer (void)
{
  GError *err = NULL;
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  MmdnnParam *w = NULL, *b = NULL;

  g_assert_true (mmdnn_param_set_declare_layer (ps, "test", "enc.fc", 2,
                                                (int64_t[]) { 4, 3 }, TRUE, 4,
                                                &w, &b, &err));
  g_assert_no_error (err);
  g_assert_cmpstr (w->name, ==, "enc.fc.weight");
  g_assert_cmpstr (b->name, ==, "enc.fc.bias");
  g_assert_true (w->decay);
  g_assert_false (b->decay);
  g_assert_cmpint (b->numel, ==, 4);
  /* without a bias: weight only */
  g_assert_true (mmdnn_param_set_declare_layer (ps, "test", "emb", 2,
                                                (int64_t[]) { 9, 2 }, FALSE, 0,
                                                &w, NULL, &err));
  g_assert_false (w->decay);
  g_assert_null (mmdnn_param_set_lookup (ps, "emb.bias"));
  g_assert_cmpuint (ps->params->len, ==, 3);
  mmdnn_param_set_free (ps);
}

static void
test_param_declare_layer_bias_taken_n (void)
{
  /* the bias name is taken: the weight must not be declared either */
  GError *err = NULL;
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  MmdnnParam *w = NULL, *b = NULL;

  mmdnn_param_set_declare (ps, "fc.bias", 1, (int64_t[]) { 4 }, FALSE, NULL);
  g_assert_false (mmdnn_param_set_declare_layer (ps, "test", "fc", 2,
                                                 (int64_t[]) { 4, 3 }, TRUE, 4,
                                                 &w, &b, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (err->message, "'fc'"));
  g_assert_null (mmdnn_param_set_lookup (ps, "fc.weight"));
  g_assert_cmpuint (ps->params->len, ==, 1);
  g_assert_null (w);
  g_clear_error (&err);
  mmdnn_param_set_free (ps);
}

static void
test_param_declare_layer_bad_args_n (void)
{
  GError *err = NULL;
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  MmdnnParam *w = NULL;

  /* bias requested but nowhere to put it */
  g_assert_false (mmdnn_param_set_declare_layer (ps, "test", "fc", 1,
                                                 (int64_t[]) { 4 }, TRUE, 4,
                                                 &w, NULL, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_false (mmdnn_param_set_declare_layer (ps, "test", "", 1,
                                                 (int64_t[]) { 4 }, TRUE, 0,
                                                 &w, NULL, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_false (mmdnn_param_set_declare_layer (ps, "test", "fc", 1,
                                                 (int64_t[]) { 0 }, TRUE, 0,
                                                 &w, NULL, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_cmpuint (ps->params->len, ==, 0);
  mmdnn_param_set_free (ps);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tensor/new", test_tensor_new);
  g_test_add_func ("/tensor/view-reshape", test_tensor_view_reshape);
  g_test_add_func ("/tensor/param-set", test_param_set);
  g_test_add_func ("/tensor/shape-bad-ndim_n", test_shape_bad_ndim_n);
  g_test_add_func ("/tensor/shape-zero-size_n", test_shape_zero_size_n);
  g_test_add_func ("/tensor/shape-negative-size_n", test_shape_negative_size_n);
  g_test_add_func ("/tensor/shape-overflow_n", test_shape_overflow_n);
  g_test_add_func ("/tensor/shape-null_n", test_shape_null_n);
  g_test_add_func ("/tensor/floats-bad-count_n", test_floats_bad_count_n);
  g_test_add_func ("/tensor/view-null-data_n", test_view_null_data_n);
  g_test_add_func ("/tensor/reshape-count-mismatch_n", test_reshape_count_mismatch_n);
  g_test_add_func ("/tensor/param-duplicate_n", test_param_duplicate_n);
  g_test_add_func ("/tensor/param-bad-name-or-shape_n", test_param_bad_name_or_shape_n);
  g_test_add_func ("/tensor/param-declare-after-allocate_n", test_param_declare_after_allocate_n);
  g_test_add_func ("/tensor/param-allocate-empty_n", test_param_allocate_empty_n);
  g_test_add_func ("/tensor/param-declare-layer", test_param_declare_layer);
  g_test_add_func ("/tensor/param-declare-layer-bias-taken_n", test_param_declare_layer_bias_taken_n);
  g_test_add_func ("/tensor/param-declare-layer-bad-args_n", test_param_declare_layer_bad_args_n);
  return g_test_run ();
}
