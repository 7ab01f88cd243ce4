/* Data sets: labels.csv parsing (good rows with every CSV leniency, every
 * kind of bad row, all collected with the right line numbers, random
 * garbage never crashing) and ingestion of the committed test media
 * (tests/core/media/clip.mkv, see make-test-media.sh: 2 s, 64x48 MJPEG
 * colour bars at 10 fps, a 1 kHz tone, cues "Hello, world!" 0.2-0.9 s and
 * "<i>Don’t</i> go!" 1.0-1.8 s) checked against the core preprocessing
 * run independently on an independent decode.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <glib/gstdio.h>

#include <mmdnn/dataset.h>
#include <mmdnn/media.h>
#include "gradcheck.h"

/* ---- helpers ------------------------------------------------------------ */

static char *
make_tmp_dir (void)
{
  GError *error = NULL;
  char *dir = g_dir_make_tmp ("mmdnn-test-dataset-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static void
remove_tree (const char *path)
{
  GDir *d;
  const char *name;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR)
      || g_file_test (path, G_FILE_TEST_IS_SYMLINK)) {
    g_unlink (path);
    return;
  }
  d = g_dir_open (path, 0, NULL);
  while (d && (name = g_dir_read_name (d))) {
    char *p = g_build_filename (path, name, NULL);
    remove_tree (p);
    g_free (p);
  }
  if (d)
    g_dir_close (d);
  g_rmdir (path);
}

static void
free_tmp_dir (char *dir)
{
  remove_tree (dir);
  g_free (dir);
}

static void
write_file (const char *dir, const char *name, const char *data, gssize len)
{
  char *p = g_build_filename (dir, name, NULL);
  GError *error = NULL;

  g_file_set_contents (p, data, len, &error);
  g_assert_no_error (error);
  g_free (p);
}

static void
write_csv (const char *dir, const char *csv)
{
  write_file (dir, "labels.csv", csv, -1);
}

static void
make_subdir (const char *dir, const char *name)
{
  char *p = g_build_filename (dir, name, NULL);

  g_assert_cmpint (g_mkdir (p, 0700), ==, 0);
  g_free (p);
}

/* Removes the config's last task (the config only frees n_tasks tasks). */
static void
drop_last_task (MmdnnModelConfig *c)
{
  MmdnnTask *t = &c->tasks[--c->n_tasks];

  g_free (t->name);
  g_strfreev (t->classes);
  memset (t, 0, sizeof *t);
}

static char *
media_path (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "media", name, NULL);
}

/* Copies the committed clip into @dir as @name (paths are relative to the
 * data set folder, so the test folder needs its own copy). */
static void
copy_media (const char *dir, const char *from, const char *name)
{
  char *src = media_path (from), *data = NULL;
  gsize len = 0;
  GError *error = NULL;

  g_file_get_contents (src, &data, &len, &error);
  g_assert_no_error (error);
  write_file (dir, name, data, (gssize) len);
  g_free (data);
  g_free (src);
}

static void
copy_clip (const char *dir, const char *name)
{
  copy_media (dir, "clip.mkv", name);
}

static void
assert_contains (const char *hay, const char *needle)
{
  if (strstr (hay, needle) == NULL)
    g_error ("expected \"%s\" in the message:\n%s", needle, hay);
}

static void
assert_lacks (const char *hay, const char *needle)
{
  if (strstr (hay, needle) != NULL)
    g_error ("did not expect \"%s\" in the message:\n%s", needle, hay);
}

static int
count_lines (const char *s)
{
  int n = 1;

  for (; *s; s++)
    n += *s == '\n';
  return n;
}

/* "<dir>/labels.csv:<line>:" as the messages write it */
static char *
at_line (const char *dir, int line)
{
  char *csv = g_build_filename (dir, "labels.csv", NULL);
  char *s = g_strdup_printf ("%s:%d:", csv, line);

  g_free (csv);
  return s;
}

static void
assert_at_line (const char *msg, const char *dir, int line)
{
  char *s = at_line (dir, line);

  assert_contains (msg, s);
  g_free (s);
}

/* Opens @csv (with clip.mkv next to it) against the default config and
 * expects failure with @code; returns the message (g_free) and the dir. */
static char *
open_fails (const char *csv, int code, char **dir_out)
{
  MmdnnModelConfig *c = mmdnn_model_config_new_default ();
  char *dir = make_tmp_dir (), *msg;
  GError *error = NULL;
  MmdnnDataset *ds;

  copy_clip (dir, "clip.mkv");
  make_subdir (dir, "sub");                               /* a directory */
  if (csv != NULL)
    write_csv (dir, csv);
  ds = mmdnn_dataset_open (dir, c, &error);
  g_assert_null (ds);
  g_assert_error (error, MMDNN_ERROR, code);
  msg = g_strdup (error->message);
  g_test_message ("%s", msg);
  g_error_free (error);
  mmdnn_model_config_free (c);
  *dir_out = dir;
  return msg;
}

static const MmdnnClip *
clip_at (const MmdnnDataset *ds, guint i)
{
  g_assert_cmpuint (i, <, ds->clips->len);
  return &g_array_index (ds->clips, MmdnnClip, i);
}

/* ---- CSV: good rows ----------------------------------------------------- */

static void
test_csv_good (void)
{
  MmdnnModelConfig *c = mmdnn_model_config_new_default ();
  char *dir = make_tmp_dir ();
  GError *error = NULL;
  MmdnnDataset *ds;
  const MmdnnClip *k;

  copy_clip (dir, "clip.mkv");
  copy_clip (dir, "a, b.mkv");
  make_subdir (dir, "sub");
  copy_clip (dir, "sub/c.mkv");
  /* BOM, CRLF, extra columns before/between/after the tasks, tasks out of
   * order, a quoted field spanning lines, an empty label cell, spaces
   * around unquoted and quoted fields, "" inside quotes, a blank line, a
   * subfolder, no newline at the end */
  write_csv (dir,
      "\xEF\xBB\xBF" "file,start_s,end_s,note,speaker_gender,class,extra\r\n"
      "clip.mkv,0,2,\"two\r\nlines, note\",female,Sneaker,x\r\n"
      "\r\n"
      " \"a, b.mkv\" , 0.5 ,1.5e0,, ,  \"T-shirt/top\"  ,\r\n"
      "sub/c.mkv,1,2,\"a \"\"quoted\"\" note\",male,,y");
  ds = mmdnn_dataset_open (dir, c, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ds);
  g_assert_cmpstr (ds->dir, ==, dir);
  g_assert_cmpint (ds->n_tasks, ==, 2);
  g_assert_cmpstr (ds->task_names[0], ==, "class");
  g_assert_cmpstr (ds->task_names[1], ==, "speaker_gender");
  g_assert_cmpuint (ds->clips->len, ==, 3);

  k = clip_at (ds, 0);
  g_assert_cmpstr (k->file, ==, "clip.mkv");
  g_assert_cmpfloat (k->start_s, ==, 0.0);
  g_assert_cmpfloat (k->end_s, ==, 2.0);
  g_assert_cmpint (k->labels[0], ==, 7);          /* Sneaker */
  g_assert_cmpint (k->labels[1], ==, 0);          /* female */
  g_assert_cmpint (k->line, ==, 2);

  k = clip_at (ds, 1);
  g_assert_cmpstr (k->file, ==, "a, b.mkv");
  g_assert_cmpfloat (k->start_s, ==, 0.5);
  g_assert_cmpfloat (k->end_s, ==, 1.5);
  g_assert_cmpint (k->labels[0], ==, 0);          /* T-shirt/top */
  g_assert_cmpint (k->labels[1], ==, -1);         /* empty (spaces) */
  g_assert_cmpint (k->line, ==, 5);               /* 2-3 the row, 4 blank */

  k = clip_at (ds, 2);
  g_assert_cmpstr (k->file, ==, "sub/c.mkv");
  g_assert_cmpint (k->labels[0], ==, -1);
  g_assert_cmpint (k->labels[1], ==, 1);          /* male */
  g_assert_cmpint (k->line, ==, 6);
  for (int t = 2; t < MMDNN_MAX_TASKS; t++)
    g_assert_cmpint (k->labels[t], ==, -1);

  mmdnn_dataset_free (ds);
  mmdnn_dataset_free (NULL);
  mmdnn_model_config_free (c);
  free_tmp_dir (dir);
}

/* A class name with a comma (quoted), one with '/', a lone-CR file (old
 * Mac spreadsheets), one task only: the gender column is then ignored. */
static void
test_csv_custom_tasks (void)
{
  MmdnnModelConfig *c = mmdnn_model_config_new_default ();
  const char *const kinds[] = { "Bag, small", "Top/Shirt", "Shoe", NULL };
  char *dir = make_tmp_dir ();
  GError *error = NULL;
  MmdnnDataset *ds;

  drop_last_task (c);
  g_assert_true (mmdnn_model_config_set_task (c, 0, "kind", kinds, 1.0f,
                                              &error));
  g_assert_no_error (error);
  copy_clip (dir, "clip.mkv");
  write_csv (dir,
      "file,start_s,end_s,speaker_gender,kind\r"
      "clip.mkv,0,1,banana,\"Bag, small\"\r"
      "clip.mkv,1,2,,Top/Shirt\r\r"
      "clip.mkv,0.25,0.75,male,Shoe\r");
  ds = mmdnn_dataset_open (dir, c, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ds);
  g_assert_cmpint (ds->n_tasks, ==, 1);
  g_assert_cmpstr (ds->task_names[0], ==, "kind");
  g_assert_null (ds->task_names[1]);
  g_assert_cmpuint (ds->clips->len, ==, 3);
  g_assert_cmpint (clip_at (ds, 0)->labels[0], ==, 0);
  g_assert_cmpint (clip_at (ds, 1)->labels[0], ==, 1);
  g_assert_cmpint (clip_at (ds, 2)->labels[0], ==, 2);
  g_assert_cmpint (clip_at (ds, 0)->line, ==, 2);
  g_assert_cmpint (clip_at (ds, 1)->line, ==, 3);
  g_assert_cmpint (clip_at (ds, 2)->line, ==, 5);
  g_assert_cmpfloat (clip_at (ds, 2)->start_s, ==, 0.25);
  mmdnn_dataset_free (ds);
  mmdnn_model_config_free (c);
  free_tmp_dir (dir);
}

/* ---- CSV: bad header / file --------------------------------------------- */

static void
test_open_null_n (void)
{
  MmdnnModelConfig *c = mmdnn_model_config_new_default ();
  GError *error = NULL;

  g_assert_null (mmdnn_dataset_open (NULL, c, &error));
  g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (mmdnn_dataset_open ("/tmp", NULL, &error));
  g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  c->has[0] = c->has[1] = c->has[2] = FALSE;   /* an invalid config */
  g_assert_null (mmdnn_dataset_open ("/tmp", c, &error));
  g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  mmdnn_model_config_free (c);
}

static void
test_open_missing_csv_n (void)
{
  char *dir, *msg = open_fails (NULL, MMDNN_ERROR_IO, &dir);
  char *csv = g_build_filename (dir, "labels.csv", NULL);

  assert_contains (msg, csv);
  g_free (msg);
  g_free (csv);
  /* a folder that does not exist at all */
  {
    MmdnnModelConfig *c = mmdnn_model_config_new_default ();
    char *nodir = g_build_filename (dir, "nope", NULL);
    GError *error = NULL;

    g_assert_null (mmdnn_dataset_open (nodir, c, &error));
    g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_IO);
    assert_contains (error->message, "nope/labels.csv");
    g_error_free (error);
    g_free (nodir);
    mmdnn_model_config_free (c);
  }
  free_tmp_dir (dir);
}

static void
test_empty_file_n (void)
{
  const char *const cases[] = { "", "\xEF\xBB\xBF", "\r\n\n  \r\n", NULL };

  for (int i = 0; cases[i]; i++) {
    char *dir, *msg = open_fails (cases[i], MMDNN_ERROR_FORMAT, &dir);

    assert_contains (msg, "labels.csv");
    assert_contains (msg, "empty");
    g_free (msg);
    free_tmp_dir (dir);
  }
}

static void
test_header_bad_n (void)
{
  char *dir, *msg;

  /* wrong name in the fixed part; blank lines before it count */
  msg = open_fails ("\n\nfile,start,end,class,speaker_gender\n"
                    "clip.mkv,0,1,Bag,male\n", MMDNN_ERROR_FORMAT, &dir);
  assert_at_line (msg, dir, 3);
  assert_contains (msg, "file,start_s,end_s");
  assert_contains (msg, "column 2 is 'start'");
  g_free (msg);
  free_tmp_dir (dir);

  /* too few columns */
  msg = open_fails ("file\n", MMDNN_ERROR_FORMAT, &dir);
  assert_at_line (msg, dir, 1);
  assert_contains (msg, "column 2 is nothing");
  g_free (msg);
  free_tmp_dir (dir);

  /* case matters */
  msg = open_fails ("File,start_s,end_s,class,speaker_gender\n",
                    MMDNN_ERROR_FORMAT, &dir);
  assert_contains (msg, "column 1 is 'File'");
  g_free (msg);
  free_tmp_dir (dir);

  /* broken CSV in the header */
  msg = open_fails ("file,start_s,end_s,\"class\"x,speaker_gender\n",
                    MMDNN_ERROR_FORMAT, &dir);
  assert_at_line (msg, dir, 1);
  assert_contains (msg, "after its closing quote");
  g_free (msg);
  free_tmp_dir (dir);

  /* not UTF-8 */
  msg = open_fails ("file,start_s,end_s,class,speaker_gender,\xff\n",
                    MMDNN_ERROR_FORMAT, &dir);
  assert_contains (msg, "column 6 is not valid UTF-8");
  g_free (msg);
  free_tmp_dir (dir);
}

static void
test_header_missing_task_n (void)
{
  char *dir, *msg;

  msg = open_fails ("file,start_s,end_s,Class,gender\nclip.mkv,0,1,Bag,male\n",
                    MMDNN_ERROR_FORMAT, &dir);
  assert_at_line (msg, dir, 1);
  assert_contains (msg, "no column for task 'class', 'speaker_gender'");
  assert_contains (msg, "'Class', 'gender'");
  g_free (msg);
  free_tmp_dir (dir);

  /* a task named twice is ambiguous */
  msg = open_fails ("file,start_s,end_s,class,speaker_gender,class\n",
                    MMDNN_ERROR_FORMAT, &dir);
  assert_contains (msg, "names task 'class' twice (columns 4 and 6)");
  g_free (msg);
  free_tmp_dir (dir);
}

static void
test_no_rows_n (void)
{
  char *dir, *msg = open_fails ("file,start_s,end_s,class,speaker_gender\r\n"
                                "\r\n", MMDNN_ERROR_DATA, &dir);

  assert_contains (msg, "no rows");
  g_free (msg);
  free_tmp_dir (dir);
}

/* ---- CSV: bad rows ------------------------------------------------------ */

#define HEADER "file,start_s,end_s,class,speaker_gender\n"

static void
test_row_field_count_n (void)
{
  char *dir, *msg;

  msg = open_fails (HEADER
                    "clip.mkv,0,1,Bag,male\n"
                    "clip.mkv,0,1,Bag\n"
                    "clip.mkv,0,1,Bag,male,extra\n"
                    "clip.mkv\n", MMDNN_ERROR_DATA, &dir);
  assert_contains (msg, "3 bad rows");
  assert_at_line (msg, dir, 3);
  assert_at_line (msg, dir, 4);
  assert_at_line (msg, dir, 5);
  assert_contains (msg, ":3: 4 fields, but the header has 5");
  assert_contains (msg, ":4: 6 fields, but the header has 5");
  assert_contains (msg, ":5: 1 field, but the header has 5");
  g_assert_cmpint (count_lines (msg), ==, 4);
  g_free (msg);
  free_tmp_dir (dir);
}

static void
test_row_bad_time_n (void)
{
  char *dir, *msg;

  msg = open_fails (HEADER
                    "clip.mkv,abc,1,Bag,male\n"     /* 2 */
                    "clip.mkv,0,,Bag,male\n"        /* 3 */
                    "clip.mkv,0x10,20,Bag,male\n"   /* 4 */
                    "clip.mkv,nan,1,Bag,male\n"     /* 5 */
                    "clip.mkv,0,inf,Bag,male\n"     /* 6 */
                    "clip.mkv,0,1e999,Bag,male\n"   /* 7 */
                    "clip.mkv,1.5.2,3,Bag,male\n"   /* 8 */
                    "clip.mkv,0,1,Bag,male\n",      /* good */
                    MMDNN_ERROR_DATA, &dir);
  assert_contains (msg, "7 bad rows");
  assert_contains (msg, ":2: start_s 'abc' is not a number");
  assert_contains (msg, ":3: end_s is empty");
  assert_contains (msg, ":4: start_s '0x10' is not a number");
  assert_contains (msg, ":5: start_s 'nan' is not a number");
  assert_contains (msg, ":6: end_s 'inf' is not a number");
  assert_contains (msg, ":7: end_s '1e999' is out of range");
  assert_contains (msg, ":8: start_s '1.5.2' is not a number");
  assert_lacks (msg, ":9:");
  g_free (msg);
  free_tmp_dir (dir);
}

static void
test_row_end_not_after_start_n (void)
{
  char *dir, *msg;

  msg = open_fails (HEADER
                    "clip.mkv,1,1,Bag,male\n"
                    "clip.mkv,0,1,Bag,male\n"
                    "clip.mkv,1.5,0.5,Bag,male\n",
                    MMDNN_ERROR_DATA, &dir);
  assert_contains (msg, "2 bad rows");
  assert_contains (msg, ":2: end_s '1' is not after start_s '1'");
  assert_contains (msg, ":4: end_s '0.5' is not after start_s '1.5'");
  assert_lacks (msg, ":3:");
  g_free (msg);
  free_tmp_dir (dir);
}

static void
test_row_negative_start_n (void)
{
  char *dir, *msg;

  msg = open_fails (HEADER "clip.mkv,-0.5,1,Bag,male\n",
                    MMDNN_ERROR_DATA, &dir);
  assert_contains (msg, "1 bad row:");
  assert_contains (msg, ":2: start_s '-0.5' is negative");
  g_free (msg);
  free_tmp_dir (dir);
}

static void
test_row_file_problems_n (void)
{
  char *dir, *msg;

  msg = open_fails (HEADER
                    "missing.mkv,0,1,Bag,male\n"    /* 2 */
                    "/etc/passwd,0,1,Bag,male\n"    /* 3 */
                    "sub,0,1,Bag,male\n"            /* 4 */
                    ",0,1,Bag,male\n"               /* 5 */
                    "Clip.mkv,0,1,Bag,male\n",      /* 6: case matters */
                    MMDNN_ERROR_DATA, &dir);
  assert_contains (msg, "5 bad rows");
  assert_contains (msg, ":2: file 'missing.mkv' not found");
  assert_contains (msg, ":3: file '/etc/passwd' is an absolute path");
  assert_contains (msg, ":4: file 'sub' is not a regular file");
  assert_contains (msg, ":5: file is empty");
  assert_contains (msg, ":6: file 'Clip.mkv' not found");
  g_free (msg);
  free_tmp_dir (dir);
}

static void
test_row_unknown_class_n (void)
{
  char *dir, *msg;

  msg = open_fails (HEADER
                    "clip.mkv,0,1,Snekaer,male\n"   /* 2 */
                    "clip.mkv,0,1,sneaker,Male\n"   /* 3 */
                    "clip.mkv,0,1,Bag,robot\n",     /* 4 */
                    MMDNN_ERROR_DATA, &dir);
  assert_contains (msg, "3 bad rows");
  assert_contains (msg, ":2: class: unknown class 'Snekaer'\n");
  /* both problems of a row on its one line */
  assert_contains (msg, ":3: class: unknown class 'sneaker' (did you mean "
                   "'Sneaker'?); speaker_gender: unknown class 'Male' (did "
                   "you mean 'male'?)\n");
  assert_contains (msg, ":4: speaker_gender: unknown class 'robot'\n");
  /* and the allowed names, once per task */
  assert_contains (msg, "task 'class' allows: 'T-shirt/top', 'Trouser', "
                   "'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', "
                   "'Sneaker', 'Bag', 'Ankle boot'");
  assert_contains (msg, "task 'speaker_gender' allows: 'female', 'male'");
  g_assert_cmpint (count_lines (msg), ==, 6);
  g_free (msg);
  free_tmp_dir (dir);
}

static void
test_row_quote_problems_n (void)
{
  char *dir, *msg;

  /* text after a closing quote; then a quote that never closes, which
   * swallows the rest of the file: reported on the line it starts on */
  msg = open_fails (HEADER
                    "\"clip.mkv\"x,0,1,Bag,male\n"          /* 2 */
                    "clip.mkv,0,1,Bag,male\n"               /* 3 */
                    "clip.mkv,0,1,\"Bag,male\n"             /* 4 */
                    "clip.mkv,0,1,Bag,male\n",
                    MMDNN_ERROR_DATA, &dir);
  assert_contains (msg, "2 bad rows");
  assert_contains (msg, ":2: field 1: text after its closing quote");
  assert_contains (msg, ":4: field 4: the quote opened on line 4 is never "
                   "closed");
  g_free (msg);
  free_tmp_dir (dir);
}

static void
test_row_invalid_text_n (void)
{
  char *dir, *msg;
  static const char csv[] = HEADER
      "clip.mkv,0,1,Ba\xc3g,male\n"        /* 2: invalid UTF-8 */
      "clip.mkv,0,1,B\0ag,male\n"          /* 3: a NUL byte */
      "clip.mkv,0,1,\"Bag\x01\t\",male\n"; /* 4: control chars echoed escaped */
  char *file = g_malloc (sizeof csv);

  memcpy (file, csv, sizeof csv);
  dir = make_tmp_dir ();
  copy_clip (dir, "clip.mkv");
  write_file (dir, "labels.csv", file, sizeof csv - 1);
  {
    MmdnnModelConfig *c = mmdnn_model_config_new_default ();
    GError *error = NULL;

    g_assert_null (mmdnn_dataset_open (dir, c, &error));
    g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_DATA);
    msg = error->message;
    assert_contains (msg, "3 bad rows");
    assert_contains (msg, ":2: field 4 is not valid UTF-8");
    assert_contains (msg, ":3: field 4 holds a NUL byte");
    assert_contains (msg, ":4: class: unknown class 'Bag\\x01\\t'");
    g_error_free (error);
    mmdnn_model_config_free (c);
  }
  g_free (file);
  free_tmp_dir (dir);
}

/* 25 bad rows among good ones, CRLF, one row spanning two lines: every
 * line number right, the first 20 spelled out, then "and 5 more". */
static void
test_rows_all_collected_n (void)
{
  GString *csv = g_string_new ("file,start_s,end_s,class,speaker_gender,note"
                               "\r\n");
  int line = 2, bad_lines[25], n_bad = 0;
  char *dir, *msg;

  for (int i = 0; i < 50; i++) {
    gboolean bad = i % 2 == 0;

    g_string_append_printf (csv, "clip.mkv,%s,Bag,male,%s\r\n",
                            bad ? "2,1" : "0,1",
                            i == 3 ? "\"two\r\nlines\"" : "");
    if (bad)
      bad_lines[n_bad++] = line;
    line += i == 3 ? 2 : 1;
  }
  g_assert_cmpint (n_bad, ==, 25);
  msg = open_fails (csv->str, MMDNN_ERROR_DATA, &dir);
  assert_contains (msg, ": 25 bad rows:");
  for (int k = 0; k < 25; k++) {
    char *s = at_line (dir, bad_lines[k]);

    if (k < 20)
      assert_contains (msg, s);
    else
      assert_lacks (msg, s);
    g_free (s);
  }
  g_assert_cmpint (bad_lines[2], ==, 7);        /* after the row on lines 5-6 */
  assert_contains (msg, "\nand 5 more bad rows");
  g_assert_cmpint (count_lines (msg), ==, 22);
  g_string_free (csv, TRUE);
  g_free (msg);
  free_tmp_dir (dir);
}

/* Random bytes (biased towards CSV's special characters) never crash or
 * leak: either a data set or an error. */
static void
test_csv_garbage_n (void)
{
  MmdnnModelConfig *c = mmdnn_model_config_new_default ();
  static const char alphabet[] = ",\"\r\n \t\xEF\xBB\xBF\xC3\xA9\x80\0aBc0.1e-";
  char *dir = make_tmp_dir ();
  MmdnnRng rng;
  int failures = 0;

  copy_clip (dir, "clip.mkv");
  mmdnn_rng_init (&rng, 5);
  for (int round = 0; round < 300; round++) {
    int64_t len = (int64_t) mmdnn_rng_below (&rng, 200);
    char *buf = g_malloc (len + 64);
    GError *error = NULL;
    MmdnnDataset *ds;
    int64_t off = 0;

    if (round % 2) {      /* a valid header, garbage after it */
      memcpy (buf, HEADER, strlen (HEADER));
      off = strlen (HEADER);
    }
    for (int64_t i = 0; i < len; i++)
      buf[off + i] = alphabet[mmdnn_rng_below (&rng, sizeof alphabet - 1)];
    write_file (dir, "labels.csv", buf, off + len);
    ds = mmdnn_dataset_open (dir, c, &error);
    g_assert_true ((ds == NULL) != (error == NULL));
    if (error) {
      g_assert_true (error->domain == MMDNN_ERROR);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
      failures++;
    }
    g_clear_error (&error);
    mmdnn_dataset_free (ds);
    g_free (buf);
  }
  g_assert_cmpint (failures, >, 250);
  mmdnn_model_config_free (c);
  free_tmp_dir (dir);
}

/* ---- ingestion ---------------------------------------------------------- */

/* An independent decode of clip.mkv: all frames, the 16 kHz samples, cues. */
typedef struct {
  GPtrArray *frames;      /* guint8 * packed rgb */
  GArray    *pts;         /* double */
  int64_t    width, height;
  GArray    *samples;     /* float */
  int64_t    first_sample;
  gboolean   have_audio;
  GPtrArray *cue_text;
  GArray    *cue_start, *cue_end;
} Decoded;

static gboolean
dec_video (void *user, double pts_s, const uint8_t *rgb, int64_t width,
           int64_t height, int64_t stride)
{
  Decoded *d = user;
  guint8 *copy = g_malloc (width * height * 3);

  for (int64_t y = 0; y < height; y++)
    memcpy (copy + y * width * 3, rgb + y * stride, width * 3);
  d->width = width;
  d->height = height;
  g_ptr_array_add (d->frames, copy);
  g_array_append_val (d->pts, pts_s);
  return TRUE;
}

static gboolean
dec_audio (void *user, double pts_s, const float *samples, int64_t n)
{
  Decoded *d = user;

  if (!d->have_audio) {
    d->first_sample = llround (pts_s * 16000);
    d->have_audio = TRUE;
  }
  g_array_append_vals (d->samples, samples, (guint) n);
  return TRUE;
}

static gboolean
dec_subtitle (void *user, double start_s, double end_s, const char *text)
{
  Decoded *d = user;

  g_ptr_array_add (d->cue_text, g_strdup (text));
  g_array_append_val (d->cue_start, start_s);
  g_array_append_val (d->cue_end, end_s);
  return TRUE;
}

static Decoded *
decode_media (const char *name)
{
  MmdnnMediaCallbacks cb = { dec_video, dec_audio, dec_subtitle };
  Decoded *d = g_new0 (Decoded, 1);
  char *path = media_path (name);
  GError *error = NULL;

  d->frames = g_ptr_array_new_with_free_func (g_free);
  d->pts = g_array_new (FALSE, FALSE, sizeof (double));
  d->samples = g_array_new (FALSE, FALSE, sizeof (float));
  d->cue_text = g_ptr_array_new_with_free_func (g_free);
  d->cue_start = g_array_new (FALSE, FALSE, sizeof (double));
  d->cue_end = g_array_new (FALSE, FALSE, sizeof (double));
  g_assert_true (mmdnn_media_decode (path, 16000, &cb, d, &error));
  g_assert_no_error (error);
  g_free (path);
  return d;
}

/* clip.mkv: 20 frames 0.0, 0.1, … 1.9 s (all the same colour bars), a
 * 1 kHz tone, 2 cues */
static Decoded *
decode_clip (void)
{
  Decoded *d = decode_media ("clip.mkv");

  g_assert_cmpuint (d->frames->len, ==, 20);
  g_assert_cmpuint (d->cue_text->len, ==, 2);
  g_assert_true (d->have_audio);
  return d;
}

static void
decoded_free (Decoded *d)
{
  g_ptr_array_unref (d->frames);
  g_array_unref (d->pts);
  g_array_unref (d->samples);
  g_ptr_array_unref (d->cue_text);
  g_array_unref (d->cue_start);
  g_array_unref (d->cue_end);
  g_free (d);
}

/* What the video of a sample must be: decoded frame @pick (−1: none, all
 * zeros) through the core's preprocessing. Which frame a window takes is
 * worked out by hand in each test (the frame on screen at the window's
 * middle, see mmdnn_dataset_load ()). */
static void
expect_video (const Decoded *d, const MmdnnModelConfig *c, int pick,
              float *out)
{
  GError *error = NULL;

  memset (out, 0, sizeof (float) * 3 * 64 * 64);
  if (pick >= 0) {
    MmdnnVideoPrep *vp = mmdnn_video_prep_new (&c->video_prep, &error);
    const uint8_t *planes[1] = { g_ptr_array_index (d->frames, pick) };
    int64_t strides[1] = { d->width * 3 };

    g_assert_cmpint (pick, <, (int) d->frames->len);
    g_assert_no_error (error);
    g_assert_true (mmdnn_video_prep_frame (vp, MMDNN_PIXEL_RGB, d->width,
                                           d->height, planes, strides, out,
                                           &error));
    g_assert_no_error (error);
    mmdnn_video_prep_free (vp);
  }
}

static void
expect_text (const Decoded *d, const MmdnnModelConfig *c, double s, double e,
             int32_t *ids, int64_t *n_tokens)
{
  GString *text = g_string_new (NULL);
  GError *error = NULL;
  int n = 0;

  for (guint i = 0; i < d->cue_text->len; i++)
    if (g_array_index (d->cue_start, double, i) < e
        && g_array_index (d->cue_end, double, i) > s) {
      if (n++)
        g_string_append_c (text, ' ');
      g_string_append (text, g_ptr_array_index (d->cue_text, i));
    }
  g_assert_true (mmdnn_text_tokenize (&c->text_prep, text->str, -1, ids,
                                      n_tokens, &error));
  g_assert_no_error (error);
  g_string_free (text, TRUE);
}

/* A data set folder with the committed @media and these rows (class,
 * gender fixed). */
static MmdnnDataset *
make_dataset_of (const MmdnnModelConfig *c, const char *media,
                 const char *rows, char **dir_out)
{
  char *dir = make_tmp_dir ();
  char *csv = g_strconcat (HEADER, rows, NULL);
  GError *error = NULL;
  MmdnnDataset *ds;

  copy_media (dir, media, media);
  write_csv (dir, csv);
  ds = mmdnn_dataset_open (dir, c, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ds);
  g_free (csv);
  *dir_out = dir;
  return ds;
}

static MmdnnDataset *
make_dataset (const MmdnnModelConfig *c, const char *rows, char **dir_out)
{
  return make_dataset_of (c, "clip.mkv", rows, dir_out);
}

/* the mel band whose centre is nearest @hz (Slaney scale, as librosa) */
static int
band_of (double hz, const MmdnnLogMelConfig *lc)
{
  double step = log (6.4) / 27.0;
#define HZ2MEL(f) ((f) < 1000 ? 3.0 * (f) / 200.0 : 15.0 + log ((f) / 1000.0) / step)
#define MEL2HZ(m) ((m) < 15 ? 200.0 * (m) / 3.0 : 1000.0 * exp (((m) - 15.0) * step))
  double lo = HZ2MEL ((double) lc->fmin), hi = HZ2MEL ((double) lc->fmax);
  int best = -1;
  double best_d = G_MAXDOUBLE;

  for (int i = 0; i < lc->n_mels; i++) {
    double centre = MEL2HZ (lo + (hi - lo) * (i + 1) / (lc->n_mels + 1));

    if (fabs (centre - hz) < best_d) {
      best_d = fabs (centre - hz);
      best = i;
    }
  }
  return best;
}

/* The whole clip [0, 2): every stream present, each modality equal to
 * the core preprocessing run on an independent decode. */
static void
test_load_clip (void)
{
  MmdnnModelConfig *c = mmdnn_model_config_new_default ();
  const MmdnnLogMelConfig *lc = &c->logmel;
  Decoded *d = decode_clip ();
  char *dir;
  MmdnnDataset *ds = make_dataset (c, "clip.mkv,0,2,Sneaker,female\n", &dir);
  GError *error = NULL;
  MmdnnBatch *b = mmdnn_batch_new (c, 2, &error);
  int64_t P = c->audio_patch_frames, n_mels = lc->n_mels, L, M, n_tokens;
  float *want_video = g_new (float, 3 * 64 * 64), *frames = NULL;
  int32_t *want_ids;
  int64_t n_frames = 0, first, count;
  double band_mean[64] = { 0 };
  int loudest = 0;

  g_assert_no_error (error);
  g_assert_true (mmdnn_dataset_load (ds, 0, c, b, 1, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (b->presence[3 + 0], ==, 1.0f);
  g_assert_cmpfloat (b->presence[3 + 1], ==, 1.0f);
  g_assert_cmpfloat (b->presence[3 + 2], ==, 1.0f);
  g_assert_cmpint (b->labels[2 + 0], ==, 7);
  g_assert_cmpint (b->labels[2 + 1], ==, 0);
  g_assert_cmpint (b->labels[0], ==, -1);          /* slot 0 untouched */

  /* video: the frame on screen at the middle, 1.0 s: frame 10, which
   * starts there (frame 9 shows over [0.9, 1.0)), prepped */
  expect_video (d, c, 10, want_video);
  g_assert_cmpint (memcmp (b->video + 3 * 64 * 64, want_video,
                           sizeof (float) * 3 * 64 * 64), ==, 0);
  g_assert_cmpfloat (fabsf (b->video[3 * 64 * 64]), >, 0.1f);  /* not zeros */

  /* audio: the patch's nominal span, 100 frames of 160 samples = 16000
   * samples, centred in the clip's 32000 starts at sample 8000 = frame 50:
   * frames 50..149, framed from sample 8000 (exactly the 1-s patch a
   * 2-s window of mmdnnfuse takes, from 0.5 s) */
  first = 50 * lc->hop_length - d->first_sample;
  count = (P - 1) * lc->hop_length + lc->win_length;
  g_assert_cmpint (first, >=, 0);
  g_assert_cmpint (first + count, <=, (int64_t) d->samples->len);
  g_assert_true (mmdnn_logmel_compute (lc, (float *) (void *) d->samples->data
                                       + first, count, &frames, &n_frames,
                                       &error));
  g_assert_no_error (error);
  g_assert_cmpint (n_frames, ==, P);
  for (int64_t t = 0; t < P; t++)
    for (int64_t m = 0; m < n_mels; m++) {
      float got = b->audio[P * n_mels + m * P + t];

      g_assert_cmpfloat (got, ==, frames[t * n_mels + m]);
      band_mean[m] += got / (double) P;
    }
  for (int m = 1; m < n_mels; m++)
    if (band_mean[m] > band_mean[loudest])
      loudest = m;
  g_assert_cmpint (loudest, ==, band_of (1000.0, lc));
  g_assert_cmpfloat (band_mean[loudest], >, band_mean[0] + 5.0);

  /* text: both cues, joined */
  L = c->text_prep.max_tokens;
  M = c->text_prep.max_ids_per_token;
  want_ids = g_new (int32_t, L * M);
  expect_text (d, c, 0.0, 2.0, want_ids, &n_tokens);
  g_assert_cmpint (n_tokens, ==, 4);          /* hello world don't go */
  g_assert_cmpint (memcmp (b->text_ids + L * M, want_ids,
                           sizeof (int32_t) * L * M), ==, 0);
  /* the worked example of text.h (65536 buckets): don't → 27866,
   * go → 43106; a power-of-two bucket count below it keeps the low bits */
  g_assert_cmpint (65536 % c->text_prep.buckets, ==, 0);
  g_assert_cmpint (b->text_ids[L * M + 2 * M], ==, 27866 % c->text_prep.buckets);
  g_assert_cmpint (b->text_ids[L * M + 3 * M], ==, 43106 % c->text_prep.buckets);
  g_assert_cmpint (b->text_ids[L * M + 4 * M], ==, -1);

  g_free (frames);
  g_free (want_ids);
  g_free (want_video);
  mmdnn_batch_free (b);
  mmdnn_dataset_free (ds);
  decoded_free (d);
  mmdnn_model_config_free (c);
  free_tmp_dir (dir);
}

/* Windows inside the clip: a short one (padded audio patch, no cue), one
 * between the cues and between two frame starts (the frame showing then,
 * the audio), one with the first cue only, a half-open edge. clip.mkv's
 * frames all look the same: which frame is taken is tested on frames.mkv
 * (test_load_frame_choice); here, that one is. */
static void
test_load_windows (void)
{
  MmdnnModelConfig *c = mmdnn_model_config_new_default ();
  const MmdnnLogMelConfig *lc = &c->logmel;
  Decoded *d = decode_clip ();
  char *dir;
  MmdnnDataset *ds = make_dataset (c,
      "clip.mkv,1.85,2.0,Bag,\n"            /* 0 */
      "clip.mkv,0.92,0.98,,male\n"          /* 1 */
      "clip.mkv,0,0.5,Coat,female\n"        /* 2 */
      "clip.mkv,0.9,1.0,Dress,male\n",      /* 3 */
      &dir);
  GError *error = NULL;
  MmdnnBatch *b = mmdnn_batch_new (c, 4, &error);
  int64_t P = c->audio_patch_frames, n_mels = lc->n_mels;
  int64_t L = c->text_prep.max_tokens, M = c->text_prep.max_ids_per_token;
  int64_t V = 3 * 64 * 64, A = n_mels * P, n_tokens;
  float silence = (float) log ((double) lc->log_floor);
  float *want_video = g_new (float, V);
  int32_t *want_ids = g_new (int32_t, L * M);
  const double win[4][2] = { { 1.85, 2.0 }, { 0.92, 0.98 }, { 0, 0.5 },
                             { 0.9, 1.0 } };
  const float want_presence[4][3] = { { 1, 1, 0 }, { 1, 1, 0 }, { 1, 1, 1 },
                                      { 1, 1, 0 } };
  /* the frame on screen at each middle (frame i shows over [i/10,
   * (i+1)/10)): 1.925 → 19; 0.95 → 9, which started before the window
   * and shows through it; 0.25 → 2; 0.95 → 9 */
  const int want_frame[4] = { 19, 9, 2, 9 };
  const int32_t want_labels[4][2] = { { 8, -1 }, { -1, 1 }, { 4, 0 },
                                      { 3, 1 } };

  g_assert_no_error (error);
  for (int i = 0; i < 4; i++) {
    g_assert_true (mmdnn_dataset_load (ds, i, c, b, i, &error));
    g_assert_no_error (error);
    for (int m = 0; m < 3; m++)
      g_assert_cmpfloat (b->presence[i * 3 + m], ==, want_presence[i][m]);
    g_assert_cmpint (b->labels[i * 2], ==, want_labels[i][0]);
    g_assert_cmpint (b->labels[i * 2 + 1], ==, want_labels[i][1]);
    expect_video (d, c, want_frame[i], want_video);
    g_assert_cmpint (memcmp (b->video + i * V, want_video,
                             sizeof (float) * V), ==, 0);
    expect_text (d, c, win[i][0], win[i][1], want_ids, &n_tokens);
    g_assert_cmpint (n_tokens > 0, ==, want_presence[i][2] == 1.0f);
    g_assert_cmpint (memcmp (b->text_ids + i * L * M, want_ids,
                             sizeof (int32_t) * L * M), ==, 0);
  }
  /* [0, 0.5): "Hello, world!" only */
  g_assert_cmpint (b->text_ids[2 * L * M + 1 * M], !=, -1);
  g_assert_cmpint (b->text_ids[2 * L * M + 2 * M], ==, -1);
  /* no cue: every id is padding */
  for (int64_t k = 0; k < L * M; k++)
    g_assert_cmpint (b->text_ids[k], ==, -1);

  /* [1.85, 2.0): 2400 samples hold 13 frames. The patch's nominal 16000
   * samples centred on them start (2400 − 16000)/2 = −6800 samples =
   * −42.5 hops from the window: frame −43, the earlier. So columns 43..55
   * hold frames 0..12, the 43 before and the 44 after are the log of
   * silence */
  {
    const float *patch = b->audio;
    float *frames = NULL;
    int64_t n_frames = 0, first = 29600 - d->first_sample;

    g_assert_true (mmdnn_logmel_compute (lc, (float *) (void *)
                                         d->samples->data + first,
                                         12 * 160 + 400, &frames, &n_frames,
                                         &error));
    g_assert_no_error (error);
    g_assert_cmpint (n_frames, ==, 13);
    for (int64_t m = 0; m < n_mels; m++)
      for (int64_t f = 0; f < P; f++) {
        float got = patch[m * P + f];

        if (f < 43 || f >= 56)
          g_assert_cmpfloat (got, ==, silence);
        else
          g_assert_cmpfloat (got, ==, frames[(f - 43) * n_mels + m]);
      }
    g_free (frames);
  }
  /* [0.92, 0.98): 960 samples, 4 frames; (960 − 16000)/2 = −7520 samples
   * = −47 hops: columns 47..50 */
  for (int64_t f = 0; f < P; f++)
    g_assert_cmpint (b->audio[A + 21 * P + f] == silence, ==,
                     f < 47 || f >= 51);

  g_free (want_video);
  g_free (want_ids);
  mmdnn_batch_free (b);
  mmdnn_dataset_free (ds);
  decoded_free (d);
  mmdnn_model_config_free (c);
  free_tmp_dir (dir);
}

/* Which frame a clip takes: the one on screen at its middle. frames.mkv
 * has frames i = 0..14 at 0.5 + i/10 s, each shown until the next (the
 * last for 0.1 s too), every one different. */
static void
test_load_frame_choice (void)
{
  MmdnnModelConfig *c = mmdnn_model_config_new_default ();
  Decoded *d = decode_media ("frames.mkv");
  char *dir;
  MmdnnDataset *ds;
  GError *error = NULL;
  MmdnnBatch *b;
  int64_t V = 3 * 64 * 64;
  float *want = g_new (float, V), *other = g_new (float, V);
  static const struct {
    const char *row;
    int frame;
  } cases[] = {
    /* middle 0.6: frame 1 starts exactly there (frame 0 shows up to it) */
    { "frames.mkv,0,1.2,Bag,\n", 1 },
    /* middle 0.59: frame 0 still shows; frame 1 is nearer but not yet on */
    { "frames.mkv,0.5,0.68,Bag,\n", 0 },
    /* middle 1.18: frame 6 (1.1), not the nearer frame 7 (1.2) */
    { "frames.mkv,1,1.36,Bag,\n", 6 },
    /* middle 0.45: nothing shows yet; the first frame after it */
    { "frames.mkv,0,0.9,Bag,\n", 0 },
    /* no frame starts inside: frame 2 (0.7) shows through it */
    { "frames.mkv,0.72,0.78,Bag,\n", 2 },
    /* frame 5 (1.0) exactly at the window's start is in it */
    { "frames.mkv,1,1.05,Bag,\n", 5 },
    /* frame 5 exactly at the window's end is not: frame 4 shows */
    { "frames.mkv,0.95,1,Bag,\n", 4 },
    /* the last frame (1.9) shows over [1.9, 2.0) and reaches in */
    { "frames.mkv,1.95,2.5,Bag,\n", 14 },
  };
  GString *rows = g_string_new (NULL);

  /* the frames differ, so taking the wrong one is seen */
  g_assert_cmpuint (d->frames->len, ==, 15);
  g_assert_cmpfloat (fabs (g_array_index (d->pts, double, 0) - 0.5), <, 1e-9);
  for (guint i = 1; i < d->frames->len; i++)
    g_assert_cmpint (memcmp (g_ptr_array_index (d->frames, i - 1),
                             g_ptr_array_index (d->frames, i),
                             (gsize) (d->width * d->height * 3)), !=, 0);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    g_string_append (rows, cases[i].row);
  ds = make_dataset_of (c, "frames.mkv", rows->str, &dir);
  b = mmdnn_batch_new (c, 1, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    int f = cases[i].frame;

    g_test_message ("%s", cases[i].row);
    g_assert_true (mmdnn_dataset_load (ds, i, c, b, 0, &error));
    g_assert_no_error (error);
    g_assert_cmpfloat (b->presence[0], ==, 1.0f);
    g_assert_cmpfloat (b->presence[1], ==, 0.0f);    /* no audio stream */
    expect_video (d, c, f, want);
    g_assert_cmpint (memcmp (b->video, want, sizeof (float) * V), ==, 0);
    /* and not its neighbour */
    expect_video (d, c, f > 0 ? f - 1 : f + 1, other);
    g_assert_cmpint (memcmp (b->video, other, sizeof (float) * V), !=, 0);
  }

  g_string_free (rows, TRUE);
  g_free (want);
  g_free (other);
  mmdnn_batch_free (b);
  mmdnn_dataset_free (ds);
  decoded_free (d);
  mmdnn_model_config_free (c);
  free_tmp_dir (dir);
}

/* load_all: two files, several clips in one, equals clip-by-clip loads;
 * a config without text leaves text absent. */
static void
test_load_all (void)
{
  MmdnnModelConfig *c = mmdnn_model_config_new_default ();
  char *dir;
  MmdnnDataset *ds;
  GError *error = NULL;
  MmdnnBatch *all = NULL, *one;
  int64_t V = 3 * 64 * 64, A = 64 * 100, T;

  dir = make_tmp_dir ();
  copy_clip (dir, "clip.mkv");
  copy_clip (dir, "other.mkv");
  write_csv (dir, HEADER
             "clip.mkv,0,1,Bag,male\n"
             "other.mkv,0.5,1.5,Coat,female\n"
             "clip.mkv,1,2,Shirt,\n"
             "clip.mkv,0.92,0.98,,male\n");
  ds = mmdnn_dataset_open (dir, c, &error);
  g_assert_no_error (error);
  T = c->text_prep.max_tokens * c->text_prep.max_ids_per_token;

  g_assert_true (mmdnn_dataset_load_all (ds, c, &all, &error));
  g_assert_no_error (error);
  g_assert_nonnull (all);
  g_assert_cmpint (all->n, ==, 4);
  one = mmdnn_batch_new (c, 1, &error);
  for (int i = 0; i < 4; i++) {
    g_assert_true (mmdnn_dataset_load (ds, i, c, one, 0, &error));
    g_assert_no_error (error);
    g_assert_cmpint (memcmp (all->video + i * V, one->video,
                             sizeof (float) * V), ==, 0);
    g_assert_cmpint (memcmp (all->audio + i * A, one->audio,
                             sizeof (float) * A), ==, 0);
    g_assert_cmpint (memcmp (all->text_ids + i * T, one->text_ids,
                             sizeof (int32_t) * T), ==, 0);
    g_assert_cmpint (memcmp (all->presence + i * 3, one->presence,
                             sizeof (float) * 3), ==, 0);
    g_assert_cmpint (memcmp (all->labels + i * 2, one->labels,
                             sizeof (int32_t) * 2), ==, 0);
  }
  g_assert_cmpint (all->labels[0], ==, 8);
  g_assert_cmpint (all->labels[3], ==, 0);
  g_assert_cmpint (all->labels[5], ==, -1);
  /* [0.92, 0.98): frame 9 shows over [0.9, 1.0); no cue */
  g_assert_cmpfloat (all->presence[3 * 3 + 0], ==, 1.0f);
  g_assert_cmpfloat (all->presence[3 * 3 + 2], ==, 0.0f);
  mmdnn_batch_free (all);
  mmdnn_batch_free (one);

  /* no text in the config: text presence 0 everywhere, no text array */
  c->has[MMDNN_MODALITY_TEXT] = FALSE;
  g_assert_true (mmdnn_dataset_load_all (ds, c, &all, &error));
  g_assert_no_error (error);
  g_assert_null (all->text_ids);
  for (int i = 0; i < 4; i++)
    g_assert_cmpfloat (all->presence[i * 3 + 2], ==, 0.0f);
  g_assert_cmpfloat (all->presence[0], ==, 1.0f);
  mmdnn_batch_free (all);

  mmdnn_dataset_free (ds);
  mmdnn_model_config_free (c);
  free_tmp_dir (dir);
}

/* A 16 kHz mono float WAV of @n samples: a 440 Hz tone, with NaN, +Inf
 * and -Inf at every 997th sample when @bad, 0 there otherwise. */
static void
write_float_wav (const char *dir, const char *name, int64_t n, gboolean bad)
{
  const guint32 rate = 16000, data_len = (guint32) n * 4;
  GByteArray *b = g_byte_array_new ();
  guint32 u32;
  guint16 u16;

#define PUT(v, t) (t = (v), g_byte_array_append (b, (const guint8 *) &t, sizeof t))
  g_byte_array_append (b, (const guint8 *) "RIFF", 4);
  PUT (GUINT32_TO_LE (36 + data_len), u32);
  g_byte_array_append (b, (const guint8 *) "WAVEfmt ", 8);
  PUT (GUINT32_TO_LE (16), u32);
  PUT (GUINT16_TO_LE (3), u16);             /* IEEE float */
  PUT (GUINT16_TO_LE (1), u16);
  PUT (GUINT32_TO_LE (rate), u32);
  PUT (GUINT32_TO_LE (rate * 4), u32);
  PUT (GUINT16_TO_LE (4), u16);
  PUT (GUINT16_TO_LE (32), u16);
  g_byte_array_append (b, (const guint8 *) "data", 4);
  PUT (GUINT32_TO_LE (data_len), u32);
#undef PUT
  for (int64_t i = 0; i < n; i++) {
    float v = 0.3f * sinf (2.0f * (float) G_PI * 440.0f * (float) i / rate);

    if (i % 997 == 5)
      v = !bad ? 0.0f : i % 3 == 0 ? NAN : i % 3 == 1 ? INFINITY : -INFINITY;
    g_byte_array_append (b, (const guint8 *) &v, 4);   /* host = LE here */
  }
  write_file (dir, name, (const char *) b->data, b->len);
  g_byte_array_unref (b);
}

/* NaN and infinite audio samples in a data set are silence, as in
 * mmdnnaudioenc (the log-mel itself refuses them): the clip loads, its
 * audio input equals that of the same file with zeros in their place,
 * and a warning names the file and the count. */
static char *warned;

static void
keep_warning (MmdnnLogLevel level, const char *message, void *user_data)
{
  (void) user_data;
  if (level == MMDNN_LOG_WARNING && warned == NULL)
    warned = g_strdup (message);
}

static void
test_load_nonfinite_audio_n (void)
{
  MmdnnModelConfig *c = mmdnn_model_config_new_default ();
  int64_t A = 64 * 100;
  MmdnnBatch *b[2];
  GError *error = NULL;
  char *dir = make_tmp_dir ();

  write_float_wav (dir, "bad.wav", 32000, TRUE);
  write_float_wav (dir, "zero.wav", 32000, FALSE);
  write_csv (dir, HEADER "bad.wav,0,2,Bag,male\nzero.wav,0,2,Bag,male\n");
  for (int i = 0; i < 2; i++) {
    MmdnnDataset *ds;

    mmdnn_set_log_func (keep_warning, NULL);
    ds = mmdnn_dataset_open (dir, c, &error);
    g_assert_no_error (error);
    b[i] = mmdnn_batch_new (c, 1, &error);
    g_assert_true (mmdnn_dataset_load (ds, i, c, b[i], 0, &error));
    g_assert_no_error (error);
    mmdnn_set_log_func (NULL, NULL);
    g_assert_cmpfloat (b[i]->presence[1], ==, 1.0f);
    mmdnn_dataset_free (ds);
  }
  for (int64_t k = 0; k < A; k++)
    g_assert_true (isfinite (b[0]->audio[k]));
  g_assert_cmpint (memcmp (b[0]->audio, b[1]->audio, sizeof (float) * A), ==,
                   0);
  g_assert_nonnull (warned);
  assert_contains (warned, "bad.wav: ");
  assert_contains (warned, " non-finite audio samples in the clips replaced by 0");
  g_clear_pointer (&warned, g_free);
  mmdnn_batch_free (b[0]);
  mmdnn_batch_free (b[1]);
  mmdnn_model_config_free (c);
  free_tmp_dir (dir);
}

/* ---- ingestion: bad arguments and bad files ----------------------------- */

static gboolean
batch_is_pristine (const MmdnnBatch *b)
{
  for (int64_t k = 0; k < b->n * 3 * 64 * 64; k++)
    if (b->video[k] != 0.0f)
      return FALSE;
  for (int64_t k = 0; k < b->n * 64 * 100; k++)
    if (b->audio[k] != 0.0f)
      return FALSE;
  for (int64_t k = 0; k < b->n * 2; k++)
    if (b->labels[k] != -1)
      return FALSE;
  for (int64_t k = 0; k < b->n * 3; k++)
    if (b->presence[k] != 1.0f)
      return FALSE;
  return TRUE;
}

static void
test_load_bad_args_n (void)
{
  MmdnnModelConfig *c = mmdnn_model_config_new_default ();
  char *dir;
  MmdnnDataset *ds = make_dataset (c, "clip.mkv,0,1,Bag,male\n", &dir);
  GError *error = NULL;
  MmdnnBatch *b = mmdnn_batch_new (c, 2, &error);
  MmdnnBatch *out = (MmdnnBatch *) (void *) &error;     /* a sentinel */

  g_assert_false (mmdnn_dataset_load (ds, 1, c, b, 0, &error));
  g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  assert_contains (error->message, "index=1");
  g_clear_error (&error);
  g_assert_false (mmdnn_dataset_load (ds, -1, c, b, 0, &error));
  g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (mmdnn_dataset_load (ds, 0, c, b, 2, &error));
  g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  assert_contains (error->message, "slot=2");
  g_clear_error (&error);
  g_assert_false (mmdnn_dataset_load (ds, 0, c, b, -1, &error));
  g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (mmdnn_dataset_load (NULL, 0, c, b, 0, &error));
  g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (mmdnn_dataset_load (ds, 0, NULL, b, 0, &error));
  g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (mmdnn_dataset_load (ds, 0, c, NULL, 0, &error));
  g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (mmdnn_dataset_load_all (ds, c, NULL, &error));
  g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* a batch made for a config without video */
  {
    MmdnnModelConfig *c2 = mmdnn_model_config_copy (c);
    MmdnnBatch *b2;

    c2->has[MMDNN_MODALITY_VIDEO] = FALSE;
    b2 = mmdnn_batch_new (c2, 1, &error);
    g_assert_false (mmdnn_dataset_load (ds, 0, c, b2, 0, &error));
    g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
    assert_contains (error->message, "lacks an array");
    g_clear_error (&error);
    mmdnn_batch_free (b2);
    mmdnn_model_config_free (c2);
  }

  /* a config whose tasks are not the data set's */
  {
    MmdnnModelConfig *c2 = mmdnn_model_config_copy (c);
    const char *const names[] = { "a", "b", NULL };

    g_assert_true (mmdnn_model_config_set_task (c2, 1, "mood", names, 1.0f,
                                                &error));
    g_assert_false (mmdnn_dataset_load (ds, 0, c2, b, 0, &error));
    g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
    assert_contains (error->message, "'speaker_gender' in the data set but "
                     "'mood'");
    g_clear_error (&error);
    g_assert_false (mmdnn_dataset_load_all (ds, c2, &out, &error));
    g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    drop_last_task (c2);
    g_assert_false (mmdnn_dataset_load (ds, 0, c2, b, 0, &error));
    g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    mmdnn_model_config_free (c2);
  }

  /* clips edited by hand in the public struct */
  {
    MmdnnClip *k = &g_array_index (ds->clips, MmdnnClip, 0);

    k->labels[0] = 10;
    g_assert_false (mmdnn_dataset_load (ds, 0, c, b, 0, &error));
    g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
    assert_contains (error->message, "label 10");
    g_clear_error (&error);
    k->labels[0] = 8;
    k->end_s = NAN;
    g_assert_false (mmdnn_dataset_load_all (ds, c, &out, &error));
    g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
    assert_contains (error->message, "bad window");
    g_clear_error (&error);
  }

  g_assert_true (out == (MmdnnBatch *) (void *) &error);
  g_assert_true (batch_is_pristine (b));
  mmdnn_batch_free (b);
  mmdnn_dataset_free (ds);
  mmdnn_model_config_free (c);
  free_tmp_dir (dir);
}

/* A file that is not media: the error names it and the CSV line; neither
 * the slot nor *out is touched. */
static void
test_load_undecodable_n (void)
{
  MmdnnModelConfig *c = mmdnn_model_config_new_default ();
  char *dir;
  MmdnnDataset *ds;
  GError *error = NULL;
  MmdnnBatch *b = mmdnn_batch_new (c, 2, &error), *out = NULL;

  dir = make_tmp_dir ();
  copy_clip (dir, "clip.mkv");
  write_file (dir, "junk.mkv", "this is not a Matroska file\n", -1);
  write_csv (dir, HEADER "clip.mkv,0,1,Bag,male\njunk.mkv,0,1,Bag,male\n");
  ds = mmdnn_dataset_open (dir, c, &error);
  g_assert_no_error (error);

  g_assert_false (mmdnn_dataset_load (ds, 1, c, b, 1, &error));
  g_assert_nonnull (error);
  g_assert_true (error->domain == MMDNN_ERROR);
  g_assert_cmpint (error->code, ==, MMDNN_ERROR_FORMAT);
  assert_contains (error->message, "junk.mkv");
  assert_at_line (error->message, dir, 3);
  g_clear_error (&error);
  g_assert_true (batch_is_pristine (b));

  g_assert_false (mmdnn_dataset_load_all (ds, c, &out, &error));
  g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT);
  assert_contains (error->message, "junk.mkv");
  g_clear_error (&error);
  g_assert_null (out);

  /* the file vanished after open */
  g_assert_true (mmdnn_dataset_load (ds, 0, c, b, 0, &error));
  g_assert_no_error (error);
  {
    char *p = g_build_filename (dir, "clip.mkv", NULL);
    g_unlink (p);
    g_free (p);
  }
  g_assert_false (mmdnn_dataset_load (ds, 0, c, b, 1, &error));
  g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_IO);
  assert_contains (error->message, "clip.mkv");
  g_clear_error (&error);
  g_assert_cmpint (b->labels[2], ==, -1);               /* slot 1 untouched */

  mmdnn_batch_free (b);
  mmdnn_dataset_free (ds);
  mmdnn_model_config_free (c);
  free_tmp_dir (dir);
}

/* A window after the end of the file: DATA naming the file and the line.
 * One too short to hold an audio frame or a cue still shows a frame. */
static void
test_load_empty_window_n (void)
{
  MmdnnModelConfig *c = mmdnn_model_config_new_default ();
  char *dir;
  MmdnnDataset *ds = make_dataset (c,
      "clip.mkv,0,1,Bag,male\n"
      "clip.mkv,10,11,Bag,male\n"
      "clip.mkv,0.91,0.92,Bag,male\n", &dir);
  GError *error = NULL;
  MmdnnBatch *b = mmdnn_batch_new (c, 2, &error), *out = NULL;

  g_assert_false (mmdnn_dataset_load (ds, 1, c, b, 0, &error));
  g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_DATA);
  assert_at_line (error->message, dir, 3);
  assert_contains (error->message, "clip.mkv has nothing in [10, 11) s: no "
                   "video frame, no whole audio frame, no subtitle text");
  g_clear_error (&error);
  g_assert_true (batch_is_pristine (b));
  /* 10 ms: no cue, less than one 25 ms audio frame, but frame 9 shows
   * over [0.9, 1.0): video alone */
  g_assert_true (mmdnn_dataset_load (ds, 2, c, b, 1, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (b->presence[3 + 0], ==, 1.0f);
  g_assert_cmpfloat (b->presence[3 + 1], ==, 0.0f);
  g_assert_cmpfloat (b->presence[3 + 2], ==, 0.0f);
  g_assert_false (mmdnn_dataset_load_all (ds, c, &out, &error));
  g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_DATA);
  assert_at_line (error->message, dir, 3);
  g_clear_error (&error);
  g_assert_null (out);

  mmdnn_batch_free (b);
  mmdnn_dataset_free (ds);
  mmdnn_model_config_free (c);
  free_tmp_dir (dir);
}

/* Clips of frames.mkv (video only, frames from 0.5 to 1.9 s, each shown
 * for 0.1 s) in which no frame shows: DATA, "no video frame". */
static void
test_load_no_frame_n (void)
{
  MmdnnModelConfig *c = mmdnn_model_config_new_default ();
  char *dir;
  MmdnnDataset *ds;
  GError *error = NULL;
  MmdnnBatch *b;
  static const char *const rows[] = {
    "frames.mkv,0,0.45,Bag,\n",    /* before the first frame */
    "frames.mkv,0,0.5,Bag,\n",     /* the first exactly at the end edge */
    "frames.mkv,2,2.5,Bag,\n",     /* the last ended exactly at the start */
  };
  GString *csv = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    g_string_append (csv, rows[i]);
  ds = make_dataset_of (c, "frames.mkv", csv->str, &dir);
  b = mmdnn_batch_new (c, 1, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (rows); i++) {
    g_test_message ("%s", rows[i]);
    g_assert_false (mmdnn_dataset_load (ds, i, c, b, 0, &error));
    g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_DATA);
    assert_at_line (error->message, dir, 2 + (int) i);
    assert_contains (error->message, "no video frame");
    g_clear_error (&error);
  }
  g_assert_true (batch_is_pristine (b));

  g_string_free (csv, TRUE);
  mmdnn_batch_free (b);
  mmdnn_dataset_free (ds);
  mmdnn_model_config_free (c);
  free_tmp_dir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/dataset/csv-good", test_csv_good);
  g_test_add_func ("/dataset/csv-custom-tasks", test_csv_custom_tasks);
  g_test_add_func ("/dataset/load-clip", test_load_clip);
  g_test_add_func ("/dataset/load-windows", test_load_windows);
  g_test_add_func ("/dataset/load-frame-choice", test_load_frame_choice);
  g_test_add_func ("/dataset/load-all", test_load_all);
  g_test_add_func ("/dataset/load-nonfinite-audio_n",
                   test_load_nonfinite_audio_n);

  g_test_add_func ("/dataset/open-null_n", test_open_null_n);
  g_test_add_func ("/dataset/open-missing-csv_n", test_open_missing_csv_n);
  g_test_add_func ("/dataset/empty-file_n", test_empty_file_n);
  g_test_add_func ("/dataset/header-bad_n", test_header_bad_n);
  g_test_add_func ("/dataset/header-missing-task_n", test_header_missing_task_n);
  g_test_add_func ("/dataset/no-rows_n", test_no_rows_n);
  g_test_add_func ("/dataset/row-field-count_n", test_row_field_count_n);
  g_test_add_func ("/dataset/row-bad-time_n", test_row_bad_time_n);
  g_test_add_func ("/dataset/row-end-not-after-start_n",
                   test_row_end_not_after_start_n);
  g_test_add_func ("/dataset/row-negative-start_n", test_row_negative_start_n);
  g_test_add_func ("/dataset/row-file-problems_n", test_row_file_problems_n);
  g_test_add_func ("/dataset/row-unknown-class_n", test_row_unknown_class_n);
  g_test_add_func ("/dataset/row-quote-problems_n", test_row_quote_problems_n);
  g_test_add_func ("/dataset/row-invalid-text_n", test_row_invalid_text_n);
  g_test_add_func ("/dataset/rows-all-collected_n", test_rows_all_collected_n);
  g_test_add_func ("/dataset/csv-garbage_n", test_csv_garbage_n);
  g_test_add_func ("/dataset/load-bad-args_n", test_load_bad_args_n);
  g_test_add_func ("/dataset/load-undecodable_n", test_load_undecodable_n);
  g_test_add_func ("/dataset/load-empty-window_n", test_load_empty_window_n);
  g_test_add_func ("/dataset/load-no-frame_n", test_load_no_frame_n);
  return g_test_run ();
}
