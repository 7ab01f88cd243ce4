/* mmdnn — fuzz target: the checkpoint loader (mmdnn_model_load_checkpoint):
 * the model file's checks plus the optimiser slabs, the step counts and the
 * generator state in the metadata.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>

#include <mmdnn/model.h>

#include "fuzz-common.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *path;
  MmdnnModel *m;
  GError *err = NULL;

  fuzz_init ();
  path = fuzz_file (data, size);
  if (!fuzz_model_fits (path))
    return 0;
  m = mmdnn_model_load_checkpoint (path, 1, &err);
  fuzz_assert ((m == NULL) == (err != NULL));
  if (m == NULL) {
    fuzz_assert (err->domain == MMDNN_ERROR && err->message[0] != '\0');
    g_error_free (err);
    return 0;
  }
  /* what a resumed run reads first (model.h, model-io.c) */
  fuzz_assert (m->step >= 0 && m->optim->step >= 0);
  fuzz_assert (isfinite (m->rng.spare));
  fuzz_assert ((m->rng.s[0] | m->rng.s[1] | m->rng.s[2] | m->rng.s[3]) != 0);
  for (int64_t k = 0; k < m->params->numel; k++)
    fuzz_assert (isfinite (m->params->values[k]));
  /* the optimiser state feeds every later weight: a NaN there, or a
   * negative second moment (sqrt), would turn the next step's weights NaN */
  for (int64_t k = 0; m->optim->m != NULL && k < m->optim->numel; k++)
    fuzz_assert (isfinite (m->optim->m[k]));
  for (int64_t k = 0; m->optim->v != NULL && k < m->optim->numel; k++)
    fuzz_assert (isfinite (m->optim->v[k]) && m->optim->v[k] >= 0.0f);
  mmdnn_model_free (m);
  return 0;
}
