/* mmdnn — fuzz target: the model config JSON parser
 * (mmdnn_model_config_from_json), the text `mmdnn train --config` reads
 * and every model file carries.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include <mmdnn/model.h>

#include "fuzz-common.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  MmdnnModelConfig *c, *d, *copy;
  GError *err = NULL;
  char *j1, *j2;

  fuzz_init ();
  if (size > G_MAXSSIZE)
    return 0;
  c = mmdnn_model_config_from_json ((const char *) data, (gssize) size, &err);
  fuzz_assert ((c == NULL) == (err != NULL));
  if (c == NULL) {
    fuzz_assert (err->domain == MMDNN_ERROR
                 && (err->code == MMDNN_ERROR_FORMAT
                     || err->code == MMDNN_ERROR_INVALID_ARGUMENT));
    g_error_free (err);
    return 0;
  }

  /* from_json validates (model.h), and the round trip is exact
   * (docs/model-config.md): to_json (from_json (to_json (c))) == to_json (c) */
  fuzz_assert (mmdnn_model_config_check (c, NULL));
  j1 = mmdnn_model_config_to_json (c);
  d = mmdnn_model_config_from_json (j1, -1, &err);
  fuzz_assert (d != NULL && err == NULL);
  j2 = mmdnn_model_config_to_json (d);
  fuzz_assert (strcmp (j1, j2) == 0);
  g_free (j2);

  copy = mmdnn_model_config_copy (c);
  j2 = mmdnn_model_config_to_json (copy);
  fuzz_assert (strcmp (j1, j2) == 0);
  g_free (j2);

  g_free (j1);
  mmdnn_model_config_free (copy);
  mmdnn_model_config_free (d);
  mmdnn_model_config_free (c);
  return 0;
}
