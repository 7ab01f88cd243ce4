/* mmdnn — a seeded, portable random number generator.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <mmdnn/error.h>

G_BEGIN_DECLS

/* xoshiro256** seeded through splitmix64: the same seed gives the same
 * stream on every platform and compiler, unlike rand(). All floating-point
 * draws are derived with exact integer arithmetic plus IEEE operations, so a
 * run is reproducible bit for bit on one machine. */
typedef struct {
  uint64_t s[4];
  gboolean have_spare;          /* Box–Muller makes normals in pairs */
  double   spare;
} MmdnnRng;

MMDNN_API void     mmdnn_rng_init (MmdnnRng *rng, uint64_t seed);
MMDNN_API uint64_t mmdnn_rng_next_u64 (MmdnnRng *rng);
/* uniform in [0, 1), 53 random bits */
MMDNN_API double   mmdnn_rng_uniform (MmdnnRng *rng);
/* uniform in [0, bound) without modulo bias; bound > 0 */
MMDNN_API uint64_t mmdnn_rng_below (MmdnnRng *rng, uint64_t bound);
/* standard normal */
MMDNN_API double   mmdnn_rng_normal (MmdnnRng *rng);
/* x[i] ~ U[lo, hi) */
MMDNN_API void     mmdnn_rng_fill_uniform (MmdnnRng *rng, float *x, int64_t n,
                                           float lo, float hi);
/* x[i] ~ N(mean, std²) */
MMDNN_API void     mmdnn_rng_fill_normal (MmdnnRng *rng, float *x, int64_t n,
                                          float mean, float std);
/* Fisher–Yates shuffle of idx[0..n) */
MMDNN_API void     mmdnn_rng_shuffle (MmdnnRng *rng, int64_t *idx, int64_t n);

G_END_DECLS
