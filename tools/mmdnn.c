/* mmdnn — the command-line tool: `mmdnn COMMAND [ARGS...]`.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * main () only dispatches: each subcommand lives in its own cli-*.c and is
 * one row of the table below. */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include <mmdnn/error.h>

#include "cli.h"

static const CliCommand commands[] = {
  { "dump", "show what the encoders see: text, audio, video, subtitles",
    cli_dump_run, cli_dump_help },
  { "info", "describe a model or checkpoint file (--json for programs)",
    cli_info_run, cli_info_help },
  { "bench", "measure training samples/s and inference latency",
    cli_bench_run, cli_bench_help },
  { "train", "train a model on a data set (progress, checkpoints, plots)",
    cli_train_run, cli_train_help },
  { "eval", "accuracy of a model on a data set, with modality ablations",
    cli_eval_run, cli_eval_help },
};

static void
usage (FILE *out)
{
  fprintf (out,
           "Usage: mmdnn COMMAND [ARGS...]\n"
           "       mmdnn help [COMMAND]\n"
           "       mmdnn --version\n"
           "\n"
           "Commands:\n");
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\nRun 'mmdnn help COMMAND' or 'mmdnn COMMAND --help' for "
           "a command's options.\n");
}

static const CliCommand *
find_command (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (commands[i].name, name) == 0)
      return &commands[i];
  return NULL;
}

static void
log_to_stderr (MmdnnLogLevel level, const char *message, void *user_data)
{
  /* libav's chatter (INFO/DEBUG) would bury the one line that matters */
  if (level <= MMDNN_LOG_WARNING || g_getenv ("MMDNN_VERBOSE"))
    fprintf (stderr, "mmdnn: %s: %s\n",
             level == MMDNN_LOG_ERROR ? "error"
             : level == MMDNN_LOG_WARNING ? "warning"
             : level == MMDNN_LOG_INFO ? "info" : "debug", message);
}

int
main (int argc, char **argv)
{
  const CliCommand *cmd;

  setlocale (LC_ALL, "");
  setlocale (LC_NUMERIC, "C");   /* CSV and PGM numbers use '.', always */
  mmdnn_set_log_func (log_to_stderr, NULL);

  if (argc < 2) {
    usage (stderr);
    return CLI_USAGE;
  }
  if (strcmp (argv[1], "--version") == 0 || strcmp (argv[1], "-V") == 0) {
    printf ("mmdnn %s\n", VERSION);
    return CLI_OK;
  }
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0) {
    usage (stdout);
    return CLI_OK;
  }
  if (strcmp (argv[1], "help") == 0) {
    if (argc == 2) {
      usage (stdout);
      return CLI_OK;
    }
    cmd = find_command (argv[2]);
    if (!cmd) {
      cli_errorf ("unknown command '%s'", argv[2]);
      usage (stderr);
      return CLI_USAGE;
    }
    if (argc > 3) {   /* `mmdnn help dump audio` = `mmdnn dump audio --help` */
      char *sub[] = { argv[2], argv[3], (char *) "--help", NULL };
      return cmd->run (3, sub);
    }
    cmd->help ();
    return CLI_OK;
  }
  if (argv[1][0] == '-') {
    cli_errorf ("unknown option '%s'", argv[1]);
    usage (stderr);
    return CLI_USAGE;
  }
  cmd = find_command (argv[1]);
  if (!cmd) {
    cli_errorf ("unknown command '%s'", argv[1]);
    usage (stderr);
    return CLI_USAGE;
  }
  return cmd->run (argc - 1, argv + 1);
}
