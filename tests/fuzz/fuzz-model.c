/* mmdnn — fuzz target: the safetensors reader and the model loader
 * (mmdnn_safetensors_open, mmdnn_model_load) on one file's bytes.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <string.h>

#include <mmdnn/model.h>
#include <mmdnn/safetensors.h>

#include "fuzz-common.h"

/* where tensor reads go, so that the compiler keeps them */
static volatile float sink;

/* Whatever opens must keep the promises of safetensors.h: every tensor
 * named, found by its name, float-aligned, inside the mapping (reading
 * each element lets ASan check that). */
static void
walk_tensors (const MmdnnSafetensors *st)
{
  for (guint i = 0; i < mmdnn_safetensors_count (st); i++) {
    const char *name = mmdnn_safetensors_name (st, i);
    int ndim = -1;
    int64_t shape[MMDNN_MAX_DIMS], numel = 1;
    const float *data = NULL;

    fuzz_assert (name != NULL && name[0] != '\0');
    fuzz_assert (mmdnn_safetensors_get (st, name, &ndim, shape, &data));
    fuzz_assert (ndim >= 0 && ndim <= MMDNN_MAX_DIMS);
    for (int k = 0; k < ndim; k++) {
      fuzz_assert (shape[k] >= 0);
      numel *= shape[k];
    }
    fuzz_assert (numel == 0 || ((guintptr) data) % sizeof (float) == 0);
    for (int64_t k = 0; k < numel; k++)
      sink += data[k];
  }
  fuzz_assert (mmdnn_safetensors_name (st, mmdnn_safetensors_count (st))
               == NULL);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *path;
  MmdnnSafetensors *st;
  MmdnnModel *m;
  GError *err = NULL;

  fuzz_init ();
  path = fuzz_file (data, size);

  st = mmdnn_safetensors_open (path, &err);
  fuzz_assert ((st == NULL) == (err != NULL));
  if (st != NULL) {
    walk_tensors (st);
    mmdnn_safetensors_close (st);
  } else {
    fuzz_assert (err->domain == MMDNN_ERROR && err->message[0] != '\0');
    g_clear_error (&err);
  }

  if (!fuzz_model_fits (path))
    return 0;
  m = mmdnn_model_load (path, 1, &err);
  fuzz_assert ((m == NULL) == (err != NULL));
  if (m != NULL) {
    /* a loaded model is complete and finite (model.h) */
    fuzz_assert (m->config != NULL && m->params->allocated);
    for (int64_t k = 0; k < m->params->numel; k++)
      fuzz_assert (isfinite (m->params->values[k]));
    mmdnn_model_free (m);
  } else {
    fuzz_assert (err->domain == MMDNN_ERROR && err->message[0] != '\0');
    g_clear_error (&err);
  }
  return 0;
}
