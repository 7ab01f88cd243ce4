/* mmdnn — the command-line tool: the processes of a data-parallel run
 * through MPI (dist.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Only a process started by a launcher joins MPI: a plain `mmdnn train`
 * of an MPI build stays a run of one process without MPI_Init (which, as
 * a singleton, costs a second and starts helper processes for nothing).
 *
 * Errors: MPI_COMM_WORLD gets MPI_ERRORS_RETURN, so a collective that
 * fails because a process died returns here and becomes a GError naming
 * the failure, instead of MPI's default handler ending the process
 * without a word from the program. Open MPI's launcher is usually
 * quicker: when a process dies it ends the others with SIGTERM, which
 * each then reports before it goes (the checkpoint on disk is whole
 * either way: it is replaced by a rename). */
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <mpi.h>

#include <mmdnn/error.h>

#include "dist.h"

static gboolean joined;
static int rank, size = 1;
static char term_msg[200];

/* Async-signal-safe: a prepared message, then the default action. */
static void
on_term (int sig)
{
  ssize_t r = write (STDERR_FILENO, term_msg, strlen (term_msg));

  (void) r;
  signal (sig, SIG_DFL);
  raise (sig);
}

/* the variables mpirun (Open MPI), mpiexec (MPICH's Hydra) and srun
 * (PMI/PMIx) give the processes they start */
static gboolean
launched (void)
{
  static const char *const vars[] = {
    "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (vars); i++)
    if (g_getenv (vars[i]) != NULL)
      return TRUE;
  return FALSE;
}

static gboolean
check (int rc, const char *what, GError **error)
{
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;

  if (rc == MPI_SUCCESS)
    return TRUE;
  if (MPI_Error_string (rc, msg, &len) != MPI_SUCCESS)
    g_strlcpy (msg, "unknown MPI error", sizeof msg);
  g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_BACKEND,
               "MPI %s across %d processes failed: %s (did a process of "
               "the run die or lose its connection?)", what, size, msg);
  return FALSE;
}

gboolean
dist_init (int *argc, char ***argv, GError **error)
{
  if (!launched ())
    return TRUE;
  if (!check (MPI_Init (argc, argv), "start", error))
    return FALSE;
  joined = TRUE;
  if (!check (MPI_Comm_set_errhandler (MPI_COMM_WORLD, MPI_ERRORS_RETURN),
              "start", error)
      || !check (MPI_Comm_rank (MPI_COMM_WORLD, &rank), "start", error)
      || !check (MPI_Comm_size (MPI_COMM_WORLD, &size), "start", error))
    return FALSE;
  if (size > 1) {
    g_snprintf (term_msg, sizeof term_msg, "mmdnn: rank %d: stopped by the "
                "MPI launcher (SIGTERM): another process of the run ended "
                "or failed\n", rank);
    signal (SIGTERM, on_term);
  }
  return TRUE;
}

const char *
dist_backend (void)
{
  return "MPI";
}

int
dist_rank (void)
{
  return rank;
}

int
dist_size (void)
{
  return size;
}

/* MPI counts are int: a longer buffer goes in pieces */
static gboolean
allreduce (void *buf, gsize n, MPI_Datatype type, gsize elem_size,
           GError **error)
{
  char *p = buf;

  if (size == 1)
    return TRUE;
  while (n > 0) {
    int k = (int) MIN (n, (gsize) INT_MAX);

    if (!check (MPI_Allreduce (MPI_IN_PLACE, p, k, type, MPI_SUM,
                               MPI_COMM_WORLD), "all-reduce", error))
      return FALSE;
    p += (gsize) k * elem_size;
    n -= (gsize) k;
  }
  return TRUE;
}

gboolean
dist_allreduce_sum_f32 (float *buf, gsize n, GError **error)
{
  return allreduce (buf, n, MPI_FLOAT, sizeof (float), error);
}

gboolean
dist_allreduce_sum_f64 (double *buf, gsize n, GError **error)
{
  return allreduce (buf, n, MPI_DOUBLE, sizeof (double), error);
}

gboolean
dist_allreduce_sum_i64 (int64_t *buf, gsize n, GError **error)
{
  return allreduce (buf, n, MPI_INT64_T, sizeof (int64_t), error);
}

gboolean
dist_barrier (GError **error)
{
  return size == 1 || check (MPI_Barrier (MPI_COMM_WORLD), "barrier", error);
}

void
dist_finalize (void)
{
  if (joined)
    MPI_Finalize ();
  joined = FALSE;
}

/* Not MPI_Abort: Open MPI 4.1's mpirun (Debian 12) crashes now and then
 * handling it (a segfault in its PMIx log server). A process leaving
 * with a non-zero status before MPI_Finalize makes mpirun (and MPICH's
 * mpiexec) end the whole job just the same, and exit with that status. */
void
dist_abort (int status)
{
  /* this process has said why; the launcher's SIGTERM is no news */
  signal (SIGTERM, SIG_DFL);
  exit (status);
}
