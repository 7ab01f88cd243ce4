/* mmdnn — the command-line tool: error reporting and option parsing.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* "rank R: " in a run of several processes, else "" */
static char process[32];

void
cli_set_process (int rank, int size)
{
  if (size > 1)
    g_snprintf (process, sizeof process, "rank %d: ", rank);
  else
    process[0] = '\0';
}

void
cli_error (const char *file, const GError *error)
{
  const char *msg = error ? error->message : "unknown error";

  /* core errors about a file start with "FILE: " already: don't say it twice */
  if (file && !g_str_has_prefix (msg, file))
    fprintf (stderr, "mmdnn: %s%s: %s\n", process, file, msg);
  else
    fprintf (stderr, "mmdnn: %s%s\n", process, msg);
}

void
cli_errorf (const char *format, ...)
{
  va_list ap;
  char *msg;

  va_start (ap, format);
  msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  fprintf (stderr, "mmdnn: %s%s\n", process, msg);
  g_free (msg);
}

gboolean
cli_parse (GOptionContext *ctx, const char *cmd, int *argc, char ***argv)
{
  GError *error = NULL;

  if (!g_option_context_parse (ctx, argc, argv, &error)) {
    fprintf (stderr, "mmdnn: %s: %s\n", cmd, error->message);
    fprintf (stderr, "Try 'mmdnn %s --help'.\n", cmd);
    g_error_free (error);
    return FALSE;
  }
  /* GOption leaves the "--" that ends the options in argv: drop it, so
   * `mmdnn dump text -- -1` reads the cue "-1" */
  for (int i = 1; i < *argc; i++) {
    if (strcmp ((*argv)[i], "--") != 0)
      continue;
    memmove (&(*argv)[i], &(*argv)[i + 1], (*argc - i) * sizeof (char *));
    (*argc)--;
    break;
  }
  return TRUE;
}
