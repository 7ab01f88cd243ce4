/* mmdnn — the core library of the mmdnn multimodal network.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A short tour
 * ============
 *
 * Shapes. Tensors are dense float32, contiguous and row-major, with shapes
 * written outermost first: a batch of images is (N, C, H, W), a batch of
 * token sequences (N, T, D). This is NumPy's and PyTorch's order, so
 * reference data from PyTorch loads without transposes (and it is *not*
 * ggml's order, whose ne[0] is the innermost dimension).
 *
 * Kernels. Every layer is a pair of pure functions:
 *
 *     mmdnn_linear_forward  (y, x, w, b, n, in, out);
 *     mmdnn_linear_backward (dx, dw, db, dy, x, w, n, in, out);
 *
 * outputs first, then saved state, then inputs, then sizes. Backward
 * accumulates (+=) into gradients and skips any gradient pointer that is
 * NULL, so a shared input gets the sum of its users' gradients for free.
 * Kernels never allocate and never fail: they trust their arguments.
 *
 * Checking. Whatever can fail — building shapes and modules, reading labels
 * or ids that came from data, files — takes a GError ** in the MMDNN_ERROR
 * domain and returns FALSE/NULL. The core never aborts, exits or prints on
 * bad input; it logs through mmdnn_set_log_func () only.
 *
 * Parameters. A model declares all of its parameters in one MmdnnParamSet,
 * then allocates once: values live in one slab and gradients in a second
 * with the same layout, so an optimiser step is a flat loop and an
 * all-reduce is one call:
 *
 *     MmdnnParamSet *ps = mmdnn_param_set_new ();
 *     MmdnnLinear fc;
 *     if (!mmdnn_linear_init (&fc, ps, "head.fc", 128, 10, TRUE, &error) ||
 *         !mmdnn_param_set_allocate (ps, &error))
 *       goto fail;
 *     mmdnn_linear_reset (&fc, &rng);
 *     ...
 *     mmdnn_param_set_zero_grad (ps);
 *     mmdnn_linear_forward (y, x, fc.weight->value, fc.bias->value, n, 128, 10);
 *     ... loss ...
 *     mmdnn_linear_backward (dx, fc.weight->grad, fc.bias->grad, dy, x,
 *                            fc.weight->value, n, 128, 10);
 *     mmdnn_optim_step (opt, ps, mmdnn_lr_schedule_get (&sched, step));
 *
 * Threads. A parameter set, an optimiser and the buffers of one forward
 * pass belong to one thread at a time. Parallelism inside a kernel comes
 * from OpenBLAS's threads (mmdnn_blas_set_threads ()).
 *
 * Randomness. Only MmdnnRng (xoshiro256**, seeded): a run is reproducible
 * bit for bit on one machine.
 */
#pragma once

#include <mmdnn/error.h>
#include <mmdnn/rng.h>
#include <mmdnn/tensor.h>
#include <mmdnn/blas.h>
#include <mmdnn/linear.h>
#include <mmdnn/conv.h>
#include <mmdnn/pool.h>
#include <mmdnn/activation.h>
#include <mmdnn/norm.h>
#include <mmdnn/embedding.h>
#include <mmdnn/similarity.h>
#include <mmdnn/loss.h>
#include <mmdnn/optim.h>
#include <mmdnn/audio.h>
#include <mmdnn/text.h>
#include <mmdnn/video.h>
#include <mmdnn/saliency.h>
#include <mmdnn/encoder-image.h>
#include <mmdnn/encoder-text.h>
#include <mmdnn/fusion.h>
#include <mmdnn/safetensors.h>
#include <mmdnn/media.h>
#include <mmdnn/model.h>
#include <mmdnn/augment.h>
#include <mmdnn/dataset.h>
#include <mmdnn/json.h>
#include <mmdnn/infer.h>
