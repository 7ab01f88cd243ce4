/* mmdnn — private to the model files (model.c, model-io.c), never
 * installed.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <mmdnn/model.h>

/* mmdnn_model_new in two steps, so that the loader can match the declared
 * parameters (names, shapes: m->params) against the file's tensors before
 * anything is allocated: a few hundred bytes of config must not make it
 * allocate and initialise gigabytes of parameters the file does not hold.
 * declare: the config checked, the parameters declared, nothing allocated
 * (mmdnn_model_free frees it). allocate: what remains of mmdnn_model_new
 * (parameters from @seed, optimiser, activations); on failure free the
 * model. */
MmdnnModel *mmdnn_model_declare (const MmdnnModelConfig *c, int64_t max_batch,
                                 GError **error);
gboolean    mmdnn_model_allocate (MmdnnModel *m, uint64_t seed,
                                  GError **error);
