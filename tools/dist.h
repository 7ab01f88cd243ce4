/* mmdnn — the command-line tool: the processes of a data-parallel run.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One API, two implementations chosen by the build (meson feature `mpi`):
 * dist-mpi.c (Open MPI or any MPI: `mpirun -np N mmdnn train ...`) and
 * dist-single.c (one process; every collective is the identity). The
 * callers do not know which one they run on. The core knows neither: it
 * only offers the pieces a collective step needs (model.h, "data
 * parallel").
 *
 * Every collective of a run is called by every process in the same order;
 * a failed one (a process died, the network went away) returns FALSE with
 * @error saying so, and the caller ends its process with dist_abort. */
#pragma once

#include <stdint.h>
#include <glib.h>

G_BEGIN_DECLS

/* Joins the run when a launcher started this process (mpirun, srun: its
 * environment says so); otherwise, and with dist-single.c, the run is
 * this process alone. Call once, before anything else of this API. */
gboolean    dist_init (int *argc, char ***argv, GError **error);
/* "MPI" or "single" (for messages) */
const char *dist_backend (void);
int         dist_rank (void);           /* 0 .. size − 1 */
int         dist_size (void);           /* 1 without a launcher */

/* buf[0..n) = the element-wise sum of every process's buf, in place. */
gboolean    dist_allreduce_sum_f32 (float *buf, gsize n, GError **error);
gboolean    dist_allreduce_sum_f64 (double *buf, gsize n, GError **error);
gboolean    dist_allreduce_sum_i64 (int64_t *buf, gsize n, GError **error);
gboolean    dist_barrier (GError **error);

/* Leaves the run after its last collective (every process calls it). */
void        dist_finalize (void);
/* Ends every process of the run with @status (this one included; with
 * one process it is exit (status)): for an error only some processes
 * see, after which the others would wait in a collective forever. */
G_NORETURN void dist_abort (int status);

G_END_DECLS
