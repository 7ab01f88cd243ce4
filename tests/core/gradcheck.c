/* Finite-difference gradient checks and tensor comparison for core tests.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <stdio.h>

#include "gradcheck.h"

static double
weighted_sum (GradcheckForward forward, void *ctx, const float *y, int64_t ny,
              const float *r)
{
  double l = 0.0;
  forward (ctx);
  for (int64_t i = 0; i < ny; i++)
    l += (double) r[i] * (double) y[i];
  return l;
}

gboolean
gradcheck (const char *label, GradcheckForward forward, void *ctx,
           const float *y, int64_t ny, const float *r,
           GradcheckInput *inputs, int n_inputs, double eps, double atol,
           double rtol)
{
  gboolean ok = TRUE;

  for (int t = 0; t < n_inputs; t++) {
    GradcheckInput *in = &inputs[t];
    int64_t skipped = 0, worst_i = -1;
    double worst = 0.0, worst_num = 0.0;

    for (int64_t i = 0; i < in->n; i++) {
      float saved = in->x[i];
      double lp, lm, l0, num, dp, dm, err;
      float xp = (float) (saved + eps), xm = (float) (saved - eps);
      /* the step actually taken in float, not the nominal one */
      double h = ((double) xp - (double) xm) / 2.0;

      in->x[i] = xp;
      lp = weighted_sum (forward, ctx, y, ny, r);
      in->x[i] = xm;
      lm = weighted_sum (forward, ctx, y, ny, r);
      in->x[i] = saved;
      l0 = weighted_sum (forward, ctx, y, ny, r);

      num = (lp - lm) / (2.0 * h);
      dp = (lp - l0) / h;
      dm = (l0 - lm) / h;
      if (fabs (dp - dm) > atol + 0.5 * (fabs (dp) + fabs (dm))) {
        skipped++;
        continue;
      }
      err = fabs (num - (double) in->grad[i]) - rtol * fabs (num);
      if (err > worst || worst_i < 0) {
        worst = err;
        worst_i = i;
        worst_num = num;
      }
    }
    if (worst_i >= 0 && worst > atol) {
      fprintf (stderr, "%s: d/d%s[%" G_GINT64_FORMAT "]: analytic %.8g, "
               "numeric %.8g (n=%" G_GINT64_FORMAT ")\n", label, in->name,
               worst_i, (double) in->grad[worst_i], worst_num, in->n);
      ok = FALSE;
    }
    if (skipped * 10 > in->n) {
      fprintf (stderr, "%s: d/d%s: %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT
               " elements at a kink; move the test input away from them\n",
               label, in->name, skipped, in->n);
      ok = FALSE;
    }
  }
  return ok;
}

gboolean
check_close (const char *label, const float *got, const float *want,
             int64_t n, double tol)
{
  double maxdiff = 0.0;
  int64_t worst = 0, shown = 0;

  for (int64_t i = 0; i < n; i++) {
    double d = fabs ((double) got[i] - (double) want[i]);
    if (isnan (got[i]) != isnan (want[i]))
      d = INFINITY;
    if (d > tol && shown < 5) {
      fprintf (stderr, "%s[%" G_GINT64_FORMAT "]: got %.8g, want %.8g\n",
               label, i, (double) got[i], (double) want[i]);
      shown++;
    }
    if (d > maxdiff || (isnan (d) && !isnan (maxdiff))) {
      maxdiff = d;
      worst = i;
    }
  }
  if (maxdiff > tol) {
    fprintf (stderr, "%s: maxdiff %.3g at [%" G_GINT64_FORMAT "] (tol %.3g, "
             "n=%" G_GINT64_FORMAT ")\n", label, maxdiff, worst, tol, n);
    return FALSE;
  }
  return TRUE;
}

gboolean
check_doubled (const char *label, const float *once, const float *twice,
               int64_t n)
{
  double scale = 0.0, worst = 0.0;
  int64_t worst_i = 0;

  for (int64_t i = 0; i < n; i++) {
    double d = fabs ((double) twice[i] - 2.0 * once[i]);
    scale = MAX (scale, fabs (2.0 * once[i]));
    if (d > worst || isnan (d)) {
      worst = isnan (d) ? INFINITY : d;
      worst_i = i;
    }
  }
  if (worst > 1e-6 * scale) {
    fprintf (stderr, "%s[%" G_GINT64_FORMAT "]: backward twice gives %.9g, "
             "want 2 × %.9g (off by %g, scale %g)\n", label, worst_i,
             (double) twice[worst_i], (double) once[worst_i], worst, scale);
    return FALSE;
  }
  return TRUE;
}

float *
gc_random (MmdnnRng *rng, int64_t n, float lo, float hi)
{
  float *x = g_new (float, n);
  mmdnn_rng_fill_uniform (rng, x, n, lo, hi);
  return x;
}

float *
gc_zeros (int64_t n)
{
  return g_new0 (float, n);
}
