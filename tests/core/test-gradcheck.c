/* The gradient checker itself must fail on wrong gradients, or every layer
 * test built on it proves nothing.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include "gradcheck.h"

#define N 7

typedef struct {
  float x[N], y[N];
  gboolean relu;
} Ctx;

/* y = x³ (smooth) or relu(x) (kink at 0) */
static void
forward (void *data)
{
  Ctx *c = data;
  for (int i = 0; i < N; i++)
    c->y[i] = c->relu ? MAX (c->x[i], 0.0f) : c->x[i] * c->x[i] * c->x[i];
}

static void
setup (Ctx *c, float *r, float *grad, float wrong_factor)
{
  MmdnnRng rng;

  mmdnn_rng_init (&rng, 5);
  mmdnn_rng_fill_uniform (&rng, c->x, N, -1.5f, 1.5f);
  mmdnn_rng_fill_uniform (&rng, r, N, -1, 1);
  for (int i = 0; i < N; i++)
    grad[i] = r[i] * 3 * c->x[i] * c->x[i] * (i == 3 ? wrong_factor : 1.0f);
}

static void
test_gradcheck_accepts_right (void)
{
  Ctx c = { .relu = FALSE };
  float r[N], grad[N];
  GradcheckInput in = { "x", c.x, grad, N };

  setup (&c, r, grad, 1.0f);
  g_assert_true (gradcheck ("cube", forward, &c, c.y, N, r, &in, 1, 1e-2, 1e-3, 1e-2));
}

static void
test_gradcheck_rejects_wrong_n (void)
{
  Ctx c = { .relu = FALSE };
  float r[N], grad[N];
  GradcheckInput in = { "x", c.x, grad, N };

  /* one element off by 10 %: must be caught */
  setup (&c, r, grad, 1.1f);
  g_assert_false (gradcheck ("cube-wrong", forward, &c, c.y, N, r, &in, 1, 1e-2, 1e-3, 1e-2));
}

static void
test_gradcheck_skips_isolated_kink (void)
{
  /* an element at ReLU's kink is skipped, not compared; 1 in 7 is over the
   * 10 % allowance, so the check reports it, and passes once it moves off */
  Ctx c = { .relu = TRUE };
  float r[N], grad[N];
  GradcheckInput in = { "x", c.x, grad, N };
  const float xs[N] = { -0.9f, 0.7f, 0.0f, 1.2f, -0.3f, 0.4f, 0.8f };

  setup (&c, r, grad, 1.0f);
  for (int i = 0; i < N; i++) {
    c.x[i] = xs[i];
    grad[i] = xs[i] > 0 ? r[i] : 0.0f;
  }
  g_assert_false (gradcheck ("relu-kink", forward, &c, c.y, N, r, &in, 1, 1e-2, 1e-3, 1e-2));
  c.x[2] = 0.5f;
  grad[2] = r[2];
  g_assert_true (gradcheck ("relu", forward, &c, c.y, N, r, &in, 1, 1e-2, 1e-3, 1e-2));
}

static void
test_check_close_catches_nan_n (void)
{
  const float want[3] = { 1, 2, 3 }, got[3] = { 1, NAN, 3 };

  g_assert_false (check_close ("nan", got, want, 3, 1e-3));
  g_assert_true (check_close ("same", want, want, 3, 0));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/gradcheck/accepts-right", test_gradcheck_accepts_right);
  g_test_add_func ("/gradcheck/rejects-wrong_n", test_gradcheck_rejects_wrong_n);
  g_test_add_func ("/gradcheck/kink-handling", test_gradcheck_skips_isolated_kink);
  g_test_add_func ("/gradcheck/check-close-nan_n", test_check_close_catches_nan_n);
  return g_test_run ();
}
