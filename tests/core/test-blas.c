/* mmdnn_gemm (OpenBLAS) against the reference loop, and its argument checks.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <mmdnn/blas.h>
#include "gradcheck.h"

static void
run_case (MmdnnRng *rng, MmdnnTranspose ta, MmdnnTranspose tb, int64_t m,
          int64_t n, int64_t k, int64_t pad, float alpha, float beta)
{
  /* leading dimensions padded by @pad to exercise strided access */
  int64_t lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
  int64_t na = (ta ? k : m) * lda, nb = (tb ? n : k) * ldb, nc = m * ldc;
  float *a = gc_random (rng, na, -1, 1), *b = gc_random (rng, nb, -1, 1);
  float *c = gc_random (rng, nc, -1, 1), *ref = g_memdup2 (c, nc * sizeof (float));
  char *label = g_strdup_printf ("gemm %c%c m=%" G_GINT64_FORMAT " n=%"
                                 G_GINT64_FORMAT " k=%" G_GINT64_FORMAT
                                 " pad=%" G_GINT64_FORMAT " beta=%g",
                                 ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, pad,
                                 beta);

  g_assert_true (mmdnn_gemm_check (ta, tb, m, n, k, a, lda, b, ldb, c, ldc, NULL));
  mmdnn_gemm (ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  mmdnn_gemm_reference (ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, ref, ldc);
  /* float accumulation over k terms of magnitude ≤ 1 */
  g_assert_true (check_close (label, c, ref, nc, 2e-6 * (k + 2)));
  g_free (label);
  g_free (a);
  g_free (b);
  g_free (c);
  g_free (ref);
}

static void
test_gemm_odd_shapes (void)
{
  const int64_t sizes[][3] = {
    { 1, 1, 1 }, { 1, 7, 3 }, { 5, 1, 11 }, { 13, 17, 1 }, { 7, 11, 13 },
    { 31, 37, 41 }, { 64, 65, 63 }, { 97, 3, 211 },
  };
  MmdnnRng rng;

  mmdnn_rng_init (&rng, 11);
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    for (int ta = 0; ta < 2; ta++)
      for (int tb = 0; tb < 2; tb++)
        run_case (&rng, ta, tb, sizes[i][0], sizes[i][1], sizes[i][2],
                  i % 3, 1.0f, 0.0f);
}

static void
test_gemm_alpha_beta (void)
{
  MmdnnRng rng;

  mmdnn_rng_init (&rng, 12);
  run_case (&rng, MMDNN_NO_TRANS, MMDNN_TRANS, 9, 10, 11, 1, 0.5f, 1.0f);
  run_case (&rng, MMDNN_TRANS, MMDNN_NO_TRANS, 9, 10, 11, 0, -2.0f, 0.25f);
}

static void
test_gemm_beta_zero_ignores_nan (void)
{
  /* beta == 0 overwrites C: stale NaNs in a scratch buffer must not leak */
  float a[4] = { 1, 2, 3, 4 }, b[4] = { 1, 0, 0, 1 };
  float c[4] = { NAN, NAN, NAN, NAN }, ref[4] = { NAN, NAN, NAN, NAN };

  mmdnn_gemm (MMDNN_NO_TRANS, MMDNN_NO_TRANS, 2, 2, 2, 1, a, 2, b, 2, 0, c, 2);
  mmdnn_gemm_reference (MMDNN_NO_TRANS, MMDNN_NO_TRANS, 2, 2, 2, 1, a, 2, b, 2, 0, ref, 2);
  g_assert_true (check_close ("identity", c, a, 4, 0));
  g_assert_true (check_close ("identity-ref", ref, a, 4, 0));
}

static void
test_blas_threads (void)
{
  int before = mmdnn_blas_get_threads ();

  mmdnn_blas_set_threads (1);
  g_assert_cmpint (mmdnn_blas_get_threads (), ==, 1);
  mmdnn_blas_set_threads (0);         /* clamped, never 0 threads */
  g_assert_cmpint (mmdnn_blas_get_threads (), ==, 1);
  mmdnn_blas_set_threads (before);
  g_assert_nonnull (mmdnn_blas_core_name ());
}

static void
test_gemm_profile (void)
{
  static float a[256 * 256], b[256 * 256], c[256 * 256];
  double t;

  mmdnn_gemm_profile_reset ();
  mmdnn_gemm (MMDNN_NO_TRANS, MMDNN_NO_TRANS, 256, 256, 256, 1, a, 256, b, 256, 0, c, 256);
  g_assert_cmpfloat (mmdnn_gemm_profile_seconds (), ==, 0.0);   /* off by default */
  mmdnn_gemm_profile_enable (TRUE);
  for (int i = 0; i < 20; i++)
    mmdnn_gemm (MMDNN_NO_TRANS, MMDNN_NO_TRANS, 256, 256, 256, 1, a, 256, b, 256, 0, c, 256);
  mmdnn_gemm_profile_enable (FALSE);
  t = mmdnn_gemm_profile_seconds ();
  g_assert_cmpfloat (t, >, 0.0);
  mmdnn_gemm (MMDNN_NO_TRANS, MMDNN_NO_TRANS, 256, 256, 256, 1, a, 256, b, 256, 0, c, 256);
  g_assert_cmpfloat (mmdnn_gemm_profile_seconds (), ==, t);    /* off again */
  mmdnn_gemm_profile_reset ();
  g_assert_cmpfloat (mmdnn_gemm_profile_seconds (), ==, 0.0);
}

static float dummy[64];

#define ASSERT_GEMM_FAILS(...) G_STMT_START {                                 \
    GError *err = NULL;                                                       \
    g_assert_false (mmdnn_gemm_check (__VA_ARGS__, &err));                    \
    g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);          \
    g_clear_error (&err);                                                     \
  } G_STMT_END

static void
test_gemm_zero_size_n (void)
{
  ASSERT_GEMM_FAILS (MMDNN_NO_TRANS, MMDNN_NO_TRANS, 0, 2, 2, dummy, 2, dummy, 2, dummy, 2);
  ASSERT_GEMM_FAILS (MMDNN_NO_TRANS, MMDNN_NO_TRANS, 2, 0, 2, dummy, 2, dummy, 2, dummy, 2);
  ASSERT_GEMM_FAILS (MMDNN_NO_TRANS, MMDNN_NO_TRANS, 2, 2, -1, dummy, 2, dummy, 2, dummy, 2);
}

static void
test_gemm_null_n (void)
{
  ASSERT_GEMM_FAILS (MMDNN_NO_TRANS, MMDNN_NO_TRANS, 2, 2, 2, NULL, 2, dummy, 2, dummy, 2);
  ASSERT_GEMM_FAILS (MMDNN_NO_TRANS, MMDNN_NO_TRANS, 2, 2, 2, dummy, 2, NULL, 2, dummy, 2);
  ASSERT_GEMM_FAILS (MMDNN_NO_TRANS, MMDNN_NO_TRANS, 2, 2, 2, dummy, 2, dummy, 2, NULL, 2);
}

static void
test_gemm_small_lda_n (void)
{
  /* A is (3, 5) untransposed: lda must be ≥ k = 5; transposed it is (5, 3) */
  ASSERT_GEMM_FAILS (MMDNN_NO_TRANS, MMDNN_NO_TRANS, 3, 4, 5, dummy, 4, dummy, 4, dummy, 4);
  ASSERT_GEMM_FAILS (MMDNN_TRANS, MMDNN_NO_TRANS, 3, 4, 5, dummy, 2, dummy, 4, dummy, 4);
}

static void
test_gemm_small_ldb_ldc_n (void)
{
  ASSERT_GEMM_FAILS (MMDNN_NO_TRANS, MMDNN_NO_TRANS, 3, 4, 5, dummy, 5, dummy, 3, dummy, 4);
  ASSERT_GEMM_FAILS (MMDNN_NO_TRANS, MMDNN_TRANS, 3, 4, 5, dummy, 5, dummy, 4, dummy, 4);
  ASSERT_GEMM_FAILS (MMDNN_NO_TRANS, MMDNN_NO_TRANS, 3, 4, 5, dummy, 5, dummy, 4, dummy, 3);
}

static void
test_gemm_too_large_n (void)
{
  ASSERT_GEMM_FAILS (MMDNN_NO_TRANS, MMDNN_NO_TRANS, G_GINT64_CONSTANT (1) << 32, 2, 2,
                     dummy, 2, dummy, 2, dummy, 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/blas/gemm-odd-shapes", test_gemm_odd_shapes);
  g_test_add_func ("/blas/gemm-alpha-beta", test_gemm_alpha_beta);
  g_test_add_func ("/blas/gemm-beta-zero-ignores-nan", test_gemm_beta_zero_ignores_nan);
  g_test_add_func ("/blas/threads", test_blas_threads);
  g_test_add_func ("/blas/gemm-profile", test_gemm_profile);
  g_test_add_func ("/blas/gemm-zero-size_n", test_gemm_zero_size_n);
  g_test_add_func ("/blas/gemm-null_n", test_gemm_null_n);
  g_test_add_func ("/blas/gemm-small-lda_n", test_gemm_small_lda_n);
  g_test_add_func ("/blas/gemm-small-ldb-ldc_n", test_gemm_small_ldb_ldc_n);
  g_test_add_func ("/blas/gemm-too-large_n", test_gemm_too_large_n);
  return g_test_run ();
}
