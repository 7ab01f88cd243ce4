/* mmdnn — GEMM through OpenBLAS, and the reference it is tested against.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdatomic.h>
#include <cblas.h>

#include <mmdnn/blas.h>
#include "internal.h"

/* Not in Debian's cblas.h for every flavour; OpenBLAS always exports them. */
extern void  openblas_set_num_threads (int num_threads);
extern int   openblas_get_num_threads (void);
extern char *openblas_get_corename (void);

static atomic_bool profile_enabled;
static _Atomic int64_t profile_usec;

void
mmdnn_gemm (MmdnnTranspose ta, MmdnnTranspose tb, int64_t m, int64_t n,
            int64_t k, float alpha, const float *a, int64_t lda,
            const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
  gint64 start = 0;

  if (G_UNLIKELY (atomic_load_explicit (&profile_enabled,
                                        memory_order_relaxed)))
    start = g_get_monotonic_time ();
  cblas_sgemm (CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
               tb ? CblasTrans : CblasNoTrans, (blasint) m, (blasint) n,
               (blasint) k, alpha, a, (blasint) lda, b, (blasint) ldb, beta, c,
               (blasint) ldc);
  if (G_UNLIKELY (start != 0))
    atomic_fetch_add (&profile_usec, g_get_monotonic_time () - start);
}

void
mmdnn_gemm_profile_enable (gboolean enable)
{
  atomic_store (&profile_enabled, enable);
}

void
mmdnn_gemm_profile_reset (void)
{
  atomic_store (&profile_usec, 0);
}

double
mmdnn_gemm_profile_seconds (void)
{
  return (double) atomic_load (&profile_usec) / 1e6;
}

void
mmdnn_gemm_reference (MmdnnTranspose ta, MmdnnTranspose tb, int64_t m,
                      int64_t n, int64_t k, float alpha, const float *a,
                      int64_t lda, const float *b, int64_t ldb, float beta,
                      float *c, int64_t ldc)
{
  for (int64_t i = 0; i < m; i++) {
    for (int64_t j = 0; j < n; j++) {
      double acc = 0.0;
      for (int64_t p = 0; p < k; p++) {
        float av = ta ? a[p * lda + i] : a[i * lda + p];
        float bv = tb ? b[j * ldb + p] : b[p * ldb + j];
        acc += (double) av * (double) bv;
      }
      acc *= alpha;
      if (beta != 0.0f)
        acc += (double) beta * (double) c[i * ldc + j];
      c[i * ldc + j] = (float) acc;
    }
  }
}

gboolean
mmdnn_gemm_check (MmdnnTranspose ta, MmdnnTranspose tb, int64_t m, int64_t n,
                  int64_t k, const float *a, int64_t lda, const float *b,
                  int64_t ldb, const float *c, int64_t ldc, GError **error)
{
  MMDNN_CHECK_NOT_NULL (a, error, FALSE);
  MMDNN_CHECK_NOT_NULL (b, error, FALSE);
  MMDNN_CHECK_NOT_NULL (c, error, FALSE);
  MMDNN_CHECK (m >= 1 && n >= 1 && k >= 1, error, FALSE,
               "gemm: sizes must be positive, got m=%" G_GINT64_FORMAT
               " n=%" G_GINT64_FORMAT " k=%" G_GINT64_FORMAT, m, n, k);
  MMDNN_CHECK (m <= G_MAXINT32 && n <= G_MAXINT32 && k <= G_MAXINT32, error,
               FALSE, "gemm: a size exceeds the 32-bit range of BLAS");
  MMDNN_CHECK (lda >= (ta ? m : k) && lda <= G_MAXINT32, error, FALSE,
               "gemm: lda=%" G_GINT64_FORMAT " is smaller than the %s (%"
               G_GINT64_FORMAT ")", lda, ta ? "m" : "k", ta ? m : k);
  MMDNN_CHECK (ldb >= (tb ? k : n) && ldb <= G_MAXINT32, error, FALSE,
               "gemm: ldb=%" G_GINT64_FORMAT " is smaller than the %s (%"
               G_GINT64_FORMAT ")", ldb, tb ? "k" : "n", tb ? k : n);
  MMDNN_CHECK (ldc >= n && ldc <= G_MAXINT32, error, FALSE,
               "gemm: ldc=%" G_GINT64_FORMAT " is smaller than n (%"
               G_GINT64_FORMAT ")", ldc, n);
  return TRUE;
}

void
mmdnn_blas_set_threads (int n)
{
  openblas_set_num_threads (n < 1 ? 1 : n);
}

int
mmdnn_blas_get_threads (void)
{
  return openblas_get_num_threads ();
}

const char *
mmdnn_blas_core_name (void)
{
  return openblas_get_corename ();
}
