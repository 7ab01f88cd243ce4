/* mmdnn — the command-line tool: what the subcommand files share.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Exit statuses: 0 success, 1 the work failed (bad file, bad data),
 * 2 the command line was wrong. */
enum { CLI_OK = 0, CLI_FAILED = 1, CLI_USAGE = 2 };

/* One subcommand: `mmdnn NAME ...`. run () gets argv[0] = "mmdnn NAME" and
 * the arguments after NAME; it returns an exit status. help () prints the
 * full help to stdout (for `mmdnn help NAME`). Later subcommands (train,
 * eval, info, bench) add one row to the table in mmdnn.c. */
typedef struct {
  const char *name;
  const char *summary;
  int (*run) (int argc, char **argv);
  void (*help) (void);
} CliCommand;

/* "mmdnn: FILE: message" (or "mmdnn: message" when the message already
 * names the file, as every core media/model error does) on stderr. */
void cli_error (const char *file, const GError *error);
void cli_errorf (const char *format, ...) G_GNUC_PRINTF (1, 2);
/* In a run of several processes (dist.h) the errors above say which one
 * saw them: "mmdnn: rank R: ...". */
void cli_set_process (int rank, int size);

/* Parses @argv with @ctx and drops the "--" that ends the options; on a
 * usage error prints it with a hint and returns FALSE (the caller exits
 * with CLI_USAGE). */
gboolean cli_parse (GOptionContext *ctx, const char *cmd, int *argc,
                    char ***argv);

/* Prints the finished object of @b to stdout, two-space indented, doubles
 * as the shortest decimal that reads back (not json-glib's generator: 1.6
 * writes 1e-08 as "1e-08.0"). Defined in cli-info.c. */
void cli_print_json (JsonBuilder *b);

/* The subcommands. */
int  cli_dump_run (int argc, char **argv);
void cli_dump_help (void);
int  cli_info_run (int argc, char **argv);
void cli_info_help (void);
int  cli_bench_run (int argc, char **argv);
void cli_bench_help (void);
int  cli_train_run (int argc, char **argv);
void cli_train_help (void);
int  cli_eval_run (int argc, char **argv);
void cli_eval_help (void);

G_END_DECLS
