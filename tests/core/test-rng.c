/* The seeded RNG: a fixed, portable stream and sane distributions.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <string.h>
#include <mmdnn/rng.h>

static void
test_rng_known_stream (void)
{
  /* xoshiro256** seeded by splitmix64(42), from an independent
   * implementation: pins the stream so runs reproduce across builds. */
  MmdnnRng rng;

  mmdnn_rng_init (&rng, 42);
  g_assert_cmphex (mmdnn_rng_next_u64 (&rng), ==, G_GUINT64_CONSTANT (0x15780b2e0c2ec716));
  g_assert_cmphex (mmdnn_rng_next_u64 (&rng), ==, G_GUINT64_CONSTANT (0x6104d9866d113a7e));
  g_assert_cmphex (mmdnn_rng_next_u64 (&rng), ==, G_GUINT64_CONSTANT (0xae17533239e499a1));
}

static void
test_rng_same_seed_same_floats (void)
{
  MmdnnRng a, b;
  float x[257], y[257];

  mmdnn_rng_init (&a, 7);
  mmdnn_rng_init (&b, 7);
  mmdnn_rng_fill_normal (&a, x, 257, 0.5f, 2.0f);
  mmdnn_rng_fill_normal (&b, y, 257, 0.5f, 2.0f);
  g_assert_cmpmem (x, sizeof x, y, sizeof y);
  mmdnn_rng_init (&b, 8);
  mmdnn_rng_fill_normal (&b, y, 257, 0.5f, 2.0f);
  g_assert_true (memcmp (x, y, sizeof x) != 0);
}

static void
test_rng_uniform_moments (void)
{
  MmdnnRng rng;
  const int n = 200000;
  double sum = 0, sum2 = 0, lo = 1, hi = 0;

  mmdnn_rng_init (&rng, 1);
  for (int i = 0; i < n; i++) {
    double u = mmdnn_rng_uniform (&rng);
    sum += u;
    sum2 += u * u;
    lo = MIN (lo, u);
    hi = MAX (hi, u);
  }
  g_assert_cmpfloat (lo, >=, 0.0);
  g_assert_cmpfloat (hi, <, 1.0);
  g_assert_cmpfloat_with_epsilon (sum / n, 0.5, 0.005);
  g_assert_cmpfloat_with_epsilon (sum2 / n - (sum / n) * (sum / n), 1.0 / 12, 0.002);
}

static void
test_rng_normal_moments (void)
{
  MmdnnRng rng;
  const int n = 200000;
  double sum = 0, sum2 = 0;

  mmdnn_rng_init (&rng, 2);
  for (int i = 0; i < n; i++) {
    double z = mmdnn_rng_normal (&rng);
    sum += z;
    sum2 += z * z;
  }
  g_assert_cmpfloat_with_epsilon (sum / n, 0.0, 0.01);
  g_assert_cmpfloat_with_epsilon (sum2 / n, 1.0, 0.02);
}

static void
test_rng_below_unbiased (void)
{
  MmdnnRng rng;
  int counts[7] = { 0 };
  const int n = 70000;

  mmdnn_rng_init (&rng, 3);
  for (int i = 0; i < n; i++) {
    uint64_t r = mmdnn_rng_below (&rng, 7);
    g_assert_cmpuint (r, <, 7);
    counts[r]++;
  }
  for (int k = 0; k < 7; k++)
    g_assert_cmpint (ABS (counts[k] - n / 7), <, 400);  /* ~5 sigma */
  g_assert_cmpuint (mmdnn_rng_below (&rng, 1), ==, 0);
  g_assert_cmpuint (mmdnn_rng_below (&rng, 0), ==, 0);
}

static void
test_rng_shuffle_permutation (void)
{
  MmdnnRng rng;
  int64_t idx[50];
  gboolean seen[50] = { FALSE };
  int moved = 0;

  mmdnn_rng_init (&rng, 4);
  for (int i = 0; i < 50; i++)
    idx[i] = i;
  mmdnn_rng_shuffle (&rng, idx, 50);
  for (int i = 0; i < 50; i++) {
    g_assert_false (seen[idx[i]]);
    seen[idx[i]] = TRUE;
    moved += idx[i] != i;
  }
  g_assert_cmpint (moved, >, 30);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rng/known-stream", test_rng_known_stream);
  g_test_add_func ("/rng/same-seed-same-floats", test_rng_same_seed_same_floats);
  g_test_add_func ("/rng/uniform-moments", test_rng_uniform_moments);
  g_test_add_func ("/rng/normal-moments", test_rng_normal_moments);
  g_test_add_func ("/rng/below-unbiased", test_rng_below_unbiased);
  g_test_add_func ("/rng/shuffle-permutation", test_rng_shuffle_permutation);
  return g_test_run ();
}
