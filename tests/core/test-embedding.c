/* Tests of the mean embedding bag.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <string.h>

#include <mmdnn/embedding.h>
#include "gradcheck.h"

#define N 4
#define L 5
#define V 11
#define D 7

/* bag 0: plain; bag 1: padding in the middle and at the end, a repeated id;
 * bag 2: all padding (empty); bag 3: the last row of the table */
static const int32_t ids[N * L] = {
  0, 3, 5, 7, 9,
  2, -1, 2, 10, -1,
  -1, -1, -1, -1, -1,
  -1, 10, -5, -1, -1,
};

typedef struct {
  float *y, *w;
} EbCtx;

static void
eb_forward (void *p)
{
  EbCtx *c = p;
  mmdnn_embedding_bag_forward (c->y, ids, c->w, N, L, D);
}

static void
naive_bag_mean (float *y, const float *w)
{
  for (int i = 0; i < N; i++)
    for (int j = 0; j < D; j++) {
      double acc = 0.0;
      int count = 0;
      for (int k = 0; k < L; k++) {
        int32_t id = ids[i * L + k];
        if (id >= 0) {
          acc += w[id * D + j];
          count++;
        }
      }
      y[i * D + j] = count > 0 ? (float) (acc / count) : 0.0f;
    }
}


static void
test_forward (void)
{
  MmdnnRng rng;
  float *w, *y, *want;

  mmdnn_rng_init (&rng, 1);
  w = gc_random (&rng, V * D, -1, 1);
  y = gc_random (&rng, N * D, -9, 9);   /* garbage: forward overwrites */
  want = gc_zeros (N * D);
  g_assert_true (mmdnn_embedding_bag_check_ids (ids, N * L, V, NULL));
  mmdnn_embedding_bag_forward (y, ids, w, N, L, D);
  naive_bag_mean (want, w);
  g_assert_true (check_close ("embedding bag y", y, want, N * D, 1e-6));
  for (int j = 0; j < D; j++) {
    g_assert_cmpfloat (y[2 * D + j], ==, 0.0f);          /* empty bag */
    g_assert_cmpfloat (y[3 * D + j], ==, w[10 * D + j]); /* one id */
  }
  g_free (w); g_free (y); g_free (want);
}

static void
test_gradcheck (void)
{
  MmdnnRng rng;
  EbCtx c;
  float *r, *dw;
  GradcheckInput input;

  mmdnn_rng_init (&rng, 2);
  c.w = gc_random (&rng, V * D, -1, 1);
  c.y = gc_zeros (N * D);
  r = gc_random (&rng, N * D, -1, 1);
  dw = gc_zeros (V * D);

  eb_forward (&c);
  mmdnn_embedding_bag_backward (dw, r, ids, N, L, D);
  /* rows no bag names (1, 4, 6, 8) get nothing; row 2 twice from bag 1 */
  for (int j = 0; j < D; j++) {
    g_assert_cmpfloat (dw[1 * D + j], ==, 0.0f);
    g_assert_cmpfloat (dw[8 * D + j], ==, 0.0f);
  }
  input = (GradcheckInput) { "w", c.w, dw, V * D };
  g_assert_true (gradcheck ("embedding bag", eb_forward, &c, c.y, N * D, r,
                            &input, 1, 1e-2, 2e-3, 1e-2));
  g_free (c.w); g_free (c.y); g_free (r); g_free (dw);
}

static void
test_accumulate (void)
{
  MmdnnRng rng;
  float *dy, *dw1, *dw2;

  mmdnn_rng_init (&rng, 3);
  dy = gc_random (&rng, N * D, -1, 1);
  dw1 = gc_zeros (V * D);
  dw2 = gc_zeros (V * D);
  mmdnn_embedding_bag_backward (dw1, dy, ids, N, L, D);
  mmdnn_embedding_bag_backward (dw2, dy, ids, N, L, D);
  mmdnn_embedding_bag_backward (dw2, dy, ids, N, L, D);
  g_assert_true (check_doubled ("dw", dw1, dw2, V * D));
  mmdnn_embedding_bag_backward (NULL, dy, ids, N, L, D);   /* a no-op */
  g_free (dy); g_free (dw1); g_free (dw2);
}

static void
test_check_ids (void)
{
  const int32_t ok[] = { 0, 10, -1, G_MININT32, 5 };
  GError *err = NULL;

  g_assert_true (mmdnn_embedding_bag_check_ids (ok, G_N_ELEMENTS (ok), V,
                                                &err));
  g_assert_no_error (err);
  g_assert_true (mmdnn_embedding_bag_check_ids (NULL, 0, V, &err));
  g_assert_no_error (err);
  /* an id past the count is not read */
  g_assert_true (mmdnn_embedding_bag_check_ids (ok, 1, 1, &err));
  g_assert_no_error (err);
}

static void
test_init_reset (void)
{
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  MmdnnEmbeddingBag m;
  MmdnnRng rng;
  GError *err = NULL;
  double sum = 0.0, sq = 0.0, mean, var;
  int64_t cnt;

  g_assert_true (mmdnn_embedding_bag_init (&m, ps, "text.emb", 101, 31, &err));
  g_assert_no_error (err);
  g_assert_true (m.weight == mmdnn_param_set_lookup (ps, "text.emb.weight"));
  g_assert_cmpint (m.weight->ndim, ==, 2);
  g_assert_cmpint (m.weight->shape[0], ==, 101);
  g_assert_cmpint (m.weight->shape[1], ==, 31);
  g_assert_true (m.weight->decay);
  g_assert_cmpint (m.vocab, ==, 101);
  g_assert_cmpint (m.dim, ==, 31);

  g_assert_true (mmdnn_param_set_allocate (ps, NULL));
  mmdnn_rng_init (&rng, 4);
  mmdnn_embedding_bag_reset (&m, &rng);
  cnt = m.weight->numel;
  for (int64_t i = 0; i < cnt; i++) {
    sum += m.weight->value[i];
    sq += (double) m.weight->value[i] * m.weight->value[i];
  }
  mean = sum / cnt;
  var = sq / cnt - mean * mean;
  /* N(0, 1) over 3131 draws: standard errors ~0.018 (mean), ~0.025 (var) */
  g_assert_cmpfloat (fabs (mean), <, 0.1);
  g_assert_cmpfloat (fabs (var - 1.0), <, 0.15);
  mmdnn_param_set_free (ps);
}

/* ---- negative tests ---- */

static void
test_id_equals_vocab_n (void)
{
  const int32_t bad[] = { 0, -1, 4, V, 2 };
  GError *err = NULL;

  g_assert_false (mmdnn_embedding_bag_check_ids (bad, G_N_ELEMENTS (bad), V,
                                                 &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_DATA);
  /* the message names the position and the id */
  g_assert_nonnull (strstr (err->message, "ids[3]"));
  g_assert_nonnull (strstr (err->message, "11"));
  g_clear_error (&err);
}

static void
test_id_max_int_n (void)
{
  const int32_t bad[] = { -1, -1, -1, -1, -1, -1, G_MAXINT32 };
  GError *err = NULL;

  g_assert_false (mmdnn_embedding_bag_check_ids (bad, G_N_ELEMENTS (bad), V,
                                                 &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_DATA);
  g_assert_nonnull (strstr (err->message, "ids[6]"));
  g_assert_nonnull (strstr (err->message, "2147483647"));
  g_clear_error (&err);
}

static void
expect_check_ids_invalid (const int32_t *p, int64_t count, int64_t vocab)
{
  GError *err = NULL;

  g_assert_false (mmdnn_embedding_bag_check_ids (p, count, vocab, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
}

static void
test_check_ids_null_n (void)
{
  expect_check_ids_invalid (NULL, 3, V);
}

static void
test_check_ids_count_negative_n (void)
{
  expect_check_ids_invalid (ids, -1, V);
}

static void
test_check_ids_vocab_zero_n (void)
{
  expect_check_ids_invalid (ids, N * L, 0);
}

static void
test_check_ids_vocab_negative_n (void)
{
  expect_check_ids_invalid (ids, N * L, -11);
}

static const MmdnnEmbeddingBag sentinel = { NULL, -7, -7 };

static void
expect_init_fails (MmdnnParamSet *ps, const char *prefix, int64_t vocab,
                   int64_t dim)
{
  MmdnnEmbeddingBag m = sentinel;
  GError *err = NULL;
  guint before = ps != NULL ? ps->params->len : 0;

  g_assert_false (mmdnn_embedding_bag_init (&m, ps, prefix, vocab, dim, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_assert_null (m.weight);
  g_assert_cmpint (m.vocab, ==, -7);
  g_assert_cmpint (m.dim, ==, -7);
  if (ps != NULL)
    g_assert_cmpuint (ps->params->len, ==, before);
  g_clear_error (&err);
}

static void
with_new_set_expect_fails (const char *prefix, int64_t vocab, int64_t dim)
{
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  expect_init_fails (ps, prefix, vocab, dim);
  mmdnn_param_set_free (ps);
}

static void
test_vocab_zero_n (void)
{
  with_new_set_expect_fails ("emb", 0, D);
}

static void
test_vocab_negative_n (void)
{
  with_new_set_expect_fails ("emb", -1, D);
}

static void
test_vocab_too_big_n (void)
{
  /* int32 ids cannot name a row past 2³¹ */
  with_new_set_expect_fails ("emb", (INT64_C (1) << 31) + 1, 1);
}

static void
test_dim_zero_n (void)
{
  with_new_set_expect_fails ("emb", V, 0);
}

static void
test_dim_negative_n (void)
{
  with_new_set_expect_fails ("emb", V, -7);
}

static void
test_table_too_big_n (void)
{
  /* sizes each valid, the table over MMDNN_MAX_NUMEL */
  with_new_set_expect_fails ("emb", INT64_C (1) << 31, INT64_C (1) << 20);
}

static void
test_null_param_set_n (void)
{
  expect_init_fails (NULL, "emb", V, D);
}

static void
test_null_module_n (void)
{
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  GError *err = NULL;

  g_assert_false (mmdnn_embedding_bag_init (NULL, ps, "emb", V, D, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_assert_cmpuint (ps->params->len, ==, 0);
  g_clear_error (&err);
  mmdnn_param_set_free (ps);
}

static void
test_null_prefix_n (void)
{
  with_new_set_expect_fails (NULL, V, D);
}

static void
test_empty_prefix_n (void)
{
  with_new_set_expect_fails ("", V, D);
}

static void
test_duplicate_prefix_n (void)
{
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  MmdnnEmbeddingBag m;

  g_assert_true (mmdnn_embedding_bag_init (&m, ps, "emb", V, D, NULL));
  expect_init_fails (ps, "emb", V, D);
  mmdnn_param_set_free (ps);
}

static void
test_allocated_set_n (void)
{
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  MmdnnEmbeddingBag m;

  g_assert_true (mmdnn_embedding_bag_init (&m, ps, "a", V, D, NULL));
  g_assert_true (mmdnn_param_set_allocate (ps, NULL));
  expect_init_fails (ps, "b", V, D);
  mmdnn_param_set_free (ps);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/embedding/forward", test_forward);
  g_test_add_func ("/embedding/gradcheck", test_gradcheck);
  g_test_add_func ("/embedding/accumulate", test_accumulate);
  g_test_add_func ("/embedding/check-ids", test_check_ids);
  g_test_add_func ("/embedding/init-reset", test_init_reset);

  g_test_add_func ("/embedding/check-ids-equals-vocab_n",
                   test_id_equals_vocab_n);
  g_test_add_func ("/embedding/check-ids-max-int_n", test_id_max_int_n);
  g_test_add_func ("/embedding/check-ids-null_n", test_check_ids_null_n);
  g_test_add_func ("/embedding/check-ids-count-negative_n",
                   test_check_ids_count_negative_n);
  g_test_add_func ("/embedding/check-ids-vocab-zero_n",
                   test_check_ids_vocab_zero_n);
  g_test_add_func ("/embedding/check-ids-vocab-negative_n",
                   test_check_ids_vocab_negative_n);
  g_test_add_func ("/embedding/init-vocab-zero_n", test_vocab_zero_n);
  g_test_add_func ("/embedding/init-vocab-negative_n", test_vocab_negative_n);
  g_test_add_func ("/embedding/init-vocab-too-big_n", test_vocab_too_big_n);
  g_test_add_func ("/embedding/init-dim-zero_n", test_dim_zero_n);
  g_test_add_func ("/embedding/init-dim-negative_n", test_dim_negative_n);
  g_test_add_func ("/embedding/init-table-too-big_n", test_table_too_big_n);
  g_test_add_func ("/embedding/init-null-param-set_n", test_null_param_set_n);
  g_test_add_func ("/embedding/init-null-module_n", test_null_module_n);
  g_test_add_func ("/embedding/init-null-prefix_n", test_null_prefix_n);
  g_test_add_func ("/embedding/init-empty-prefix_n", test_empty_prefix_n);
  g_test_add_func ("/embedding/init-duplicate-prefix_n",
                   test_duplicate_prefix_n);
  g_test_add_func ("/embedding/init-allocated-set_n", test_allocated_set_n);

  return g_test_run ();
}
