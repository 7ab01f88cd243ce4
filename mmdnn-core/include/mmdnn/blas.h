/* mmdnn — matrix multiplication.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <mmdnn/error.h>

G_BEGIN_DECLS

typedef enum {
  MMDNN_NO_TRANS = 0,
  MMDNN_TRANS = 1,
} MmdnnTranspose;

/* C = alpha · op(A) · op(B) + beta · C, all row-major.
 *   op(A): (M, K)   op(B): (K, N)   C: (M, N)
 *   A is stored (M, K) with leading dimension lda if ta == NO_TRANS, else (K, M);
 *   likewise B is (K, N) or (N, K) with ldb; C is (M, N) with ldc.
 * With beta == 0, C is overwritten (NaNs in C do not propagate).
 * mmdnn_gemm goes to OpenBLAS; mmdnn_gemm_reference is a plain loop that
 * accumulates in double, always compiled, that tests hold the fast one to.
 * Arguments are trusted: check them once with mmdnn_gemm_check (). */
MMDNN_API void mmdnn_gemm (MmdnnTranspose ta, MmdnnTranspose tb,
                           int64_t m, int64_t n, int64_t k,
                           float alpha, const float *a, int64_t lda,
                           const float *b, int64_t ldb,
                           float beta, float *c, int64_t ldc);

MMDNN_API void mmdnn_gemm_reference (MmdnnTranspose ta, MmdnnTranspose tb,
                                     int64_t m, int64_t n, int64_t k,
                                     float alpha, const float *a, int64_t lda,
                                     const float *b, int64_t ldb,
                                     float beta, float *c, int64_t ldc);

/* Validates the arguments of a gemm call: sizes ≥ 1 and within the 32-bit
 * range OpenBLAS takes, leading dimensions large enough, no NULL pointer. */
MMDNN_API gboolean mmdnn_gemm_check (MmdnnTranspose ta, MmdnnTranspose tb,
                                     int64_t m, int64_t n, int64_t k,
                                     const float *a, int64_t lda,
                                     const float *b, int64_t ldb,
                                     const float *c, int64_t ldc,
                                     GError **error);

/* Opt-in accounting of the wall time spent inside mmdnn_gemm, for
 * benchmarks that report the share of time in GEMM. Off by default (then
 * mmdnn_gemm costs one branch more); counts all threads together. */
MMDNN_API void   mmdnn_gemm_profile_enable (gboolean enable);
MMDNN_API void   mmdnn_gemm_profile_reset (void);
MMDNN_API double mmdnn_gemm_profile_seconds (void);

/* OpenBLAS threads used by every GEMM in the process. */
MMDNN_API void        mmdnn_blas_set_threads (int n);
MMDNN_API int         mmdnn_blas_get_threads (void);
/* The kernel family OpenBLAS picked at run time, e.g. "Haswell". */
MMDNN_API const char *mmdnn_blas_core_name (void);

G_END_DECLS
