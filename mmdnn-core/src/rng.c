/* mmdnn — xoshiro256** with splitmix64 seeding.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>

#include <mmdnn/rng.h>

static uint64_t
splitmix64 (uint64_t *x)
{
  uint64_t z = (*x += UINT64_C (0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * UINT64_C (0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C (0x94d049bb133111eb);
  return z ^ (z >> 31);
}

static inline uint64_t
rotl (uint64_t x, int k)
{
  return (x << k) | (x >> (64 - k));
}

void
mmdnn_rng_init (MmdnnRng *rng, uint64_t seed)
{
  uint64_t x = seed;
  for (int i = 0; i < 4; i++)
    rng->s[i] = splitmix64 (&x);
  rng->have_spare = FALSE;
  rng->spare = 0.0;
}

uint64_t
mmdnn_rng_next_u64 (MmdnnRng *rng)
{
  uint64_t *s = rng->s;
  uint64_t result = rotl (s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl (s[3], 45);
  return result;
}

double
mmdnn_rng_uniform (MmdnnRng *rng)
{
  return (double) (mmdnn_rng_next_u64 (rng) >> 11) * 0x1.0p-53;
}

uint64_t
mmdnn_rng_below (MmdnnRng *rng, uint64_t bound)
{
  /* Lemire's nearly-divisionless method would need 128-bit products; plain
   * rejection of the biased tail is portable and just as exact. */
  uint64_t limit, r;
  if (bound <= 1)
    return 0;
  limit = UINT64_MAX - (UINT64_MAX % bound);
  do
    r = mmdnn_rng_next_u64 (rng);
  while (r >= limit);
  return r % bound;
}

double
mmdnn_rng_normal (MmdnnRng *rng)
{
  double u1, u2, r;
  if (rng->have_spare) {
    rng->have_spare = FALSE;
    return rng->spare;
  }
  do
    u1 = mmdnn_rng_uniform (rng);
  while (u1 <= 0.0);
  u2 = mmdnn_rng_uniform (rng);
  r = sqrt (-2.0 * log (u1));
  rng->spare = r * sin (2.0 * G_PI * u2);
  rng->have_spare = TRUE;
  return r * cos (2.0 * G_PI * u2);
}

void
mmdnn_rng_fill_uniform (MmdnnRng *rng, float *x, int64_t n, float lo, float hi)
{
  for (int64_t i = 0; i < n; i++)
    x[i] = (float) (lo + (hi - lo) * mmdnn_rng_uniform (rng));
}

void
mmdnn_rng_fill_normal (MmdnnRng *rng, float *x, int64_t n, float mean,
                       float std)
{
  for (int64_t i = 0; i < n; i++)
    x[i] = (float) (mean + std * mmdnn_rng_normal (rng));
}

void
mmdnn_rng_shuffle (MmdnnRng *rng, int64_t *idx, int64_t n)
{
  for (int64_t i = n - 1; i > 0; i--) {
    int64_t j = (int64_t) mmdnn_rng_below (rng, (uint64_t) i + 1);
    int64_t t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
}
