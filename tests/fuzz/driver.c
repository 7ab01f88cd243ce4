/* mmdnn — replays files through a fuzz target without libFuzzer, so that
 * the seeds and the regression inputs run in every build (make check,
 * make check-asan): `fuzz-TARGET FILE|DIR...`, each DIR's regular files
 * (but dotfiles) in name order. Fails when no input was found (a missing
 * corpus must not pass silently); a crash is the sanitizer's or the
 * target's abort.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "fuzz-common.h"

static int
run_file (const char *path)
{
  char *data = NULL;
  gsize len = 0;
  GError *err = NULL;

  if (!g_file_get_contents (path, &data, &len, &err)) {
    fprintf (stderr, "%s\n", err->message);
    g_error_free (err);
    return -1;
  }
  /* libFuzzer hands over a buffer of exactly len bytes (no NUL after it):
   * so does this, for ASan to see a read past the end; never NULL, even
   * for an empty input */
  {
    uint8_t *copy = g_malloc (len > 0 ? len : 1);

    memcpy (copy, data, len);

    printf ("%s (%" G_GSIZE_FORMAT " bytes)\n", path, len);
    fflush (stdout);
    LLVMFuzzerTestOneInput (copy, len);
    g_free (copy);
  }
  g_free (data);
  return 1;
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

int
main (int argc, char **argv)
{
  int n = 0;

  for (int i = 1; i < argc; i++) {
    if (g_file_test (argv[i], G_FILE_TEST_IS_DIR)) {
      GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
      GDir *d = g_dir_open (argv[i], 0, NULL);
      const char *name;

      while (d != NULL && (name = g_dir_read_name (d)) != NULL)
        g_ptr_array_add (names, g_build_filename (argv[i], name, NULL));
      if (d != NULL)
        g_dir_close (d);
      g_ptr_array_sort (names, compare_names);
      for (guint k = 0; k < names->len; k++) {
        const char *p = g_ptr_array_index (names, k);

        /* .gitkeep holds an empty regress/ folder in git */
        if (!g_file_test (p, G_FILE_TEST_IS_REGULAR)
            || g_str_has_prefix (strrchr (p, '/') + 1, "."))
          continue;
        if (run_file (p) < 0) {
          g_ptr_array_unref (names);
          return 1;
        }
        n++;
      }
      g_ptr_array_unref (names);
    } else if (run_file (argv[i]) < 0) {
      return 1;
    } else {
      n++;
    }
  }
  printf ("%d inputs\n", n);
  if (n == 0) {
    fprintf (stderr, "no inputs found in the arguments\n");
    return 1;
  }
  return 0;
}
