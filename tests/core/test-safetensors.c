/* mmdnn — safetensors model files: round trips, a file written by Python,
 * atomic saves, and every way a file can be malformed.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <mmdnn/rng.h>
#include <mmdnn/safetensors.h>
#include <mmdnn/tensor.h>

static char *tmp_dir;           /* one per run, removed at the end */

static char *
tmp_path (const char *name)
{
  return g_build_filename (tmp_dir, name, NULL);
}

static void
rm_rf (const char *path)
{
  GDir *d;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR) || g_file_test (path, G_FILE_TEST_IS_SYMLINK)) {
    g_unlink (path);
    return;
  }
  d = g_dir_open (path, 0, NULL);
  if (d != NULL) {
    const char *e;
    while ((e = g_dir_read_name (d)) != NULL) {
      char *p = g_build_filename (path, e, NULL);
      rm_rf (p);
      g_free (p);
    }
    g_dir_close (d);
  }
  g_rmdir (path);
}

/* Files in @dir whose name contains ".tmp-": leftovers of a save. */
static guint
count_temp_files (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *e;
  guint n = 0;

  g_assert_nonnull (d);
  while ((e = g_dir_read_name (d)) != NULL)
    if (strstr (e, ".tmp-") != NULL)
      n++;
  g_dir_close (d);
  return n;
}

static void
write_bytes (const char *path, const void *bytes, gsize len)
{
  GError *err = NULL;
  /* no fsync: these are scratch files, and there are a thousand of them */
  g_file_set_contents_full (path, bytes, len, G_FILE_SET_CONTENTS_NONE, 0644,
                            &err);
  g_assert_no_error (err);
}

/* A file: u64 header length, @header (padded with spaces to 8 unless
 * @pad is FALSE), then @data_len bytes of floats 0.5, 1.5, ... */
static char *
make_file (const char *name, const char *header, gsize data_len, gboolean pad)
{
  GByteArray *b = g_byte_array_new ();
  gsize hlen = strlen (header);
  gsize padded = pad ? hlen + (8 - (8 + hlen) % 8) % 8 : hlen;
  guint64 n = GUINT64_TO_LE ((guint64) padded);
  char *path = tmp_path (name);

  g_byte_array_append (b, (const guint8 *) &n, 8);
  g_byte_array_append (b, (const guint8 *) header, hlen);
  for (gsize i = hlen; i < padded; i++)
    g_byte_array_append (b, (const guint8 *) " ", 1);
  for (gsize i = 0; i < data_len; i++) {
    float f = (float) (i / 4) + 0.5f;
    guint8 bytes[4];
    memcpy (bytes, &f, 4);
    g_byte_array_append (b, &bytes[i % 4], 1);
  }
  write_bytes (path, b->data, b->len);
  g_byte_array_unref (b);
  return path;
}

/* Opening @path fails with @code; the message names the file and, when
 * @needle is not NULL, contains it (the offending tensor, say). */
static void
expect_open_error (const char *path, gint code, const char *needle)
{
  GError *err = NULL;
  MmdnnSafetensors *st = mmdnn_safetensors_open (path, &err);

  g_assert_null (st);
  g_assert_error (err, MMDNN_ERROR, code);
  if (g_test_verbose ())
    g_test_message ("%s", err->message);
  g_assert_nonnull (strstr (err->message, path));
  if (needle != NULL && strstr (err->message, needle) == NULL)
    g_error ("message '%s' does not mention '%s'", err->message, needle);
  g_error_free (err);
}

static char *
file_contents (const char *path, gsize *len)
{
  char *c = NULL;
  GError *err = NULL;
  g_file_get_contents (path, &c, len, &err);
  g_assert_no_error (err);
  return c;
}

/* ------------------------------------------------------------------------
 * Round trips
 * ---------------------------------------------------------------------- */

static MmdnnParamSet *
make_params (uint64_t seed)
{
  static const int64_t w[] = { 5, 3 }, b[] = { 5 }, c[] = { 2, 3, 1, 3 };
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  MmdnnRng rng;
  GError *err = NULL;

  g_assert_nonnull (mmdnn_param_set_declare (ps, "enc.fc.weight", 2, w, TRUE, &err));
  g_assert_nonnull (mmdnn_param_set_declare (ps, "enc.fc.bias", 1, b, FALSE, &err));
  g_assert_nonnull (mmdnn_param_set_declare (ps, "enc.conv.weight", 4, c, TRUE, &err));
  g_assert_true (mmdnn_param_set_allocate (ps, &err));
  g_assert_no_error (err);
  mmdnn_rng_init (&rng, seed);
  for (guint i = 0; i < ps->params->len; i++) {
    MmdnnParam *p = g_ptr_array_index (ps->params, i);
    mmdnn_rng_fill_normal (&rng, p->value, p->numel, 0.0f, 1.0f);
  }
  return ps;
}

static void
assert_params_equal (const MmdnnParamSet *a, const MmdnnParamSet *b)
{
  g_assert_cmpuint (a->params->len, ==, b->params->len);
  for (guint i = 0; i < a->params->len; i++) {
    const MmdnnParam *p = g_ptr_array_index (a->params, i);
    const MmdnnParam *q = g_ptr_array_index (b->params, i);
    g_assert_cmpstr (p->name, ==, q->name);
    g_assert_cmpmem (p->value, p->numel * 4, q->value, q->numel * 4);
  }
}

static void
test_roundtrip (void)
{
  MmdnnParamSet *ps = make_params (11), *back = make_params (12);
  MmdnnSafetensorsWriter *w = mmdnn_safetensors_writer_new ();
  char *path = tmp_path ("roundtrip-params.safetensors");
  MmdnnSafetensors *st;
  GError *err = NULL;
  char *bytes;
  gsize len;
  guint64 n;
  int ndim;
  int64_t shape[MMDNN_MAX_DIMS];
  const float *data;

  /* bit patterns a text format would lose */
  MmdnnParam *bias = mmdnn_param_set_lookup (ps, "enc.fc.bias");
  bias->value[0] = -0.0f;
  bias->value[1] = 1e-45f;
  bias->value[2] = (float) INFINITY;
  bias->value[3] = (float) NAN;

  g_assert_true (mmdnn_safetensors_writer_add_params (w, ps, "model.", &err));
  mmdnn_safetensors_writer_set_metadata (w, "format", "mmdnn");
  mmdnn_safetensors_writer_set_metadata (w, "config", "{\"dim\": 8}\n\"é\"\\");
  g_assert_true (mmdnn_safetensors_writer_save (w, path, &err));
  g_assert_no_error (err);
  mmdnn_safetensors_writer_free (w);

  /* layout: 8-aligned data start, no slack */
  bytes = file_contents (path, &len);
  memcpy (&n, bytes, 8);
  n = GUINT64_FROM_LE (n);
  g_assert_cmpuint ((8 + n) % 8, ==, 0);
  g_assert_cmpuint (8 + n + (15 + 5 + 18) * 4, ==, len);
  g_assert_cmpint (bytes[8], ==, '{');
  g_free (bytes);

  st = mmdnn_safetensors_open (path, &err);
  g_assert_no_error (err);
  g_assert_cmpstr (mmdnn_safetensors_get_metadata (st, "format"), ==, "mmdnn");
  g_assert_cmpstr (mmdnn_safetensors_get_metadata (st, "config"), ==,
                   "{\"dim\": 8}\n\"é\"\\");
  g_assert_cmpuint (mmdnn_safetensors_count (st), ==, 3);
  g_assert_cmpstr (mmdnn_safetensors_name (st, 0), ==, "model.enc.fc.weight");
  g_assert_cmpstr (mmdnn_safetensors_name (st, 1), ==, "model.enc.fc.bias");
  g_assert_cmpstr (mmdnn_safetensors_name (st, 2), ==, "model.enc.conv.weight");
  g_assert_true (mmdnn_safetensors_get (st, "model.enc.conv.weight", &ndim,
                                        shape, &data));
  g_assert_cmpint (ndim, ==, 4);
  g_assert_cmpint (shape[0], ==, 2);
  g_assert_cmpint (shape[3], ==, 3);
  g_assert_cmpuint ((guintptr) data % 4, ==, 0);
  g_assert_cmpmem (data, 18 * 4,
                   mmdnn_param_set_lookup (ps, "enc.conv.weight")->value, 18 * 4);

  g_assert_true (mmdnn_safetensors_read_params (st, back, "model.", &err));
  g_assert_no_error (err);
  assert_params_equal (ps, back);
  mmdnn_safetensors_close (st);

  g_assert_cmpuint (count_temp_files (tmp_dir), ==, 0);
  mmdnn_param_set_free (ps);
  mmdnn_param_set_free (back);
  g_free (path);
}

static void
test_roundtrip_shapes (void)
{
  static const int64_t zero[] = { 0, 3 }, four[] = { 1, 2, 1, 3 };
  const float scalar = 2.5f, vals[6] = { 1, -2, 3, -4, 5, -6 };
  MmdnnSafetensorsWriter *w = mmdnn_safetensors_writer_new ();
  char *path = tmp_path ("roundtrip-shapes.safetensors");
  MmdnnSafetensors *st;
  GError *err = NULL;
  int ndim;
  int64_t shape[MMDNN_MAX_DIMS];
  const float *data;

  g_assert_true (mmdnn_safetensors_writer_add (w, "scalar", 0, NULL, &scalar, &err));
  g_assert_true (mmdnn_safetensors_writer_add (w, "empty", 2, zero, NULL, &err));
  g_assert_true (mmdnn_safetensors_writer_add (w, "four", 4, four, vals, &err));
  g_assert_true (mmdnn_safetensors_writer_add (w, "naïve ✓ name", 1, four + 3, vals, &err));
  g_assert_true (mmdnn_safetensors_writer_save (w, path, &err));
  g_assert_no_error (err);
  mmdnn_safetensors_writer_free (w);

  st = mmdnn_safetensors_open (path, &err);
  g_assert_no_error (err);
  g_assert_null (mmdnn_safetensors_get_metadata (st, "format"));
  g_assert_true (mmdnn_safetensors_get (st, "scalar", &ndim, shape, &data));
  g_assert_cmpint (ndim, ==, 0);
  g_assert_cmpint (shape[0], ==, 0);
  g_assert_cmpfloat (data[0], ==, 2.5f);
  g_assert_true (mmdnn_safetensors_get (st, "empty", &ndim, shape, NULL));
  g_assert_cmpint (ndim, ==, 2);
  g_assert_cmpint (shape[0], ==, 0);
  g_assert_cmpint (shape[1], ==, 3);
  g_assert_true (mmdnn_safetensors_get (st, "four", &ndim, shape, &data));
  g_assert_cmpint (ndim, ==, 4);
  g_assert_cmpmem (data, sizeof vals, vals, sizeof vals);
  g_assert_true (mmdnn_safetensors_get (st, "naïve ✓ name", NULL, NULL, &data));
  g_assert_cmpmem (data, 12, vals, 12);
  mmdnn_safetensors_close (st);
  g_free (path);
}

/* No tensors, metadata only: "{...}" and an empty data area. */
static void
test_metadata_only (void)
{
  MmdnnSafetensorsWriter *w = mmdnn_safetensors_writer_new ();
  char *path = tmp_path ("metadata-only.safetensors");
  MmdnnSafetensors *st;
  GError *err = NULL;

  mmdnn_safetensors_writer_set_metadata (w, "a", "first");
  mmdnn_safetensors_writer_set_metadata (w, "b", "x");
  mmdnn_safetensors_writer_set_metadata (w, "a", "replaced");
  mmdnn_safetensors_writer_set_metadata (w, "", "empty key");
  g_assert_true (mmdnn_safetensors_writer_save (w, path, &err));
  g_assert_no_error (err);
  mmdnn_safetensors_writer_free (w);

  st = mmdnn_safetensors_open (path, &err);
  g_assert_no_error (err);
  g_assert_cmpuint (mmdnn_safetensors_count (st), ==, 0);
  g_assert_null (mmdnn_safetensors_name (st, 0));
  g_assert_cmpstr (mmdnn_safetensors_get_metadata (st, "a"), ==, "replaced");
  g_assert_cmpstr (mmdnn_safetensors_get_metadata (st, "b"), ==, "x");
  g_assert_cmpstr (mmdnn_safetensors_get_metadata (st, ""), ==, "empty key");
  g_assert_null (mmdnn_safetensors_get_metadata (st, "c"));
  g_assert_false (mmdnn_safetensors_get (st, "a", NULL, NULL, NULL));
  mmdnn_safetensors_close (st);
  g_free (path);
}

/* Saving over an existing file replaces it and leaves no temporary file. */
static void
test_save_replaces (void)
{
  static const int64_t s1[] = { 1 }, s2[] = { 2 };
  const float one = 1.0f, two[2] = { 2.0f, 3.0f };
  MmdnnSafetensorsWriter *w = mmdnn_safetensors_writer_new ();
  char *path = tmp_path ("replace.safetensors");
  MmdnnSafetensors *st;
  GError *err = NULL;
  const float *data;
  int64_t shape[MMDNN_MAX_DIMS];

  write_bytes (path, "old contents", 12);
  g_assert_true (mmdnn_safetensors_writer_add (w, "x", 1, s1, &one, &err));
  g_assert_true (mmdnn_safetensors_writer_save (w, path, &err));
  /* the writer can be extended and saved again */
  g_assert_true (mmdnn_safetensors_writer_add (w, "y", 1, s2, two, &err));
  g_assert_true (mmdnn_safetensors_writer_save (w, path, &err));
  g_assert_no_error (err);
  mmdnn_safetensors_writer_free (w);

  st = mmdnn_safetensors_open (path, &err);
  g_assert_no_error (err);
  g_assert_cmpuint (mmdnn_safetensors_count (st), ==, 2);
  g_assert_true (mmdnn_safetensors_get (st, "y", NULL, shape, &data));
  g_assert_cmpint (shape[0], ==, 2);
  g_assert_cmpfloat (data[1], ==, 3.0f);
  mmdnn_safetensors_close (st);
  g_assert_cmpuint (count_temp_files (tmp_dir), ==, 0);
  g_free (path);
}

/* prefix "" (and NULL): every tensor of the file is a parameter. */
static void
test_read_params_no_prefix (void)
{
  MmdnnParamSet *ps = make_params (21), *back = make_params (22),
      *back2 = make_params (23);
  MmdnnSafetensorsWriter *w = mmdnn_safetensors_writer_new ();
  char *path = tmp_path ("no-prefix.safetensors");
  MmdnnSafetensors *st;
  GError *err = NULL;

  g_assert_true (mmdnn_safetensors_writer_add_params (w, ps, NULL, &err));
  g_assert_true (mmdnn_safetensors_writer_save (w, path, &err));
  g_assert_no_error (err);
  mmdnn_safetensors_writer_free (w);
  st = mmdnn_safetensors_open (path, &err);
  g_assert_no_error (err);
  g_assert_true (mmdnn_safetensors_read_params (st, back, "", &err));
  g_assert_true (mmdnn_safetensors_read_params (st, back2, NULL, &err));
  g_assert_no_error (err);
  assert_params_equal (ps, back);
  assert_params_equal (ps, back2);
  mmdnn_safetensors_close (st);
  mmdnn_param_set_free (ps);
  mmdnn_param_set_free (back);
  mmdnn_param_set_free (back2);
  g_free (path);
}

/* ------------------------------------------------------------------------
 * The file written by tests/core/golden/make-safetensors-golden.py
 * ---------------------------------------------------------------------- */

static const char *const golden_order[] = {
  "video.proj.weight", "logit_scale", "audio.conv.weight", "empty", "special",
  "video.proj.bias",
};
static const guint32 special_bits[] = {
  0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00001, 0x00000001,
  0x7F7FFFFF, 0x3F800000,
};
static const char golden_note[] = "café ✓ \"quoted\" back\\slash\nnew line\ttab";
static const char golden_config[] = "{\"dim\": 128, \"tokens\": [16, 10, 32], "
    "\"tau\": 0.1, \"classes\": [\"calm\", \"tense\"]}";

static MmdnnSafetensors *
open_golden (const char *file)
{
  char *path = g_test_build_filename (G_TEST_DIST, "golden", file, NULL);
  GError *err = NULL;
  MmdnnSafetensors *st = mmdnn_safetensors_open (path, &err);

  g_assert_no_error (err);
  g_free (path);
  return st;
}

static void
check_tensor (const MmdnnSafetensors *st, const char *name, int want_ndim,
              const int64_t *want_shape, const float *want)
{
  int ndim;
  int64_t shape[MMDNN_MAX_DIMS], numel = 1;
  const float *data;

  g_assert_true (mmdnn_safetensors_get (st, name, &ndim, shape, &data));
  g_assert_cmpint (ndim, ==, want_ndim);
  for (int i = 0; i < ndim; i++) {
    g_assert_cmpint (shape[i], ==, want_shape[i]);
    numel *= shape[i];
  }
  g_assert_cmpuint ((guintptr) data % 4, ==, 0);
  g_assert_cmpmem (data, numel * 4, want, numel * 4);
}

/* The values make-safetensors-golden.py writes, all exact in float32. */
static void
check_golden (const MmdnnSafetensors *st)
{
  static const int64_t sw[] = { 5, 3 }, sb[] = { 5 }, sc[] = { 2, 3, 1, 3 },
      se[] = { 0, 3 }, ss[] = { 8 };
  float w[15], b[5], c[18], scale = 4.5f, special[8];

  for (int i = 0; i < 15; i++)
    w[i] = (i - 7) / 8.0f;
  for (int i = 0; i < 5; i++)
    b[i] = i * i / 4.0f - 3.0f;
  for (int i = 0; i < 18; i++)
    c[i] = (i % 2 == 0 ? 1 : -1) * i / 16.0f;
  memcpy (special, special_bits, sizeof special);

  g_assert_cmpstr (mmdnn_safetensors_get_metadata (st, "format"), ==, "mmdnn");
  g_assert_cmpstr (mmdnn_safetensors_get_metadata (st, "version"), ==, "1");
  g_assert_cmpstr (mmdnn_safetensors_get_metadata (st, "config"), ==, golden_config);
  g_assert_cmpstr (mmdnn_safetensors_get_metadata (st, "note"), ==, golden_note);
  g_assert_cmpuint (mmdnn_safetensors_count (st), ==, G_N_ELEMENTS (golden_order));
  check_tensor (st, "video.proj.weight", 2, sw, w);
  check_tensor (st, "video.proj.bias", 1, sb, b);
  check_tensor (st, "audio.conv.weight", 4, sc, c);
  check_tensor (st, "logit_scale", 0, NULL, &scale);
  check_tensor (st, "empty", 2, se, NULL);
  check_tensor (st, "special", 1, ss, special);
}

static void
test_golden (void)
{
  MmdnnSafetensors *st = open_golden ("model.safetensors");

  for (guint i = 0; i < G_N_ELEMENTS (golden_order); i++)
    g_assert_cmpstr (mmdnn_safetensors_name (st, i), ==, golden_order[i]);
  check_golden (st);
  mmdnn_safetensors_close (st);
}

static void
test_golden_read_params (void)
{
  static const int64_t sw[] = { 5, 3 }, sb[] = { 5 };
  MmdnnSafetensors *st = open_golden ("model.safetensors");
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  GError *err = NULL;

  g_assert_nonnull (mmdnn_param_set_declare (ps, "proj.weight", 2, sw, TRUE, &err));
  g_assert_nonnull (mmdnn_param_set_declare (ps, "proj.bias", 1, sb, FALSE, &err));
  g_assert_true (mmdnn_param_set_allocate (ps, &err));
  g_assert_true (mmdnn_safetensors_read_params (st, ps, "video.", &err));
  g_assert_no_error (err);
  g_assert_cmpfloat (mmdnn_param_set_lookup (ps, "proj.weight")->value[0], ==, -7 / 8.0f);
  g_assert_cmpfloat (mmdnn_param_set_lookup (ps, "proj.weight")->value[14], ==, 7 / 8.0f);
  g_assert_cmpfloat (mmdnn_param_set_lookup (ps, "proj.bias")->value[4], ==, 1.0f);
  mmdnn_param_set_free (ps);
  mmdnn_safetensors_close (st);
}

/* A header of odd length: the floats are copied to aligned memory. */
static void
test_golden_unaligned (void)
{
  static const int64_t s[] = { 3 };
  static const float x[] = { 1.5f, -2.25f, 3.0f };
  MmdnnSafetensors *st = open_golden ("model-unaligned.safetensors");

  check_tensor (st, "x", 1, s, x);
  mmdnn_safetensors_close (st);
}

/* Read by mmdnn, written back by mmdnn, read again: the same. With
 * MMDNN_SAFETENSORS_KEEP=DIR the file stays in DIR for the Python check
 * (make-safetensors-golden.py --verify DIR/roundtrip.safetensors). */
static void
test_golden_rewrite (void)
{
  static const char *const keys[] = { "format", "version", "config", "note" };
  MmdnnSafetensors *st = open_golden ("model.safetensors"), *back;
  MmdnnSafetensorsWriter *w = mmdnn_safetensors_writer_new ();
  const char *keep = g_getenv ("MMDNN_SAFETENSORS_KEEP");
  char *path = keep != NULL && keep[0] != '\0'
      ? g_build_filename (keep, "roundtrip.safetensors", NULL)
      : tmp_path ("roundtrip.safetensors");
  GError *err = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    mmdnn_safetensors_writer_set_metadata (w, keys[i],
        mmdnn_safetensors_get_metadata (st, keys[i]));
  for (guint i = 0; i < mmdnn_safetensors_count (st); i++) {
    const char *name = mmdnn_safetensors_name (st, i);
    int ndim;
    int64_t shape[MMDNN_MAX_DIMS];
    const float *data;
    g_assert_true (mmdnn_safetensors_get (st, name, &ndim, shape, &data));
    g_assert_true (mmdnn_safetensors_writer_add (w, name, ndim, shape, data, &err));
  }
  g_assert_true (mmdnn_safetensors_writer_save (w, path, &err));
  g_assert_no_error (err);
  mmdnn_safetensors_writer_free (w);
  mmdnn_safetensors_close (st);

  back = mmdnn_safetensors_open (path, &err);
  g_assert_no_error (err);
  for (guint i = 0; i < G_N_ELEMENTS (golden_order); i++)
    g_assert_cmpstr (mmdnn_safetensors_name (back, i), ==, golden_order[i]);
  check_golden (back);
  mmdnn_safetensors_close (back);
  g_free (path);
}

/* ------------------------------------------------------------------------
 * Malformed files: each must fail with the right code, never crash.
 * ---------------------------------------------------------------------- */

typedef struct {
  const char *test;             /* test path suffix, ends in _n        */
  const char *header;           /* JSON text                           */
  gsize       data_len;         /* bytes of data after the header      */
  const char *needle;           /* must be in the message, or NULL     */
  gint        code;
} BadHeader;

#define T(h, b) "\"" h "\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[" b "]}"
#define GOOD T ("a", "0,8")

static const BadHeader bad_headers[] = {
  /* JSON syntax: only RFC 8259 gets through */
  { "header-not-json_n", "this is not json", 0, NULL, MMDNN_ERROR_FORMAT },
  { "header-not-object_n", "[1, 2, 3]", 0, "not a JSON object", MMDNN_ERROR_FORMAT },
  { "header-string_n", "\"a string\"", 0, "not a JSON object", MMDNN_ERROR_FORMAT },
  { "header-truncated_n", "{" GOOD ",\"b\":", 8, "ends inside", MMDNN_ERROR_FORMAT },
  { "header-trailing-comma_n", "{" GOOD ",}", 8, NULL, MMDNN_ERROR_FORMAT },
  { "header-two-objects_n", "{" GOOD "}{}", 8, "after the JSON object", MMDNN_ERROR_FORMAT },
  { "header-trailing-garbage_n", "{" GOOD "} x", 8, "after the JSON object", MMDNN_ERROR_FORMAT },
  { "header-comment_n", "{/* c */" GOOD "}", 8, NULL, MMDNN_ERROR_FORMAT },
  { "header-assignment_n", "var x = {" GOOD "};", 8, NULL, MMDNN_ERROR_FORMAT },
  { "header-single-quotes_n", "{'a':{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, NULL, MMDNN_ERROR_FORMAT },
  { "header-hex-number_n", "{\"a\":{\"dtype\":\"F32\",\"shape\":[0x2],\"data_offsets\":[0,8]}}", 8, NULL, MMDNN_ERROR_FORMAT },
  { "header-leading-zero_n", "{\"a\":{\"dtype\":\"F32\",\"shape\":[02],\"data_offsets\":[0,8]}}", 8, NULL, MMDNN_ERROR_FORMAT },
  { "header-escape-nul_n", "{\"a\\u0000b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "\\u0000", MMDNN_ERROR_FORMAT },
  { "header-lone-surrogate_n", "{\"__metadata__\":{\"k\":\"\\ud800x\"}}", 0, "surrogate", MMDNN_ERROR_FORMAT },
  { "header-bad-escape_n", "{\"__metadata__\":{\"k\":\"\\q\"}}", 0, "escape", MMDNN_ERROR_FORMAT },
  { "header-raw-newline_n", "{\"__metadata__\":{\"k\":\"a\nb\"}}", 0, "control character", MMDNN_ERROR_FORMAT },
  { "header-nan_n", "{\"a\":{\"dtype\":\"F32\",\"shape\":[NaN],\"data_offsets\":[0,8]}}", 8, NULL, MMDNN_ERROR_FORMAT },
  /* integers json-glib would clamp: 2^64 → -1, -2^63-1 → 2^63-1 */
  { "header-int-over-u64_n", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,18446744073709551616]}}", 8, "64-bit range", MMDNN_ERROR_FORMAT },
  { "header-int-over-i64_n", "{\"a\":{\"dtype\":\"F32\",\"shape\":[9223372036854775808],\"data_offsets\":[0,8]}}", 8, "64-bit range", MMDNN_ERROR_FORMAT },
  { "header-int-under-i64_n", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-9223372036854775809],\"data_offsets\":[0,8]}}", 8, "64-bit range", MMDNN_ERROR_FORMAT },
  /* structure */
  { "entry-not-object_n", "{\"a\":[1,2]}", 0, "'a'", MMDNN_ERROR_FORMAT },
  { "entry-missing-dtype_n", "{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "dtype", MMDNN_ERROR_FORMAT },
  { "entry-missing-shape_n", "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8, "shape", MMDNN_ERROR_FORMAT },
  { "entry-missing-offsets_n", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "data_offsets", MMDNN_ERROR_FORMAT },
  { "entry-extra-field_n", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}", 8, "'x'", MMDNN_ERROR_FORMAT },
  { "dtype-f16_n", "{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, "unsupported dtype F16", MMDNN_ERROR_FORMAT },
  { "dtype-i64_n", "{\"a\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, "unsupported dtype I64", MMDNN_ERROR_FORMAT },
  { "dtype-bf16_n", "{\"a\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[0,8]}}", 8, "unsupported dtype BF16", MMDNN_ERROR_FORMAT },
  { "dtype-garbage_n", "{\"a\":{\"dtype\":\"float32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "unknown dtype", MMDNN_ERROR_FORMAT },
  { "dtype-lowercase_n", "{\"a\":{\"dtype\":\"f32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "unknown dtype", MMDNN_ERROR_FORMAT },
  { "dtype-not-string_n", "{\"a\":{\"dtype\":32,\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "dtype", MMDNN_ERROR_FORMAT },
  { "shape-negative_n", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "shape[0]", MMDNN_ERROR_FORMAT },
  { "shape-too-many-dims_n", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,2],\"data_offsets\":[0,8]}}", 8, "5 dimensions", MMDNN_ERROR_FORMAT },
  { "shape-float_n", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", 8, "shape[0]", MMDNN_ERROR_FORMAT },
  { "shape-exponent_n", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2e0],\"data_offsets\":[0,8]}}", 8, "shape[0]", MMDNN_ERROR_FORMAT },
  { "shape-string_n", "{\"a\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", 8, "shape[0]", MMDNN_ERROR_FORMAT },
  { "shape-bool-null_n", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1,true,null],\"data_offsets\":[0,8]}}", 8, "shape[1]", MMDNN_ERROR_FORMAT },
  { "shape-not-array_n", "{\"a\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", 8, "not an array", MMDNN_ERROR_FORMAT },
  { "shape-nested_n", "{\"a\":{\"dtype\":\"F32\",\"shape\":[[2]],\"data_offsets\":[0,8]}}", 8, "shape[0]", MMDNN_ERROR_FORMAT },
  /* products that overflow int64 unless bounded factor by factor */
  { "shape-overflow_n", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4],\"data_offsets\":[0,0]}}", 0, "elements", MMDNN_ERROR_FORMAT },
  { "shape-overflow-with-zero_n", "{\"a\":{\"dtype\":\"F32\",\"shape\":[0,9223372036854775807],\"data_offsets\":[0,0]}}", 0, "elements", MMDNN_ERROR_FORMAT },
  { "shape-numel-wraps_n", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,0]}}", 0, "elements", MMDNN_ERROR_FORMAT },
  { "offsets-reversed_n", "{" T ("a", "8,0") "}", 8, "reversed", MMDNN_ERROR_FORMAT },
  { "offsets-past-end_n", "{" T ("a", "8,16") "}", 8, "past the data area", MMDNN_ERROR_FORMAT },
  { "offsets-huge_n", "{" T ("a", "9223372036854775799,9223372036854775807") "}", 8, "past the data area", MMDNN_ERROR_FORMAT },
  { "offsets-negative_n", "{" T ("a", "-8,0") "}", 8, "non-negative", MMDNN_ERROR_FORMAT },
  { "offsets-size-mismatch_n", "{" T ("a", "0,12") "}", 12, "needs 8", MMDNN_ERROR_FORMAT },
  { "offsets-three_n", "{" T ("a", "0,4,8") "}", 8, "[begin, end]", MMDNN_ERROR_FORMAT },
  { "offsets-float_n", "{" T ("a", "0,8.0") "}", 8, "non-negative integers", MMDNN_ERROR_FORMAT },
  { "offsets-overlap_n", "{" T ("a", "0,8") "," T ("b", "4,12") "}", 12, "overlaps", MMDNN_ERROR_FORMAT },
  { "offsets-same-range_n", "{" T ("a", "0,8") "," T ("b", "0,8") "}", 8, "overlaps", MMDNN_ERROR_FORMAT },
  { "offsets-gap_n", "{" T ("a", "0,8") "," T ("b", "12,20") "}", 20, "unused bytes", MMDNN_ERROR_FORMAT },
  { "offsets-trailing-data_n", "{" GOOD "}", 12, "after the last tensor", MMDNN_ERROR_FORMAT },
  { "offsets-no-tensors-data_n", "{}", 8, "after the last tensor", MMDNN_ERROR_FORMAT },
  { "duplicate-name_n", "{" T ("a", "0,8") "," T ("a", "8,16") "}", 16, "duplicate name 'a'", MMDNN_ERROR_FORMAT },
  { "duplicate-field_n", "{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "duplicate name 'dtype'", MMDNN_ERROR_FORMAT },
  { "duplicate-metadata_n", "{\"__metadata__\":{\"k\":\"1\"},\"__metadata__\":{\"k\":\"2\"}}", 0, "duplicate", MMDNN_ERROR_FORMAT },
  { "duplicate-metadata-key_n", "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0, "duplicate name 'k'", MMDNN_ERROR_FORMAT },
  { "metadata-value-number_n", "{\"__metadata__\":{\"k\":1}}", 0, "'k' is not a string", MMDNN_ERROR_FORMAT },
  { "metadata-value-object_n", "{\"__metadata__\":{\"k\":{\"x\":\"y\"}}}", 0, "'k' is not a string", MMDNN_ERROR_FORMAT },
  { "metadata-value-null_n", "{\"__metadata__\":{\"k\":null}}", 0, "'k' is not a string", MMDNN_ERROR_FORMAT },
  { "metadata-not-object_n", "{\"__metadata__\":\"k=v\"}", 0, "__metadata__", MMDNN_ERROR_FORMAT },
  { "name-empty_n", "{" T ("", "0,8") "}", 8, "empty tensor name", MMDNN_ERROR_FORMAT },
  { "name-control-char_n", "{" T ("a\\tb", "0,8") "}", 8, "control character", MMDNN_ERROR_FORMAT },
};

static void
test_bad_header (gconstpointer data)
{
  const BadHeader *c = data;
  char *name = g_strdup_printf ("%s.safetensors", c->test);
  char *path = make_file (name, c->header, c->data_len, TRUE);

  expect_open_error (path, c->code, c->needle);
  g_free (name);
  g_free (path);
}

/* The same well-formed body is accepted: the cases above fail for their
 * own reason, not because make_file() is broken. */
static void
test_make_file_sane (void)
{
  char *path = make_file ("sane.safetensors", "{" GOOD "," T ("b", "8,16") "}", 16, TRUE);
  GError *err = NULL;
  MmdnnSafetensors *st = mmdnn_safetensors_open (path, &err);
  const float *d;

  g_assert_no_error (err);
  g_assert_true (mmdnn_safetensors_get (st, "b", NULL, NULL, &d));
  g_assert_cmpfloat (d[0], ==, 2.5f);
  mmdnn_safetensors_close (st);
  g_free (path);
}

static void
test_open_missing_n (void)
{
  char *path = tmp_path ("does-not-exist.safetensors");
  expect_open_error (path, MMDNN_ERROR_IO, "cannot open");
  g_free (path);
}

static void
test_open_directory_n (void)
{
  expect_open_error (tmp_dir, MMDNN_ERROR_IO, "not a regular file");
}

static void
test_open_fifo_n (void)
{
  char *path = tmp_path ("fifo.safetensors");
  g_assert_cmpint (mkfifo (path, 0600), ==, 0);
  /* must neither block nor succeed */
  expect_open_error (path, MMDNN_ERROR_IO, "not a regular file");
  g_unlink (path);
  g_free (path);
}

static void
test_open_empty_n (void)
{
  char *path = tmp_path ("empty.safetensors");
  write_bytes (path, "", 0);
  expect_open_error (path, MMDNN_ERROR_FORMAT, "too short");
  g_free (path);
}

static void
test_open_short_n (void)
{
  char *path = tmp_path ("short.safetensors");
  write_bytes (path, "\x02\0\0\0\0\0\0", 7);
  expect_open_error (path, MMDNN_ERROR_FORMAT, "too short");
  g_free (path);
}

static void
write_with_length (const char *path, guint64 n, const char *rest)
{
  GByteArray *b = g_byte_array_new ();
  guint64 le = GUINT64_TO_LE (n);
  g_byte_array_append (b, (const guint8 *) &le, 8);
  g_byte_array_append (b, (const guint8 *) rest, strlen (rest));
  write_bytes (path, b->data, b->len);
  g_byte_array_unref (b);
}

static void
test_header_past_end_n (void)
{
  char *path = tmp_path ("past-end.safetensors");
  write_with_length (path, 16, "{}      ");
  expect_open_error (path, MMDNN_ERROR_FORMAT, "past the end");
  g_free (path);
}

static void
test_header_huge_n (void)
{
  static const guint64 sizes[] = {
    G_GUINT64_CONSTANT (1) << 63, G_MAXUINT64, G_MAXUINT64 - 7,
    (G_GUINT64_CONSTANT (100) << 20) + 1,
  };
  char *path = tmp_path ("huge.safetensors");

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++) {
    write_with_length (path, sizes[i], "{}      ");
    expect_open_error (path, MMDNN_ERROR_FORMAT, "MiB limit");
  }
  g_free (path);
}

static void
test_header_zero_n (void)
{
  char *path = tmp_path ("zero-header.safetensors");
  write_with_length (path, 0, "{}      ");
  expect_open_error (path, MMDNN_ERROR_FORMAT, "empty header");
  g_free (path);
}

static void
test_header_bad_utf8_n (void)
{
  char *path = make_file ("bad-utf8.safetensors",
                          "{\"__metadata__\":{\"k\":\"caf\xe9\"}}", 0, TRUE);
  expect_open_error (path, MMDNN_ERROR_FORMAT, "UTF-8");
  g_free (path);
}

static void
test_header_nul_n (void)
{
  static const char bytes[16] = {
    8, 0, 0, 0, 0, 0, 0, 0, '{', '}', 0, ' ', ' ', ' ', ' ', ' ',
  };
  char *path = tmp_path ("nul.safetensors");

  write_bytes (path, bytes, sizeof bytes);
  expect_open_error (path, MMDNN_ERROR_FORMAT, "NUL");
  g_free (path);
}

/* A million nested arrays: json-glib recurses per level, so this must be
 * refused before json-glib sees it. */
static void
test_header_deep_nesting_n (void)
{
  const gsize depth = 1000000;
  GString *h = g_string_new ("{\"__metadata__\":");
  char *path;

  for (gsize i = 0; i < depth; i++)
    g_string_append_c (h, '[');
  for (gsize i = 0; i < depth; i++)
    g_string_append_c (h, ']');
  g_string_append_c (h, '}');
  path = make_file ("deep.safetensors", h->str, 0, TRUE);
  expect_open_error (path, MMDNN_ERROR_FORMAT, "nested deeper");
  g_string_free (h, TRUE);
  g_free (path);
}

/* Truncating a valid file anywhere gives FORMAT, never a crash. */
static void
test_truncated_everywhere_n (void)
{
  char *golden = g_test_build_filename (G_TEST_DIST, "golden",
                                        "model.safetensors", NULL);
  char *path = tmp_path ("truncated.safetensors");
  gsize len;
  char *bytes = file_contents (golden, &len);

  for (gsize cut = 0; cut < len; cut++) {
    write_bytes (path, bytes, cut);
    expect_open_error (path, MMDNN_ERROR_FORMAT, NULL);
  }
  g_free (bytes);
  g_free (path);
  g_free (golden);
}

/* ------------------------------------------------------------------------
 * read_params failures leave the set unchanged
 * ---------------------------------------------------------------------- */

static MmdnnSafetensors *
open_params_file (const char *name, const char *prefix, MmdnnParamSet **ps)
{
  MmdnnSafetensorsWriter *w = mmdnn_safetensors_writer_new ();
  char *path = tmp_path (name);
  GError *err = NULL;
  MmdnnSafetensors *st;

  *ps = make_params (31);
  g_assert_true (mmdnn_safetensors_writer_add_params (w, *ps, prefix, &err));
  g_assert_true (mmdnn_safetensors_writer_save (w, path, &err));
  g_assert_no_error (err);
  mmdnn_safetensors_writer_free (w);
  st = mmdnn_safetensors_open (path, &err);
  g_assert_no_error (err);
  g_free (path);
  return st;
}

static void
expect_read_params_error (const MmdnnSafetensors *st, MmdnnParamSet *ps,
                          const char *prefix, gint code, const char *needle)
{
  float *before = g_memdup2 (ps->values, ps->numel * sizeof (float));
  GError *err = NULL;

  g_assert_false (mmdnn_safetensors_read_params (st, ps, prefix, &err));
  g_assert_error (err, MMDNN_ERROR, code);
  if (needle != NULL && strstr (err->message, needle) == NULL)
    g_error ("message '%s' does not mention '%s'", err->message, needle);
  g_assert_cmpmem (ps->values, ps->numel * sizeof (float), before,
                   ps->numel * sizeof (float));
  g_error_free (err);
  g_free (before);
}

static void
test_read_params_missing_n (void)
{
  static const int64_t s[] = { 3 };
  MmdnnParamSet *src, *ps = make_params (41);
  MmdnnSafetensors *st = open_params_file ("rp-missing.safetensors", "m.", &src);
  GError *err = NULL;

  /* the set has one parameter more than the file; the others match and
   * come first, so a careless loader would already have copied them */
  mmdnn_param_set_free (ps);
  ps = mmdnn_param_set_new ();
  for (guint i = 0; i < src->params->len; i++) {
    MmdnnParam *p = g_ptr_array_index (src->params, i);
    g_assert_nonnull (mmdnn_param_set_declare (ps, p->name, p->ndim, p->shape, TRUE, &err));
  }
  g_assert_nonnull (mmdnn_param_set_declare (ps, "enc.extra", 1, s, TRUE, &err));
  g_assert_true (mmdnn_param_set_allocate (ps, &err));
  ps->values[0] = 42.0f;
  expect_read_params_error (st, ps, "m.", MMDNN_ERROR_MISMATCH, "m.enc.extra");
  mmdnn_safetensors_close (st);
  mmdnn_param_set_free (src);
  mmdnn_param_set_free (ps);
}

static void
test_read_params_shape_n (void)
{
  static const int64_t w[] = { 5, 3 }, b[] = { 5 }, c[] = { 2, 3, 3, 1 };
  MmdnnParamSet *src, *ps = mmdnn_param_set_new ();
  MmdnnSafetensors *st = open_params_file ("rp-shape.safetensors", "", &src);
  GError *err = NULL;

  /* same element count, transposed last two dims */
  g_assert_nonnull (mmdnn_param_set_declare (ps, "enc.fc.weight", 2, w, TRUE, &err));
  g_assert_nonnull (mmdnn_param_set_declare (ps, "enc.fc.bias", 1, b, FALSE, &err));
  g_assert_nonnull (mmdnn_param_set_declare (ps, "enc.conv.weight", 4, c, TRUE, &err));
  g_assert_true (mmdnn_param_set_allocate (ps, &err));
  expect_read_params_error (st, ps, "", MMDNN_ERROR_MISMATCH, "(2, 3, 1, 3)");
  mmdnn_safetensors_close (st);
  mmdnn_param_set_free (src);
  mmdnn_param_set_free (ps);
}

static void
test_read_params_ndim_n (void)
{
  static const int64_t w[] = { 15 }, b[] = { 5 }, c[] = { 2, 3, 1, 3 };
  MmdnnParamSet *src, *ps = mmdnn_param_set_new ();
  MmdnnSafetensors *st = open_params_file ("rp-ndim.safetensors", "", &src);
  GError *err = NULL;

  g_assert_nonnull (mmdnn_param_set_declare (ps, "enc.fc.weight", 1, w, TRUE, &err));
  g_assert_nonnull (mmdnn_param_set_declare (ps, "enc.fc.bias", 1, b, FALSE, &err));
  g_assert_nonnull (mmdnn_param_set_declare (ps, "enc.conv.weight", 4, c, TRUE, &err));
  g_assert_true (mmdnn_param_set_allocate (ps, &err));
  expect_read_params_error (st, ps, "", MMDNN_ERROR_MISMATCH, "enc.fc.weight");
  mmdnn_safetensors_close (st);
  mmdnn_param_set_free (src);
  mmdnn_param_set_free (ps);
}

/* A tensor under the prefix that the model lacks is a mismatch too; one
 * outside the prefix is someone else's. */
static void
test_read_params_extra_n (void)
{
  static const int64_t w[] = { 5, 3 }, b[] = { 5 };
  MmdnnParamSet *src, *ps = mmdnn_param_set_new (), *other = mmdnn_param_set_new ();
  MmdnnSafetensors *st = open_params_file ("rp-extra.safetensors", "m.", &src);
  GError *err = NULL;

  g_assert_nonnull (mmdnn_param_set_declare (ps, "enc.fc.weight", 2, w, TRUE, &err));
  g_assert_nonnull (mmdnn_param_set_declare (ps, "enc.fc.bias", 1, b, FALSE, &err));
  g_assert_true (mmdnn_param_set_allocate (ps, &err));
  expect_read_params_error (st, ps, "m.", MMDNN_ERROR_MISMATCH, "m.enc.conv.weight");
  /* but a narrower prefix takes just those two */
  g_assert_nonnull (mmdnn_param_set_declare (other, "weight", 2, w, TRUE, &err));
  g_assert_nonnull (mmdnn_param_set_declare (other, "bias", 1, b, FALSE, &err));
  g_assert_true (mmdnn_param_set_allocate (other, &err));
  g_assert_true (mmdnn_safetensors_read_params (st, other, "m.enc.fc.", &err));
  g_assert_no_error (err);
  g_assert_cmpmem (mmdnn_param_set_lookup (other, "bias")->value, 20,
                   mmdnn_param_set_lookup (src, "enc.fc.bias")->value, 20);
  mmdnn_safetensors_close (st);
  mmdnn_param_set_free (src);
  mmdnn_param_set_free (ps);
  mmdnn_param_set_free (other);
}

static void
test_read_params_unallocated_n (void)
{
  static const int64_t w[] = { 5, 3 };
  MmdnnParamSet *src, *ps = mmdnn_param_set_new ();
  MmdnnSafetensors *st = open_params_file ("rp-unalloc.safetensors", "", &src);
  GError *err = NULL;

  g_assert_nonnull (mmdnn_param_set_declare (ps, "enc.fc.weight", 2, w, TRUE, &err));
  g_assert_false (mmdnn_safetensors_read_params (st, ps, "", &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_false (mmdnn_safetensors_read_params (NULL, src, "", &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  mmdnn_safetensors_close (st);
  mmdnn_param_set_free (src);
  mmdnn_param_set_free (ps);
}

/* ------------------------------------------------------------------------
 * Writer failures
 * ---------------------------------------------------------------------- */

static void
expect_add_error (MmdnnSafetensorsWriter *w, const char *name, int ndim,
                  const int64_t *shape, const float *data)
{
  GError *err = NULL;
  g_assert_false (mmdnn_safetensors_writer_add (w, name, ndim, shape, data, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_error_free (err);
}

static void
test_writer_add_bad_n (void)
{
  static const int64_t ok[] = { 2 }, neg[] = { -1 }, big[] = { INT64_C (1) << 21, INT64_C (1) << 21 };
  const float v[2] = { 1, 2 };
  MmdnnSafetensorsWriter *w = mmdnn_safetensors_writer_new ();
  char *path = tmp_path ("writer-bad.safetensors");
  GError *err = NULL;
  MmdnnSafetensors *st;

  g_assert_true (mmdnn_safetensors_writer_add (w, "a", 1, ok, v, &err));
  expect_add_error (w, "a", 1, ok, v);                 /* duplicate */
  expect_add_error (w, "", 1, ok, v);
  expect_add_error (w, NULL, 1, ok, v);
  expect_add_error (w, "__metadata__", 1, ok, v);
  expect_add_error (w, "tab\there", 1, ok, v);
  expect_add_error (w, "bad\xff", 1, ok, v);
  expect_add_error (w, "b", 5, ok, v);
  expect_add_error (w, "b", -1, ok, v);
  expect_add_error (w, "b", 1, NULL, v);
  expect_add_error (w, "b", 1, neg, v);
  expect_add_error (w, "b", 2, big, v);                /* 2^42 > max numel */
  expect_add_error (w, "b", 1, ok, NULL);
  g_assert_false (mmdnn_safetensors_writer_add (NULL, "b", 1, ok, v, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);

  /* nothing of the above was queued */
  g_assert_true (mmdnn_safetensors_writer_save (w, path, &err));
  g_assert_no_error (err);
  st = mmdnn_safetensors_open (path, &err);
  g_assert_no_error (err);
  g_assert_cmpuint (mmdnn_safetensors_count (st), ==, 1);
  mmdnn_safetensors_close (st);
  mmdnn_safetensors_writer_free (w);
  g_free (path);
}

static void
test_writer_add_params_bad_n (void)
{
  static const int64_t s[] = { 3 };
  const float v[3] = { 0 };
  MmdnnParamSet *ps = make_params (51), *unalloc = mmdnn_param_set_new ();
  MmdnnSafetensorsWriter *w = mmdnn_safetensors_writer_new ();
  char *path = tmp_path ("writer-params-bad.safetensors");
  GError *err = NULL;
  MmdnnSafetensors *st;

  g_assert_nonnull (mmdnn_param_set_declare (unalloc, "x", 1, s, TRUE, &err));
  g_assert_false (mmdnn_safetensors_writer_add_params (w, unalloc, "", &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_false (mmdnn_safetensors_writer_add_params (w, NULL, "", &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);

  /* the last parameter's name collides: none of the set is queued */
  g_assert_true (mmdnn_safetensors_writer_add (w, "p.enc.conv.weight", 1, s, v, &err));
  g_assert_false (mmdnn_safetensors_writer_add_params (w, ps, "p.", &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_true (mmdnn_safetensors_writer_save (w, path, &err));
  st = mmdnn_safetensors_open (path, &err);
  g_assert_no_error (err);
  g_assert_cmpuint (mmdnn_safetensors_count (st), ==, 1);
  mmdnn_safetensors_close (st);

  mmdnn_safetensors_writer_free (w);
  mmdnn_param_set_free (ps);
  mmdnn_param_set_free (unalloc);
  g_free (path);
}

/* An existing good file that failed saves must leave alone. */
static char *
make_old_file (const char *name, gsize *len)
{
  static const int64_t s[] = { 1 };
  const float v = 7.0f;
  MmdnnSafetensorsWriter *w = mmdnn_safetensors_writer_new ();
  char *path = tmp_path (name);
  GError *err = NULL;

  g_assert_true (mmdnn_safetensors_writer_add (w, "old", 1, s, &v, &err));
  g_assert_true (mmdnn_safetensors_writer_save (w, path, &err));
  g_assert_no_error (err);
  mmdnn_safetensors_writer_free (w);
  g_free (file_contents (path, len));
  return path;
}

static MmdnnSafetensorsWriter *
big_writer (float **storage)
{
  static const int64_t s[] = { 4096 };
  MmdnnSafetensorsWriter *w = mmdnn_safetensors_writer_new ();
  GError *err = NULL;

  *storage = g_new0 (float, 4096);
  g_assert_true (mmdnn_safetensors_writer_add (w, "new", 1, s, *storage, &err));
  mmdnn_safetensors_writer_set_metadata (w, "k", "v");
  return w;
}

static void
assert_old_file_intact (const char *path, gsize len)
{
  GError *err = NULL;
  MmdnnSafetensors *st = mmdnn_safetensors_open (path, &err);
  const float *d;
  gsize now;
  char *c = file_contents (path, &now);

  g_assert_no_error (err);
  g_assert_cmpuint (now, ==, len);
  g_assert_true (mmdnn_safetensors_get (st, "old", NULL, NULL, &d));
  g_assert_cmpfloat (d[0], ==, 7.0f);
  g_assert_false (mmdnn_safetensors_get (st, "new", NULL, NULL, NULL));
  mmdnn_safetensors_close (st);
  g_free (c);
}

static void
test_save_missing_dir_n (void)
{
  float *storage;
  MmdnnSafetensorsWriter *w = big_writer (&storage);
  char *path = g_build_filename (tmp_dir, "no-such-dir", "m.safetensors", NULL);
  GError *err = NULL;

  g_assert_false (mmdnn_safetensors_writer_save (w, path, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_IO);
  g_assert_nonnull (strstr (err->message, path));
  g_error_free (err);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (count_temp_files (tmp_dir), ==, 0);
  mmdnn_safetensors_writer_free (w);
  g_free (storage);
  g_free (path);
}

/* A directory at the path: rename fails after the data was written. */
static void
test_save_over_directory_n (void)
{
  float *storage;
  MmdnnSafetensorsWriter *w = big_writer (&storage);
  char *path = tmp_path ("a-directory.safetensors");
  char *inside = g_build_filename (path, "keep", NULL);
  GError *err = NULL;

  g_assert_cmpint (g_mkdir (path, 0700), ==, 0);
  write_bytes (inside, "x", 1);
  g_assert_false (mmdnn_safetensors_writer_save (w, path, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_IO);
  g_assert_nonnull (strstr (err->message, "rename"));
  g_error_free (err);
  g_assert_true (g_file_test (inside, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpuint (count_temp_files (tmp_dir), ==, 0);
  mmdnn_safetensors_writer_free (w);
  g_free (storage);
  g_free (inside);
  g_free (path);
}

/* The disk "fills up" halfway (RLIMIT_FSIZE): the old file survives. */
static void
test_save_write_fails_n (void)
{
  float *storage;
  MmdnnSafetensorsWriter *w = big_writer (&storage);
  gsize len;
  char *path = make_old_file ("write-fails.safetensors", &len);
  struct rlimit saved, lim;
  void (*old_handler) (int);
  GError *err = NULL;
  gboolean ok;

  g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &saved), ==, 0);
  lim = saved;
  lim.rlim_cur = 1000;          /* the new file is ~16 KiB */
  old_handler = signal (SIGXFSZ, SIG_IGN);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &lim), ==, 0);
  ok = mmdnn_safetensors_writer_save (w, path, &err);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &saved), ==, 0);
  signal (SIGXFSZ, old_handler);

  g_assert_false (ok);
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_IO);
  g_assert_nonnull (strstr (err->message, "write"));
  g_error_free (err);
  assert_old_file_intact (path, len);
  g_assert_cmpuint (count_temp_files (tmp_dir), ==, 0);
  mmdnn_safetensors_writer_free (w);
  g_free (storage);
  g_free (path);
}

/* A read-only directory (meaningless as root, who may write anyway). */
static void
test_save_readonly_dir_n (void)
{
  float *storage;
  MmdnnSafetensorsWriter *w;
  char *dir = tmp_path ("read-only");
  char *path = g_build_filename (dir, "m.safetensors", NULL);
  GError *err = NULL;

  if (geteuid () == 0) {
    g_test_skip ("root ignores directory permissions");
    g_free (path);
    g_free (dir);
    return;
  }
  w = big_writer (&storage);
  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  write_bytes (path, "old", 3);
  g_assert_cmpint (g_chmod (dir, 0500), ==, 0);
  g_assert_false (mmdnn_safetensors_writer_save (w, path, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_IO);
  g_error_free (err);
  g_assert_cmpint (g_chmod (dir, 0700), ==, 0);
  g_assert_cmpuint (count_temp_files (dir), ==, 0);
  mmdnn_safetensors_writer_free (w);
  g_free (storage);
  g_free (path);
  g_free (dir);
}

static void
test_save_bad_metadata_n (void)
{
  float *storage;
  MmdnnSafetensorsWriter *w = big_writer (&storage);
  gsize len;
  char *path = make_old_file ("bad-metadata.safetensors", &len);
  GError *err = NULL;

  mmdnn_safetensors_writer_set_metadata (w, "k", "caf\xe9");
  g_assert_false (mmdnn_safetensors_writer_save (w, path, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  mmdnn_safetensors_writer_set_metadata (w, "k", "fine");
  mmdnn_safetensors_writer_set_metadata (w, "\xff", "bad key");
  g_assert_false (mmdnn_safetensors_writer_save (w, path, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_false (mmdnn_safetensors_writer_save (w, NULL, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_false (mmdnn_safetensors_writer_save (w, "", &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  assert_old_file_intact (path, len);
  g_assert_cmpuint (count_temp_files (tmp_dir), ==, 0);
  mmdnn_safetensors_writer_free (w);
  g_free (storage);
  g_free (path);
}

static void
test_open_null_n (void)
{
  GError *err = NULL;

  g_assert_null (mmdnn_safetensors_open (NULL, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_error_free (err);
  /* the accessors tolerate NULL */
  g_assert_cmpuint (mmdnn_safetensors_count (NULL), ==, 0);
  g_assert_null (mmdnn_safetensors_name (NULL, 0));
  g_assert_null (mmdnn_safetensors_get_metadata (NULL, "k"));
  g_assert_false (mmdnn_safetensors_get (NULL, "k", NULL, NULL, NULL));
  mmdnn_safetensors_close (NULL);
  mmdnn_safetensors_writer_free (NULL);
}

int
main (int argc, char **argv)
{
  GError *err = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);
  tmp_dir = g_dir_make_tmp ("mmdnn-safetensors-XXXXXX", &err);
  g_assert_no_error (err);

  g_test_add_func ("/safetensors/roundtrip", test_roundtrip);
  g_test_add_func ("/safetensors/roundtrip-shapes", test_roundtrip_shapes);
  g_test_add_func ("/safetensors/metadata-only", test_metadata_only);
  g_test_add_func ("/safetensors/save-replaces", test_save_replaces);
  g_test_add_func ("/safetensors/read-params-no-prefix", test_read_params_no_prefix);
  g_test_add_func ("/safetensors/golden", test_golden);
  g_test_add_func ("/safetensors/golden-read-params", test_golden_read_params);
  g_test_add_func ("/safetensors/golden-unaligned", test_golden_unaligned);
  g_test_add_func ("/safetensors/golden-rewrite", test_golden_rewrite);
  g_test_add_func ("/safetensors/make-file-sane", test_make_file_sane);

  g_test_add_func ("/safetensors/open-missing_n", test_open_missing_n);
  g_test_add_func ("/safetensors/open-directory_n", test_open_directory_n);
  g_test_add_func ("/safetensors/open-fifo_n", test_open_fifo_n);
  g_test_add_func ("/safetensors/open-empty_n", test_open_empty_n);
  g_test_add_func ("/safetensors/open-short_n", test_open_short_n);
  g_test_add_func ("/safetensors/open-null_n", test_open_null_n);
  g_test_add_func ("/safetensors/header-past-end_n", test_header_past_end_n);
  g_test_add_func ("/safetensors/header-huge_n", test_header_huge_n);
  g_test_add_func ("/safetensors/header-zero_n", test_header_zero_n);
  g_test_add_func ("/safetensors/header-bad-utf8_n", test_header_bad_utf8_n);
  g_test_add_func ("/safetensors/header-nul_n", test_header_nul_n);
  g_test_add_func ("/safetensors/header-deep-nesting_n", test_header_deep_nesting_n);
  g_test_add_func ("/safetensors/truncated-everywhere_n", test_truncated_everywhere_n);
  for (guint i = 0; i < G_N_ELEMENTS (bad_headers); i++) {
    char *name = g_strconcat ("/safetensors/", bad_headers[i].test, NULL);
    g_test_add_data_func (name, &bad_headers[i], test_bad_header);
    g_free (name);
  }
  g_test_add_func ("/safetensors/read-params-missing_n", test_read_params_missing_n);
  g_test_add_func ("/safetensors/read-params-shape_n", test_read_params_shape_n);
  g_test_add_func ("/safetensors/read-params-ndim_n", test_read_params_ndim_n);
  g_test_add_func ("/safetensors/read-params-extra_n", test_read_params_extra_n);
  g_test_add_func ("/safetensors/read-params-unallocated_n", test_read_params_unallocated_n);
  g_test_add_func ("/safetensors/writer-add-bad_n", test_writer_add_bad_n);
  g_test_add_func ("/safetensors/writer-add-params-bad_n", test_writer_add_params_bad_n);
  g_test_add_func ("/safetensors/save-missing-dir_n", test_save_missing_dir_n);
  g_test_add_func ("/safetensors/save-over-directory_n", test_save_over_directory_n);
  g_test_add_func ("/safetensors/save-write-fails_n", test_save_write_fails_n);
  g_test_add_func ("/safetensors/save-readonly-dir_n", test_save_readonly_dir_n);
  g_test_add_func ("/safetensors/save-bad-metadata_n", test_save_bad_metadata_n);

  ret = g_test_run ();
  rm_rf (tmp_dir);
  g_free (tmp_dir);
  return ret;
}
