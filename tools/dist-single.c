/* mmdnn — the command-line tool: a run of one process (dist.h), the
 * implementation when mmdnn is built without MPI.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "dist.h"

gboolean
dist_init (int *argc, char ***argv, GError **error)
{
  return TRUE;
}

const char *
dist_backend (void)
{
  return "single";
}

int
dist_rank (void)
{
  return 0;
}

int
dist_size (void)
{
  return 1;
}

/* the sum over one process is its own buffer */
gboolean
dist_allreduce_sum_f32 (float *buf, gsize n, GError **error)
{
  return TRUE;
}

gboolean
dist_allreduce_sum_f64 (double *buf, gsize n, GError **error)
{
  return TRUE;
}

gboolean
dist_allreduce_sum_i64 (int64_t *buf, gsize n, GError **error)
{
  return TRUE;
}

gboolean
dist_barrier (GError **error)
{
  return TRUE;
}

void
dist_finalize (void)
{
}

void
dist_abort (int status)
{
  exit (status);
}
