/* Finite-difference gradient checks and tensor comparison for core tests.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <glib.h>
#include <mmdnn/rng.h>

/* Recomputes the outputs of the layer under test from its current inputs. */
typedef void (*GradcheckForward) (void *ctx);

/* One input or parameter whose analytic gradient is checked: the check
 * perturbs x[i] in place (and restores it) and compares the central
 * difference of L with grad[i]. */
typedef struct {
  const char  *name;
  float       *x;
  const float *grad;
  int64_t      n;
} GradcheckInput;

/* The scalar test loss is L = Σ r ⊙ y (in double), with y the output of
 * forward () and r a fixed random weighting: so dL/dy = r, which the test
 * passes as the upstream gradient to backward before calling this.
 *
 * For every element of every input: numeric = (L(x+ε) − L(x−ε)) / 2ε must
 * match grad within atol + rtol·|numeric|. Elements at a kink (ReLU at 0, a
 * max-pool tie) are skipped the way ggml does: when the one-sided differences
 * disagree by more than their mean, the point is not differentiable. More
 * than 10 % skipped fails the check. Prints the worst element on failure.
 * Returns TRUE when every checked element matches. */
gboolean gradcheck (const char *label, GradcheckForward forward, void *ctx,
                    const float *y, int64_t ny, const float *r,
                    GradcheckInput *inputs, int n_inputs,
                    double eps, double atol, double rtol);

/* Max-abs-diff comparison; prints the first mismatches and the worst
 * element with @label when it exceeds @tol. */
gboolean check_close (const char *label, const float *got, const float *want,
                      int64_t n, double tol);

/* The accumulation contract: backward run twice onto the same gradients
 * gives 2× the once-result. Allows rounding of 1e-6 of the largest value,
 * since a gradient that sums several terms rounds each += on its own. */
gboolean check_doubled (const char *label, const float *once,
                        const float *twice, int64_t n);

/* Test data helpers. */
float *gc_random (MmdnnRng *rng, int64_t n, float lo, float hi);  /* g_free */
float *gc_zeros (int64_t n);                                       /* g_free */
