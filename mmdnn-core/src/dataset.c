/* mmdnn — data sets: labels.csv parsing and clip ingestion through the
 * elements' preprocessing (mmdnn_video_prep_*, mmdnn_logmel_*,
 * mmdnn_text_tokenize).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <unistd.h>            /* R_OK */
#include <glib/gstdio.h>

#include <mmdnn/dataset.h>
#include <mmdnn/media.h>
#include "internal.h"

#define LABELS_NAME        "labels.csv"
#define MAX_REPORTED_ROWS  20      /* bad rows spelled out in one message */
#define MAX_SHOWN_CHARS    60      /* a cell echoed in a message          */
#define MAX_LISTED_CLASSES 40      /* allowed names listed per task       */
/* Times above this are refused: sample indices stay far from overflow and
 * no real recording is 30 years long. */
#define MAX_TIME_S         1e9

/* ------------------------------------------------------------ CSV reader */

typedef struct {
  const char *buf;
  gsize       len, pos;
  int64_t     line;           /* line of buf[pos], from 1 */
} CsvReader;

typedef struct {
  GPtrArray *fields;          /* char *, NUL-terminated */
  int64_t    line;            /* where the record starts */
  gboolean   any_quoted;
  char      *problem;         /* the first syntax problem, or NULL */
} CsvRecord;

static void
csv_record_init (CsvRecord *rec)
{
  rec->fields = g_ptr_array_new_with_free_func (g_free);
  rec->line = 0;
  rec->any_quoted = FALSE;
  rec->problem = NULL;
}

static void
csv_record_reset (CsvRecord *rec)
{
  g_ptr_array_set_size (rec->fields, 0);
  rec->any_quoted = FALSE;
  g_clear_pointer (&rec->problem, g_free);
}

static void
csv_record_clear (CsvRecord *rec)
{
  g_ptr_array_unref (rec->fields);
  g_free (rec->problem);
}

static void csv_problem (CsvRecord *rec, const char *format, ...)
    G_GNUC_PRINTF (2, 3);

static void
csv_problem (CsvRecord *rec, const char *format, ...)
{
  va_list ap;

  if (rec->problem != NULL)
    return;
  va_start (ap, format);
  rec->problem = g_strdup_vprintf (format, ap);
  va_end (ap);
}

static gboolean
is_line_end (char ch)
{
  return ch == '\n' || ch == '\r';
}

/* LF, CRLF or a lone CR: one line end each. */
static void
csv_skip_line_end (CsvReader *r)
{
  if (r->buf[r->pos] == '\r' && r->pos + 1 < r->len
      && r->buf[r->pos + 1] == '\n')
    r->pos++;
  r->pos++;
  r->line++;
}

static void
csv_skip_blanks (CsvReader *r)
{
  while (r->pos < r->len && (r->buf[r->pos] == ' ' || r->buf[r->pos] == '\t'))
    r->pos++;
}

/* Reads one record (RFC 4180 plus the leniencies documented in dataset.h).
 * Never fails: syntax problems are noted in rec->problem and reading goes
 * on at the next field or line. FALSE at the end of the buffer. */
static gboolean
csv_read_record (CsvReader *r, CsvRecord *rec)
{
  csv_record_reset (rec);
  if (r->pos >= r->len)
    return FALSE;
  rec->line = r->line;

  for (;;) {
    GString *f = g_string_new (NULL);
    guint field_no = rec->fields->len + 1;

    csv_skip_blanks (r);
    if (r->pos < r->len && r->buf[r->pos] == '"') {
      int64_t quote_line = r->line;
      gboolean closed = FALSE;

      rec->any_quoted = TRUE;
      r->pos++;
      while (r->pos < r->len) {
        char ch = r->buf[r->pos];

        if (ch == '"') {
          if (r->pos + 1 < r->len && r->buf[r->pos + 1] == '"') {
            g_string_append_c (f, '"');
            r->pos += 2;
            continue;
          }
          r->pos++;
          closed = TRUE;
          break;
        }
        if (is_line_end (ch)) {
          /* a line break inside quotes belongs to the field */
          gsize from = r->pos;

          csv_skip_line_end (r);
          g_string_append_len (f, r->buf + from, (gssize) (r->pos - from));
          continue;
        }
        g_string_append_c (f, ch);
        r->pos++;
      }
      if (!closed) {
        csv_problem (rec, "field %u: the quote opened on line %" G_GINT64_FORMAT
                     " is never closed", field_no, quote_line);
      } else {
        csv_skip_blanks (r);
        if (r->pos < r->len && r->buf[r->pos] != ','
            && !is_line_end (r->buf[r->pos])) {
          csv_problem (rec, "field %u: text after its closing quote (write a "
                       "quote inside a quoted field as \"\")", field_no);
          while (r->pos < r->len && r->buf[r->pos] != ','
                 && !is_line_end (r->buf[r->pos]))
            r->pos++;
        }
      }
    } else {
      gsize start = r->pos, end;

      while (r->pos < r->len && r->buf[r->pos] != ','
             && !is_line_end (r->buf[r->pos]))
        r->pos++;
      end = r->pos;
      while (end > start && (r->buf[end - 1] == ' ' || r->buf[end - 1] == '\t'))
        end--;
      g_string_append_len (f, r->buf + start, (gssize) (end - start));
    }
    if (memchr (f->str, '\0', f->len) != NULL)
      csv_problem (rec, "field %u holds a NUL byte", field_no);
    g_ptr_array_add (rec->fields, g_string_free (f, FALSE));

    if (r->pos < r->len && r->buf[r->pos] == ',') {
      r->pos++;
      continue;
    }
    if (r->pos < r->len)
      csv_skip_line_end (r);
    return TRUE;
  }
}

static gboolean
csv_record_is_blank (const CsvRecord *rec)
{
  return rec->fields->len == 1 && !rec->any_quoted && rec->problem == NULL
      && ((const char *) g_ptr_array_index (rec->fields, 0))[0] == '\0';
}

#define FIELD(rec, i) ((const char *) g_ptr_array_index ((rec)->fields, (i)))

/* A cell as shown in a message: quoted, control characters escaped, long
 * ones cut, so one bad row stays one line. @s must be valid UTF-8. */
static char *
show_cell (const char *s)
{
  GString *out = g_string_new ("'");
  glong n = 0;

  for (const char *p = s; *p; p = g_utf8_next_char (p), n++) {
    guchar ch = (guchar) *p;

    if (n == MAX_SHOWN_CHARS) {
      g_string_append (out, "…");
      break;
    }
    if (ch == '\n')
      g_string_append (out, "\\n");
    else if (ch == '\r')
      g_string_append (out, "\\r");
    else if (ch == '\t')
      g_string_append (out, "\\t");
    else if (ch < 0x20 || ch == 0x7f)
      g_string_append_printf (out, "\\x%02x", ch);
    else
      g_string_append_len (out, p, g_utf8_next_char (p) - p);
  }
  g_string_append_c (out, '\'');
  return g_string_free (out, FALSE);
}

static void add_problem (GString *problems, const char *format, ...)
    G_GNUC_PRINTF (2, 3);

static void
add_problem (GString *problems, const char *format, ...)
{
  va_list ap;

  if (problems->len > 0)
    g_string_append (problems, "; ");
  va_start (ap, format);
  g_string_append_vprintf (problems, format, ap);
  va_end (ap);
}

/* Decimal seconds: digits, one optional sign, '.', exponent; no hex, inf
 * or nan (g_ascii_strtod would take those). */
static gboolean
parse_time (const char *name, const char *s, double *out, GString *problems)
{
  char *end = NULL;
  char *shown;
  double v = 0.0;
  gboolean ok = TRUE;

  if (s[0] == '\0') {
    add_problem (problems, "%s is empty", name);
    return FALSE;
  }
  for (const char *p = s; *p; p++)
    if (!g_ascii_isdigit (*p) && strchr ("+-.eE", *p) == NULL)
      ok = FALSE;
  if (ok) {
    v = g_ascii_strtod (s, &end);
    ok = end != s && *end == '\0';
  }
  shown = show_cell (s);
  if (!ok) {
    add_problem (problems, "%s %s is not a number of seconds", name, shown);
  } else if (!isfinite (v) || fabs (v) > MAX_TIME_S) {
    add_problem (problems, "%s %s is out of range (at most %g s)", name,
                 shown, MAX_TIME_S);
    ok = FALSE;
  } else {
    *out = v;
  }
  g_free (shown);
  return ok;
}

/* ------------------------------------------------------------ open */

typedef struct {
  const char *csv_path;
  GPtrArray  *lines;                    /* the reported rows */
  guint       n_bad;
  gboolean    unknown_class[MMDNN_MAX_TASKS];
} Report;

static void
report_row (Report *rep, int64_t line, const GString *problems)
{
  if (rep->n_bad < MAX_REPORTED_ROWS)
    g_ptr_array_add (rep->lines, g_strdup_printf ("%s:%" G_GINT64_FORMAT ": %s",
                                                  rep->csv_path, line,
                                                  problems->str));
  rep->n_bad++;
}

static char *
report_message (const Report *rep, const MmdnnModelConfig *c)
{
  GString *msg = g_string_new (NULL);

  g_string_append_printf (msg, "%s: %u bad row%s:", rep->csv_path, rep->n_bad,
                          rep->n_bad == 1 ? "" : "s");
  for (guint i = 0; i < rep->lines->len; i++)
    g_string_append_printf (msg, "\n%s",
                            (const char *) g_ptr_array_index (rep->lines, i));
  if (rep->n_bad > rep->lines->len)
    g_string_append_printf (msg, "\nand %u more bad row%s", rep->n_bad - rep->lines->len,
                            rep->n_bad - rep->lines->len == 1 ? "" : "s");
  for (int t = 0; t < c->n_tasks; t++) {
    const MmdnnTask *task = &c->tasks[t];

    if (!rep->unknown_class[t])
      continue;
    g_string_append_printf (msg, "\ntask '%s' allows: ", task->name);
    for (int64_t k = 0; k < task->n_classes && k < MAX_LISTED_CLASSES; k++) {
      char *shown = show_cell (task->classes[k]);

      g_string_append_printf (msg, "%s%s", k > 0 ? ", " : "", shown);
      g_free (shown);
    }
    if (task->n_classes > MAX_LISTED_CLASSES)
      g_string_append_printf (msg, ", … (%" G_GINT64_FORMAT " in all)",
                              task->n_classes);
    g_string_append (msg, " (or an empty cell: unknown)");
  }
  return g_string_free (msg, FALSE);
}

static void
check_file (const char *dir, const char *file, GString *problems)
{
  char *shown = show_cell (file);
  char *full;

  if (file[0] == '\0') {
    add_problem (problems, "file is empty");
  } else if (g_path_is_absolute (file)) {
    add_problem (problems, "file %s is an absolute path; paths are relative "
                 "to the data set folder", shown);
  } else {
    full = g_build_filename (dir, file, NULL);
    if (!g_file_test (full, G_FILE_TEST_EXISTS))
      add_problem (problems, "file %s not found (looked for %s)", shown, full);
    else if (!g_file_test (full, G_FILE_TEST_IS_REGULAR))
      add_problem (problems, "file %s is not a regular file", shown);
    else if (g_access (full, R_OK) != 0)
      add_problem (problems, "file %s cannot be read: %s", shown,
                   g_strerror (errno));
    g_free (full);
  }
  g_free (shown);
}

static int32_t
parse_label (const MmdnnTask *task, const char *cell, GString *problems)
{
  char *folded, *shown;
  const char *hint = NULL;

  if (cell[0] == '\0')
    return -1;
  for (int64_t k = 0; k < task->n_classes; k++)
    if (strcmp (cell, task->classes[k]) == 0)
      return (int32_t) k;

  folded = g_utf8_casefold (cell, -1);
  for (int64_t k = 0; k < task->n_classes && hint == NULL; k++) {
    char *f2 = g_utf8_casefold (task->classes[k], -1);

    if (strcmp (folded, f2) == 0)
      hint = task->classes[k];
    g_free (f2);
  }
  g_free (folded);
  shown = show_cell (cell);
  if (hint != NULL)
    add_problem (problems, "%s: unknown class %s (did you mean '%s'?)",
                 task->name, shown, hint);
  else
    add_problem (problems, "%s: unknown class %s", task->name, shown);
  g_free (shown);
  return -2;
}

/* The header: file,start_s,end_s then columns; fills col[t] for each task. */
static gboolean
parse_header (const CsvRecord *rec, const char *csv_path,
              const MmdnnModelConfig *c, guint col[MMDNN_MAX_TASKS],
              GError **error)
{
  static const char *const fixed[3] = { "file", "start_s", "end_s" };
  GString *missing = NULL;

  if (rec->problem != NULL) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "%s:%" G_GINT64_FORMAT ": header: %s", csv_path, rec->line,
                 rec->problem);
    return FALSE;
  }
  for (guint i = 0; i < rec->fields->len; i++)
    if (!g_utf8_validate (FIELD (rec, i), -1, NULL)) {
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                   "%s:%" G_GINT64_FORMAT ": header: column %u is not valid "
                   "UTF-8", csv_path, rec->line, i + 1);
      return FALSE;
    }
  for (guint i = 0; i < 3; i++)
    if (i >= rec->fields->len || strcmp (FIELD (rec, i), fixed[i]) != 0) {
      char *shown = i < rec->fields->len ? show_cell (FIELD (rec, i))
                                         : g_strdup ("nothing");

      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                   "%s:%" G_GINT64_FORMAT ": the header must start with "
                   "file,start_s,end_s, but column %u is %s, not '%s'",
                   csv_path, rec->line, i + 1, shown, fixed[i]);
      g_free (shown);
      return FALSE;
    }

  for (int t = 0; t < c->n_tasks; t++) {
    col[t] = 0;
    for (guint i = 3; i < rec->fields->len; i++) {
      if (strcmp (FIELD (rec, i), c->tasks[t].name) != 0)
        continue;
      if (col[t] != 0) {
        g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                     "%s:%" G_GINT64_FORMAT ": the header names task '%s' "
                     "twice (columns %u and %u)", csv_path, rec->line,
                     c->tasks[t].name, col[t] + 1, i + 1);
        if (missing != NULL)
          g_string_free (missing, TRUE);
        return FALSE;
      }
      col[t] = i;
    }
    if (col[t] == 0) {
      if (missing == NULL)
        missing = g_string_new (NULL);
      g_string_append_printf (missing, "%s'%s'", missing->len ? ", " : "",
                              c->tasks[t].name);
    }
  }
  if (missing != NULL) {
    GString *cols = g_string_new (NULL);

    for (guint i = 0; i < rec->fields->len; i++) {
      char *shown = show_cell (FIELD (rec, i));

      g_string_append_printf (cols, "%s%s", i ? ", " : "", shown);
      g_free (shown);
    }
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "%s:%" G_GINT64_FORMAT ": the header has no column for "
                 "task %s (it has %s)", csv_path, rec->line, missing->str,
                 cols->str);
    g_string_free (cols, TRUE);
    g_string_free (missing, TRUE);
    return FALSE;
  }
  return TRUE;
}

/* Checks one data row; appends a clip or reports the row. */
static void
parse_row (const CsvRecord *rec, guint n_cols, const guint col[],
           const char *dir, const MmdnnModelConfig *c, GArray *clips,
           Report *rep)
{
  GString *problems = g_string_new (NULL);
  MmdnnClip clip;
  gboolean have_start, have_end;

  memset (&clip, 0, sizeof clip);
  clip.line = rec->line;
  if (rec->problem != NULL)
    add_problem (problems, "%s", rec->problem);
  for (guint i = 0; i < rec->fields->len; i++)
    if (!g_utf8_validate (FIELD (rec, i), -1, NULL))
      add_problem (problems, "field %u is not valid UTF-8", i + 1);
  if (problems->len == 0 && rec->fields->len != n_cols)
    add_problem (problems, "%u field%s, but the header has %u",
                 rec->fields->len, rec->fields->len == 1 ? "" : "s", n_cols);
  if (problems->len > 0)        /* the columns can't be trusted */
    goto out;

  check_file (dir, FIELD (rec, 0), problems);
  have_start = parse_time ("start_s", FIELD (rec, 1), &clip.start_s, problems);
  have_end = parse_time ("end_s", FIELD (rec, 2), &clip.end_s, problems);
  if (have_start && clip.start_s < 0) {
    char *shown = show_cell (FIELD (rec, 1));

    add_problem (problems, "start_s %s is negative", shown);
    g_free (shown);
  } else if (have_start && have_end && clip.end_s <= clip.start_s) {
    char *s1 = show_cell (FIELD (rec, 2)), *s2 = show_cell (FIELD (rec, 1));

    add_problem (problems, "end_s %s is not after start_s %s", s1, s2);
    g_free (s1);
    g_free (s2);
  }
  for (int t = 0; t < c->n_tasks; t++) {
    clip.labels[t] = parse_label (&c->tasks[t], FIELD (rec, col[t]), problems);
    if (clip.labels[t] == -2)
      rep->unknown_class[t] = TRUE;
  }
  for (int t = c->n_tasks; t < MMDNN_MAX_TASKS; t++)
    clip.labels[t] = -1;

out:
  if (problems->len > 0) {
    report_row (rep, rec->line, problems);
  } else {
    clip.file = g_strdup (FIELD (rec, 0));
    g_array_append_val (clips, clip);
  }
  g_string_free (problems, TRUE);
}

static void
clip_clear (gpointer data)
{
  MmdnnClip *clip = data;

  g_free (clip->file);
}

MmdnnDataset *
mmdnn_dataset_open (const char *dir, const MmdnnModelConfig *c,
                    GError **error)
{
  char *csv_path, *contents = NULL;
  gsize len = 0;
  GError *local = NULL;
  CsvReader r;
  CsvRecord rec;
  guint col[MMDNN_MAX_TASKS];
  guint n_cols;
  GArray *clips = NULL;
  Report rep;
  MmdnnDataset *ds = NULL;

  MMDNN_CHECK_NOT_NULL (dir, error, NULL);
  MMDNN_CHECK_NOT_NULL (c, error, NULL);
  if (!mmdnn_model_config_check (c, error)) {
    g_prefix_error (error, "dataset: ");
    return NULL;
  }

  csv_path = g_build_filename (dir, LABELS_NAME, NULL);
  if (!g_file_get_contents (csv_path, &contents, &len, &local)) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_IO, "%s: cannot read: %s",
                 csv_path, local->message);
    g_error_free (local);
    g_free (csv_path);
    return NULL;
  }

  r.buf = contents;
  r.len = len;
  r.pos = 0;
  r.line = 1;
  if (len >= 3 && memcmp (contents, "\xEF\xBB\xBF", 3) == 0)
    r.pos = 3;
  csv_record_init (&rec);
  memset (&rep, 0, sizeof rep);
  rep.csv_path = csv_path;
  rep.lines = g_ptr_array_new_with_free_func (g_free);

  /* header: the first non-blank record */
  while (csv_read_record (&r, &rec) && csv_record_is_blank (&rec))
    ;
  if (rec.fields->len == 0 || csv_record_is_blank (&rec)) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "%s: the file is empty; it needs a header line "
                 "file,start_s,end_s,<task>... and one row per clip",
                 csv_path);
    goto out;
  }
  if (!parse_header (&rec, csv_path, c, col, error))
    goto out;
  n_cols = rec.fields->len;

  clips = g_array_new (FALSE, TRUE, sizeof (MmdnnClip));
  g_array_set_clear_func (clips, clip_clear);
  while (csv_read_record (&r, &rec))
    if (!csv_record_is_blank (&rec))
      parse_row (&rec, n_cols, col, dir, c, clips, &rep);

  if (rep.n_bad > 0) {
    char *msg = report_message (&rep, c);

    g_set_error_literal (error, MMDNN_ERROR, MMDNN_ERROR_DATA, msg);
    g_free (msg);
    goto out;
  }
  if (clips->len == 0) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_DATA,
                 "%s: no rows after the header: a data set needs at least "
                 "one clip", csv_path);
    goto out;
  }

  ds = g_new0 (MmdnnDataset, 1);
  ds->dir = g_strdup (dir);
  ds->n_tasks = c->n_tasks;
  for (int t = 0; t < c->n_tasks; t++)
    ds->task_names[t] = g_strdup (c->tasks[t].name);
  ds->clips = clips;
  clips = NULL;
  mmdnn_log (MMDNN_LOG_DEBUG, "dataset: %s: %u clips", csv_path,
             ds->clips->len);

out:
  if (clips != NULL)
    g_array_unref (clips);
  g_ptr_array_unref (rep.lines);
  csv_record_clear (&rec);
  g_free (contents);
  g_free (csv_path);
  return ds;
}

void
mmdnn_dataset_free (MmdnnDataset *ds)
{
  if (ds == NULL)
    return;
  g_free (ds->dir);
  for (int t = 0; t < MMDNN_MAX_TASKS; t++)
    g_free (ds->task_names[t]);
  if (ds->clips != NULL)
    g_array_unref (ds->clips);
  g_free (ds);
}

/* ------------------------------------------------------------ ingestion */

/* What one clip collects while its file decodes. */
typedef struct {
  const MmdnnClip *clip;
  int64_t  slot;
  /* video, in whole nanoseconds as GStreamer's running time: the clip
   * [start, end), doubled middle start + end; the frame on screen at the
   * middle so far (frame_beats) and its PTS */
  int64_t  start_ns, end_ns, mid2_ns, best_ns;
  gboolean have_frame;
  guint8  *rgb;                 /* (height, 3·width), packed */
  gsize    rgb_cap;
  int64_t  width, height;
  float   *video;               /* (C, H, W) once the choice is final */
  /* audio: stream sample i has time i/rate. Window frames g = 0 .. F−1
   * start at sample a0 + g·hop; patch column f shows frame k0 + f. */
  int64_t  a0, n_frames, k0;
  int64_t  lo, hi;              /* the samples the patch needs */
  float   *samples;             /* (hi − lo) */
  guint8  *got;                 /* (hi − lo): 1 once decoded */
  /* text */
  GString *text;
  int      n_cues;
} ClipJob;

/* Per-call preprocessing state and one sample's scratch. */
typedef struct {
  MmdnnVideoPrep *vp;
  MmdnnLogMel    *lm;
  float          *video;        /* (C, H, W) */
  float          *audio;        /* (1, n_mels, P) */
  float          *frames;       /* (P, n_mels): pulled frames */
  int32_t        *text;         /* (L, M) */
  int64_t         video_size, audio_size, text_size;
} Prep;

typedef struct {
  const MmdnnModelConfig *c;
  Prep     *prep;
  ClipJob  *jobs;
  guint     n_jobs;
  GError   *error;              /* set by a callback that failed */
  /* video: the last decoded frame, judged once the next one's PTS ends its
   * span (frame_judge) */
  guint8  *frame;               /* (height, 3·width), packed */
  gsize    frame_cap;
  int64_t  frame_w, frame_h, frame_ns, frame_dur_ns;
  gboolean have_last;
  int64_t  nonfinite;           /* audio samples replaced by 0 */
} FileJob;

static int64_t
time_to_sample (double t, int64_t rate)
{
  /* the first sample at or after t; the slack absorbs t·rate rounding
   * (0.2 · 16000 = 3200.0000000000005) */
  return (int64_t) ceil (t * (double) rate - 1e-6);
}

/* Seconds (labels.csv, libav timestamps) to whole nanoseconds, the unit of
 * GStreamer's running time, so the frame choice compares exactly what a
 * window of the elements compares (2.1 s is 2100000000 ns on both sides,
 * whatever the doubles' last bits). */
static int64_t
seconds_to_ns (double t)
{
  return (int64_t) llround (t * 1e9);
}

/* The patch's first frame: P frames whose nominal span (P·hop samples)
 * is centred in the clip's @n samples, (n − P·hop) / 2 rounded to a whole
 * hop, the earlier on a tie (negative when the clip is shorter than the
 * patch: it then sits in the patch's middle). A window of the elements
 * takes the same patch (GST_MMDNN_WINDOW_RULE_OVERLAP). */
static int64_t
centred_patch_start (int64_t n, int64_t p, int64_t hop)
{
  /* ceil ((n − p·hop − hop) / (2·hop)), floored division for n < p·hop */
  int64_t num = n - p * hop + hop - 1, den = 2 * hop;

  return num >= 0 ? num / den : -((-num + den - 1) / den);
}

static gboolean
clip_job_init (ClipJob *j, const MmdnnClip *clip, int64_t slot,
               const MmdnnModelConfig *c, GError **error)
{
  const MmdnnLogMelConfig *lc = &c->logmel;
  int64_t p = c->audio_patch_frames;
  int64_t n, g1, g2;

  memset (j, 0, sizeof *j);
  j->clip = clip;
  j->slot = slot;
  j->start_ns = seconds_to_ns (clip->start_s);
  j->end_ns = seconds_to_ns (clip->end_s);
  j->mid2_ns = j->start_ns + j->end_ns;
  j->text = g_string_new (NULL);
  if (!c->has[MMDNN_MODALITY_AUDIO])
    return TRUE;

  j->a0 = time_to_sample (clip->start_s, lc->sample_rate);
  n = time_to_sample (clip->end_s, lc->sample_rate) - j->a0;
  j->n_frames = n >= lc->win_length
      ? (n - lc->win_length) / lc->hop_length + 1 : 0;
  j->k0 = centred_patch_start (n, p, lc->hop_length);
  g1 = MAX (j->k0, 0);
  g2 = MIN (j->k0 + p, j->n_frames);
  if (g2 > g1) {
    j->lo = j->a0 + g1 * lc->hop_length;
    j->hi = j->a0 + (g2 - 1) * lc->hop_length + lc->win_length;
    j->samples = g_try_new (float, j->hi - j->lo);
    j->got = g_try_new0 (guint8, j->hi - j->lo);
    if (j->samples == NULL || j->got == NULL) {
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_NO_MEMORY,
                   "out of memory for %" G_GINT64_FORMAT " audio samples",
                   j->hi - j->lo);
      return FALSE;
    }
  }
  return TRUE;
}

static void
clip_job_clear (ClipJob *j)
{
  g_free (j->rgb);
  g_free (j->video);
  g_free (j->samples);
  g_free (j->got);
  if (j->text != NULL)
    g_string_free (j->text, TRUE);
  memset (j, 0, sizeof *j);
}

/* The chosen frame → j->video; its RGB copy is dropped. */
static gboolean
clip_job_prep_video (ClipJob *j, Prep *p, GError **error)
{
  const uint8_t *planes[1] = { j->rgb };
  int64_t strides[1] = { j->width * 3 };

  if (j->video == NULL && (j->video = g_try_new (float, p->video_size)) == NULL) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_NO_MEMORY,
                 "out of memory for a video sample");
    return FALSE;
  }
  if (!mmdnn_video_prep_frame (p->vp, MMDNN_PIXEL_RGB, j->width, j->height,
                               planes, strides, j->video, error))
    return FALSE;
  g_clear_pointer (&j->rgb, g_free);
  j->rgb_cap = 0;
  return TRUE;
}

/* Whether a frame at @pts_ns shows at the clip's middle rather than the
 * one chosen so far: GST_MMDNN_WINDOW_RULE_SCREEN of the elements
 * (gst/gstmmdnnwindow.h), the same comparison. A frame at or before the
 * middle beats any after it; among those the later, among these the
 * earlier; equal PTS go to the later decoded. */
static gboolean
frame_beats (const ClipJob *j, int64_t pts_ns)
{
  gboolean shown = 2 * pts_ns <= j->mid2_ns;
  gboolean best_shown = 2 * j->best_ns <= j->mid2_ns;

  if (!j->have_frame)
    return TRUE;
  if (shown != best_shown)
    return shown;
  return shown ? pts_ns >= j->best_ns : pts_ns <= j->best_ns;
}

/* Judges the held frame, on screen over [frame_ns, end_ns) (end_ns ==
 * frame_ns: no known span), for every clip it overlaps, as a window of the
 * elements judges the features overlapping it. */
static gboolean
frame_judge (FileJob *fj, int64_t end_ns)
{
  int64_t pts_ns = fj->frame_ns;
  gsize row = (gsize) fj->frame_w * 3, need = row * (gsize) fj->frame_h;

  for (guint i = 0; i < fj->n_jobs; i++) {
    ClipJob *j = &fj->jobs[i];
    gboolean overlaps = end_ns > pts_ns
        ? pts_ns < j->end_ns && end_ns > j->start_ns
        : pts_ns >= j->start_ns && pts_ns < j->end_ns;

    /* frames come in PTS order: past the clip the choice is final, so it
     * is prepped now, and a long file of many clips holds one small
     * tensor per clip, not a frame */
    if (pts_ns >= j->end_ns && j->rgb != NULL) {
      if (!clip_job_prep_video (j, fj->prep, &fj->error))
        return FALSE;
      continue;
    }
    if (!overlaps || !frame_beats (j, pts_ns))
      continue;
    if (need > j->rgb_cap) {
      guint8 *p = g_try_realloc (j->rgb, need);

      if (p == NULL) {
        g_set_error (&fj->error, MMDNN_ERROR, MMDNN_ERROR_NO_MEMORY,
                     "out of memory for a %" G_GINT64_FORMAT "x%"
                     G_GINT64_FORMAT " frame", fj->frame_w, fj->frame_h);
        return FALSE;
      }
      j->rgb = p;
      j->rgb_cap = need;
    }
    memcpy (j->rgb, fj->frame, need);
    j->width = fj->frame_w;
    j->height = fj->frame_h;
    j->best_ns = pts_ns;
    j->have_frame = TRUE;
  }
  return TRUE;
}

/* The span of a frame is known when the next one comes: the previous
 * frame is judged then, and this one held (copied) in its place. */
static gboolean
on_video (void *user, double pts_s, const uint8_t *rgb, int64_t width,
          int64_t height, int64_t stride)
{
  FileJob *fj = user;
  int64_t pts_ns = seconds_to_ns (pts_s);
  gsize row = (gsize) width * 3, need = row * (gsize) height;

  if (fj->have_last) {
    if (pts_ns > fj->frame_ns)
      fj->frame_dur_ns = pts_ns - fj->frame_ns;
    if (!frame_judge (fj, MAX (pts_ns, fj->frame_ns)))
      return FALSE;
  }
  if (need > fj->frame_cap) {
    guint8 *p = g_try_realloc (fj->frame, need);

    if (p == NULL) {
      g_set_error (&fj->error, MMDNN_ERROR, MMDNN_ERROR_NO_MEMORY,
                   "out of memory for a %" G_GINT64_FORMAT "x%"
                   G_GINT64_FORMAT " frame", width, height);
      return FALSE;
    }
    fj->frame = p;
    fj->frame_cap = need;
  }
  for (int64_t y = 0; y < height; y++)
    memcpy (fj->frame + (gsize) y * row, rgb + y * stride, row);
  fj->frame_w = width;
  fj->frame_h = height;
  fj->frame_ns = pts_ns;
  fj->have_last = TRUE;
  return TRUE;
}

static gboolean
on_audio (void *user, double pts_s, const float *samples, int64_t n)
{
  FileJob *fj = user;
  int64_t i0 = llround (pts_s * (double) fj->c->logmel.sample_rate);

  for (guint i = 0; i < fj->n_jobs; i++) {
    ClipJob *j = &fj->jobs[i];
    int64_t from = MAX (i0, j->lo), to = MIN (i0 + n, j->hi);

    if (from >= to)
      continue;
    /* a NaN or infinite sample is silence, as in mmdnnaudioenc (the
     * log-mel refuses it): the same features live and offline */
    for (int64_t k = from; k < to; k++) {
      float a = samples[k - i0];

      if (G_UNLIKELY (!isfinite (a))) {
        a = 0.0f;
        fj->nonfinite++;
      }
      j->samples[k - j->lo] = a;
    }
    memset (j->got + (from - j->lo), 1, (gsize) (to - from));
  }
  return TRUE;
}

static gboolean
on_subtitle (void *user, double start_s, double end_s, const char *text)
{
  FileJob *fj = user;

  for (guint i = 0; i < fj->n_jobs; i++) {
    ClipJob *j = &fj->jobs[i];
    const MmdnnClip *clip = j->clip;
    gboolean overlaps = end_s > start_s
        ? start_s < clip->end_s && end_s > clip->start_s
        : start_s >= clip->start_s && start_s < clip->end_s;

    if (!overlaps)
      continue;
    if (j->n_cues++ > 0)
      g_string_append_c (j->text, ' ');
    g_string_append (j->text, text);
  }
  return TRUE;
}

static gboolean
prep_init (Prep *p, const MmdnnModelConfig *c, GError **error)
{
  memset (p, 0, sizeof *p);
  p->video_size = c->video_prep.channels * c->video_prep.height
      * c->video_prep.width;
  p->audio_size = c->logmel.n_mels * c->audio_patch_frames;
  p->text_size = c->text_prep.max_tokens * c->text_prep.max_ids_per_token;
  if (c->has[MMDNN_MODALITY_VIDEO]
      && (p->vp = mmdnn_video_prep_new (&c->video_prep, error)) == NULL)
    return FALSE;
  if (c->has[MMDNN_MODALITY_AUDIO]
      && (p->lm = mmdnn_logmel_new (&c->logmel, error)) == NULL)
    return FALSE;
  p->video = g_try_new (float, p->video_size);
  p->audio = g_try_new (float, p->audio_size);
  p->frames = g_try_new (float, p->audio_size);
  p->text = g_try_new (int32_t, p->text_size);
  if (!p->video || !p->audio || !p->frames || !p->text) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_NO_MEMORY,
                 "out of memory for one sample's scratch");
    return FALSE;
  }
  return TRUE;
}

static void
prep_clear (Prep *p)
{
  mmdnn_video_prep_free (p->vp);
  mmdnn_logmel_free (p->lm);
  g_free (p->video);
  g_free (p->audio);
  g_free (p->frames);
  g_free (p->text);
  memset (p, 0, sizeof *p);
}

/* Is every sample of window frame g decoded? */
static gboolean
frame_complete (const ClipJob *j, const MmdnnLogMelConfig *lc, int64_t g)
{
  int64_t from = j->a0 + g * lc->hop_length - j->lo;

  if (g < 0 || g >= j->n_frames)
    return FALSE;
  for (int64_t k = 0; k < lc->win_length; k++)
    if (!j->got[from + k])
      return FALSE;
  return TRUE;
}

/* The audio patch into p->audio; *present = a real frame in it. */
static gboolean
finish_audio (const ClipJob *j, const MmdnnModelConfig *c, Prep *p,
              gboolean *present, GError **error)
{
  const MmdnnLogMelConfig *lc = &c->logmel;
  int64_t P = c->audio_patch_frames, n_mels = lc->n_mels;
  float silence = (float) log ((double) lc->log_floor);
  int64_t f = 0;

  *present = FALSE;
  for (int64_t k = 0; k < p->audio_size; k++)
    p->audio[k] = silence;
  while (f < P) {
    int64_t f2, count, got;

    if (!frame_complete (j, lc, j->k0 + f)) {
      f++;
      continue;
    }
    /* a run of real columns [f, f2): frame it as one stream */
    for (f2 = f + 1; f2 < P && frame_complete (j, lc, j->k0 + f2); f2++)
      ;
    count = f2 - f;
    mmdnn_logmel_reset (p->lm);
    if (!mmdnn_logmel_push_f32 (p->lm, j->samples + (j->a0 + (j->k0 + f)
                                                     * lc->hop_length - j->lo),
                                (count - 1) * lc->hop_length + lc->win_length,
                                error))
      return FALSE;
    got = mmdnn_logmel_pull (p->lm, p->frames, count);
    if (got != count) {
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_BACKEND,
                   "the log-mel front end gave %" G_GINT64_FORMAT " frames, "
                   "expected %" G_GINT64_FORMAT, got, count);
      return FALSE;
    }
    for (int64_t t = 0; t < count; t++)
      for (int64_t m = 0; m < n_mels; m++)
        p->audio[m * P + f + t] = p->frames[t * n_mels + m];
    *present = TRUE;
    f = f2;
  }
  return TRUE;
}

/* Preprocesses what @j collected and writes sample j->slot of @b. Nothing
 * is written on failure. */
static gboolean
finish_clip (ClipJob *j, const MmdnnModelConfig *c, Prep *p,
             MmdnnBatch *b, GError **error)
{
  const int64_t V = MMDNN_MODALITY_VIDEO, A = MMDNN_MODALITY_AUDIO,
      T = MMDNN_MODALITY_TEXT;
  float presence[MMDNN_N_MODALITIES] = { 0 };
  int64_t slot = j->slot;

  if (c->has[V]) {
    if (j->rgb != NULL && !clip_job_prep_video (j, p, error))
      return FALSE;
    if (j->video != NULL)
      memcpy (p->video, j->video, (gsize) p->video_size * sizeof (float));
    else
      memset (p->video, 0, (gsize) p->video_size * sizeof (float));
    presence[V] = j->have_frame ? 1.0f : 0.0f;
  }
  if (c->has[A]) {
    gboolean present;

    if (!finish_audio (j, c, p, &present, error))
      return FALSE;
    presence[A] = present ? 1.0f : 0.0f;
  }
  if (c->has[T]) {
    int64_t n_tokens = 0;

    for (int64_t k = 0; k < p->text_size; k++)
      p->text[k] = -1;
    if (j->n_cues > 0
        && !mmdnn_text_tokenize (&c->text_prep, j->text->str,
                                 (gssize) j->text->len, p->text, &n_tokens,
                                 error)) {
      g_prefix_error (error, "subtitles in [%g, %g) s: ", j->clip->start_s,
                      j->clip->end_s);
      return FALSE;
    }
    presence[T] = n_tokens > 0 ? 1.0f : 0.0f;
  }
  if (presence[V] + presence[A] + presence[T] == 0.0f) {
    GString *what = g_string_new (NULL);

    if (c->has[V])
      g_string_append (what, "no video frame");
    if (c->has[A])
      g_string_append_printf (what, "%sno whole audio frame",
                              what->len ? ", " : "");
    if (c->has[T])
      g_string_append_printf (what, "%sno subtitle text",
                              what->len ? ", " : "");
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_DATA,
                 "%s has nothing in [%g, %g) s: %s (is the window inside "
                 "the file?)", j->clip->file, j->clip->start_s,
                 j->clip->end_s, what->str);
    g_string_free (what, TRUE);
    return FALSE;
  }

  if (c->has[V])
    memcpy (b->video + slot * p->video_size, p->video,
            (gsize) p->video_size * sizeof (float));
  if (c->has[A])
    memcpy (b->audio + slot * p->audio_size, p->audio,
            (gsize) p->audio_size * sizeof (float));
  if (c->has[T])
    memcpy (b->text_ids + slot * p->text_size, p->text,
            (gsize) p->text_size * sizeof (int32_t));
  for (int m = 0; m < MMDNN_N_MODALITIES; m++)
    b->presence[slot * MMDNN_N_MODALITIES + m] = presence[m];
  for (int t = 0; t < c->n_tasks; t++)
    b->labels[slot * c->n_tasks + t] = j->clip->labels[t];
  return TRUE;
}

/* Decodes one media file for the clips of @jobs (all naming that file) and
 * writes their samples. */
static gboolean
load_file (const MmdnnDataset *ds, const MmdnnModelConfig *c, Prep *p,
           const MmdnnClip *const *clips, const int64_t *slots, guint n,
           MmdnnBatch *b, GError **error)
{
  MmdnnMediaCallbacks cb = {
    c->has[MMDNN_MODALITY_VIDEO] ? on_video : NULL,
    c->has[MMDNN_MODALITY_AUDIO] ? on_audio : NULL,
    c->has[MMDNN_MODALITY_TEXT] ? on_subtitle : NULL,
  };
  FileJob fj;
  char *path = g_build_filename (ds->dir, clips[0]->file, NULL);
  const MmdnnClip *failed = clips[0];
  gboolean ok = TRUE;

  memset (&fj, 0, sizeof fj);
  fj.c = c;
  fj.prep = p;
  fj.jobs = g_new0 (ClipJob, n);
  fj.n_jobs = n;
  for (guint i = 0; i < n && ok; i++)
    ok = clip_job_init (&fj.jobs[i], clips[i], slots[i], c, error);
  if (ok && !mmdnn_media_decode (path, c->logmel.sample_rate, &cb, &fj,
                                 error))
    ok = FALSE;
  if (fj.nonfinite > 0)
    mmdnn_log (MMDNN_LOG_WARNING, "%s: %" G_GINT64_FORMAT " non-finite "
               "audio samples in the clips replaced by 0 (silence)", path,
               fj.nonfinite);
  /* the last frame lasts as long as the one before it (a frame of a
   * single-frame video has no span: it shows at its PTS only) */
  if (ok && fj.error == NULL && fj.have_last)
    (void) frame_judge (&fj, fj.frame_ns + fj.frame_dur_ns);  /* or fj.error */
  if (ok && fj.error != NULL) {
    g_propagate_error (error, fj.error);
    fj.error = NULL;
    ok = FALSE;
  }
  for (guint i = 0; i < n && ok; i++) {
    ok = finish_clip (&fj.jobs[i], c, p, b, error);
    if (!ok)
      failed = clips[i];
  }
  if (!ok) {
    char *csv_path = g_build_filename (ds->dir, LABELS_NAME, NULL);

    g_prefix_error (error, "%s:%" G_GINT64_FORMAT ": ", csv_path,
                    failed->line);
    g_free (csv_path);
  }
  g_clear_error (&fj.error);
  for (guint i = 0; i < n; i++)
    clip_job_clear (&fj.jobs[i]);
  g_free (fj.jobs);
  g_free (fj.frame);
  g_free (path);
  return ok;
}

/* The arguments every load needs: @c valid and naming the data set's
 * tasks, the clips' values sane (the struct is public, so they may not
 * come from mmdnn_dataset_open). */
static gboolean
check_load_args (const MmdnnDataset *ds, const MmdnnModelConfig *c,
                 GError **error)
{
  MMDNN_CHECK_NOT_NULL (ds, error, FALSE);
  MMDNN_CHECK_NOT_NULL (c, error, FALSE);
  MMDNN_CHECK (ds->dir != NULL && ds->clips != NULL, error, FALSE,
               "dataset: the data set has no folder or clip array");
  if (!mmdnn_model_config_check (c, error)) {
    g_prefix_error (error, "dataset: ");
    return FALSE;
  }
  MMDNN_CHECK (ds->n_tasks == c->n_tasks, error, FALSE,
               "dataset: the data set was opened for %d tasks, the config "
               "has %d", ds->n_tasks, c->n_tasks);
  for (int t = 0; t < c->n_tasks; t++)
    MMDNN_CHECK (g_strcmp0 (ds->task_names[t], c->tasks[t].name) == 0, error,
                 FALSE, "dataset: task %d is '%s' in the data set but '%s' "
                 "in the config", t, ds->task_names[t], c->tasks[t].name);
  return TRUE;
}

static gboolean
check_clip (const MmdnnDataset *ds, int64_t index, const MmdnnModelConfig *c,
            GError **error)
{
  const MmdnnClip *clip = &g_array_index (ds->clips, MmdnnClip, index);

  MMDNN_CHECK (clip->file != NULL && isfinite (clip->start_s)
               && isfinite (clip->end_s) && clip->start_s >= 0
               && clip->end_s > clip->start_s && clip->end_s <= MAX_TIME_S,
               error, FALSE, "dataset: clip %" G_GINT64_FORMAT " (line %"
               G_GINT64_FORMAT ") has no file or a bad window [%g, %g)",
               index, clip->line, clip->start_s, clip->end_s);
  for (int t = 0; t < c->n_tasks; t++)
    MMDNN_CHECK (clip->labels[t] >= -1
                 && clip->labels[t] < c->tasks[t].n_classes, error, FALSE,
                 "dataset: clip %" G_GINT64_FORMAT " (line %" G_GINT64_FORMAT
                 ") has label %d for task '%s' of %" G_GINT64_FORMAT
                 " classes", index, clip->line, clip->labels[t],
                 c->tasks[t].name, c->tasks[t].n_classes);
  return TRUE;
}

static gboolean
check_batch (const MmdnnBatch *b, const MmdnnModelConfig *c, int64_t slot,
             GError **error)
{
  MMDNN_CHECK_NOT_NULL (b, error, FALSE);
  MMDNN_CHECK (slot >= 0 && slot < b->n, error, FALSE,
               "dataset: slot=%" G_GINT64_FORMAT " must be in [0, %"
               G_GINT64_FORMAT ")", slot, b->n);
  MMDNN_CHECK (b->presence != NULL && b->labels != NULL
               && (!c->has[MMDNN_MODALITY_VIDEO] || b->video != NULL)
               && (!c->has[MMDNN_MODALITY_AUDIO] || b->audio != NULL)
               && (!c->has[MMDNN_MODALITY_TEXT] || b->text_ids != NULL),
               error, FALSE, "dataset: the batch lacks an array the config "
               "needs (make it with mmdnn_batch_new for the same config)");
  return TRUE;
}

gboolean
mmdnn_dataset_load (const MmdnnDataset *ds, int64_t index,
                    const MmdnnModelConfig *c, MmdnnBatch *b, int64_t slot,
                    GError **error)
{
  const MmdnnClip *clip;
  Prep p;
  gboolean ok;

  if (!check_load_args (ds, c, error))
    return FALSE;
  MMDNN_CHECK (index >= 0 && index < (int64_t) ds->clips->len, error, FALSE,
               "dataset: index=%" G_GINT64_FORMAT " must be in [0, %u)",
               index, ds->clips->len);
  if (!check_clip (ds, index, c, error) || !check_batch (b, c, slot, error))
    return FALSE;

  clip = &g_array_index (ds->clips, MmdnnClip, index);
  ok = prep_init (&p, c, error)
      && load_file (ds, c, &p, &clip, &slot, 1, b, error);
  prep_clear (&p);
  return ok;
}

gboolean
mmdnn_dataset_load_all (const MmdnnDataset *ds, const MmdnnModelConfig *c,
                        MmdnnBatch **out, GError **error)
{
  MmdnnBatch *b = NULL;
  GHashTable *by_file = NULL;           /* file → group index + 1 */
  GPtrArray *groups = NULL;             /* GArray of int64_t clip indices */
  const MmdnnClip **clips = NULL;
  Prep p;
  gboolean ok = FALSE;

  memset (&p, 0, sizeof p);
  if (!check_load_args (ds, c, error))
    return FALSE;
  MMDNN_CHECK_NOT_NULL (out, error, FALSE);
  for (guint i = 0; i < ds->clips->len; i++)
    if (!check_clip (ds, i, c, error))
      return FALSE;
  if ((b = mmdnn_batch_new (c, ds->clips->len, error)) == NULL)
    return FALSE;
  if (!prep_init (&p, c, error))
    goto out;

  /* one decode per file, in order of first appearance */
  by_file = g_hash_table_new (g_str_hash, g_str_equal);
  groups = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  for (guint i = 0; i < ds->clips->len; i++) {
    const MmdnnClip *clip = &g_array_index (ds->clips, MmdnnClip, i);
    guint g = GPOINTER_TO_UINT (g_hash_table_lookup (by_file, clip->file));
    int64_t idx = i;

    if (g == 0) {
      g_ptr_array_add (groups, g_array_new (FALSE, FALSE, sizeof (int64_t)));
      g = groups->len;
      g_hash_table_insert (by_file, clip->file, GUINT_TO_POINTER (g));
    }
    g_array_append_val ((GArray *) g_ptr_array_index (groups, g - 1), idx);
  }
  clips = g_new (const MmdnnClip *, ds->clips->len);
  for (guint g = 0; g < groups->len; g++) {
    GArray *idx = g_ptr_array_index (groups, g);

    for (guint k = 0; k < idx->len; k++)
      clips[k] = &g_array_index (ds->clips, MmdnnClip,
                                 g_array_index (idx, int64_t, k));
    if (!load_file (ds, c, &p, clips, (const int64_t *) (void *) idx->data,
                    idx->len, b, error))
      goto out;
  }
  mmdnn_log (MMDNN_LOG_INFO, "dataset: %s: %u clips from %u files", ds->dir,
             ds->clips->len, groups->len);
  *out = b;
  b = NULL;
  ok = TRUE;

out:
  g_free (clips);
  if (groups != NULL)
    g_ptr_array_unref (groups);
  if (by_file != NULL)
    g_hash_table_unref (by_file);
  prep_clear (&p);
  mmdnn_batch_free (b);
  return ok;
}
