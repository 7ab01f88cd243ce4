/* mmdnn — model and checkpoint files in the safetensors format.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include <mmdnn/safetensors.h>
#include "internal.h"

/* The data is written and mapped as is: float32 little-endian on disk. */
#if G_BYTE_ORDER != G_LITTLE_ENDIAN
#error "mmdnn safetensors I/O assumes a little-endian host; add byte swapping"
#endif

#define METADATA_KEY   "__metadata__"
#define WRITE_CHUNK    ((gsize) 1 << 30)

/* Every dtype of the safetensors specification: these are valid files we do
 * not support, which deserves a different message from garbage. */
static const char *const known_dtypes[] = {
  "BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F4", "F6_E2M3",
  "F6_E3M2", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64",
  "U64", "C64",
};

typedef struct {
  char    *name;
  int      ndim;
  int64_t  shape[MMDNN_MAX_DIMS];
  int64_t  numel;
  guint64  begin, end;          /* bytes, relative to the data area */
} Entry;

struct _MmdnnSafetensors {
  char        *path;
  GMappedFile *map;
  const guint8 *data;           /* the data area, float-aligned         */
  guint8      *data_copy;       /* owned copy when the map's is not     */
  guint64      data_size;
  GPtrArray   *entries;         /* Entry*, header order                 */
  GHashTable  *by_name;         /* name → Entry* (borrowed)             */
  GHashTable  *metadata;        /* key → value, both owned              */
};

static void
entry_free (gpointer p)
{
  Entry *e = p;
  g_free (e->name);
  g_free (e);
}

/* "(2, 3)", "()" for a scalar; @buf holds at least 128 bytes. */
static const char *
format_shape (char *buf, gsize size, int ndim, const int64_t *shape)
{
  gsize used = g_strlcpy (buf, "(", size);

  for (int i = 0; i < ndim && used < size; i++)
    used += g_snprintf (buf + used, size - used, "%s%" G_GINT64_FORMAT,
                        i > 0 ? ", " : "", shape[i]);
  if (used < size)
    g_strlcpy (buf + used, ")", size - used);
  return buf;
}

/* NULL when @name may name a tensor, else why not. Control characters are
 * refused so that names print safely in messages and logs. */
static const char *
tensor_name_problem (const char *name)
{
  if (name[0] == '\0')
    return "empty tensor name";
  if (!g_utf8_validate (name, -1, NULL))
    return "tensor name is not valid UTF-8";
  if (strcmp (name, METADATA_KEY) == 0)
    return "'" METADATA_KEY "' is reserved for metadata";
  for (const guchar *c = (const guchar *) name; *c != '\0'; c++)
    if (*c < 0x20 || *c == 0x7f)
      return "tensor name contains a control character";
  return NULL;
}

/* (transfer full): @s with control characters replaced by '?', for a
 * message that quotes a name which has not been validated. */
static char *
printable (const char *s)
{
  char *p = g_strdup (s);

  for (char *c = p; *c != '\0'; c++)
    if ((guchar) *c < 0x20 || *c == 0x7f)
      *c = '?';
  return p;
}

/* ---------------------------------------------------------------------------
 * Reader
 * ------------------------------------------------------------------------- */

/* json-glib keeps the last of duplicate members silently. Every member is
 * announced by "object-member" after it is stored, so an object whose size
 * lags behind the members announced for it has had one replaced. */
typedef struct {
  GHashTable *announced;        /* JsonObject* → count */
  char       *duplicate;        /* first duplicate name */
} DupCheck;

static void
on_object_member (JsonParser *parser, JsonObject *object,
                  const char *member_name, gpointer user_data)
{
  DupCheck *dc = user_data;
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (dc->announced, object)) + 1;

  g_hash_table_insert (dc->announced, object, GUINT_TO_POINTER (n));
  if (n != json_object_get_size (object) && dc->duplicate == NULL)
    dc->duplicate = printable (member_name);
}

/* A JSON integer ≥ 0, or -1. */
static int64_t
node_get_count (JsonNode *node)
{
  int64_t v;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_INT64)
    return -1;
  v = json_node_get_int (node);
  return v >= 0 ? v : -1;
}

static gboolean
parse_metadata (MmdnnSafetensors *st, JsonNode *node, GError **error)
{
  JsonObject *obj;
  GList *members;
  gboolean ok = TRUE;

  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    g_set_error_literal (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                         METADATA_KEY " is not a JSON object");
    return FALSE;
  }
  obj = json_node_get_object (node);
  members = json_object_get_members (obj);
  for (GList *l = members; l != NULL; l = l->next) {
    const char *key = l->data;
    JsonNode *v = json_object_get_member (obj, key);
    if (!JSON_NODE_HOLDS_VALUE (v)
        || json_node_get_value_type (v) != G_TYPE_STRING) {
      char *k = printable (key);
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                   METADATA_KEY " value of '%s' is not a string", k);
      g_free (k);
      ok = FALSE;
      break;
    }
    g_hash_table_insert (st->metadata, g_strdup (key),
                         g_strdup (json_node_get_string (v)));
  }
  g_list_free (members);
  return ok;
}

static gboolean
dtype_is_known (const char *dtype)
{
  for (gsize i = 0; i < G_N_ELEMENTS (known_dtypes); i++)
    if (strcmp (dtype, known_dtypes[i]) == 0)
      return TRUE;
  return FALSE;
}

/* Validates one tensor entry; the caller prefixes the tensor's name. */
static Entry *
parse_entry (const char *name, JsonNode *node, guint64 data_size,
             GError **error)
{
  JsonObject *obj;
  JsonNode *dtype, *shape, *offsets;
  JsonArray *arr;
  const char *dt;
  Entry *e;
  int64_t b, en, nonzero = 1;
  guint len;

  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    g_set_error_literal (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                         "entry is not a JSON object");
    return NULL;
  }
  obj = json_node_get_object (node);
  dtype = json_object_get_member (obj, "dtype");
  shape = json_object_get_member (obj, "shape");
  offsets = json_object_get_member (obj, "data_offsets");
  if (dtype == NULL || shape == NULL || offsets == NULL) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT, "missing '%s'",
                 dtype == NULL ? "dtype" : shape == NULL ? "shape"
                 : "data_offsets");
    return NULL;
  }
  if (json_object_get_size (obj) != 3) {
    GList *members = json_object_get_members (obj);
    char *extra = NULL;
    for (GList *l = members; l != NULL && extra == NULL; l = l->next)
      if (strcmp (l->data, "dtype") != 0 && strcmp (l->data, "shape") != 0
          && strcmp (l->data, "data_offsets") != 0)
        extra = printable (l->data);
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "unexpected member '%s' (only dtype, shape, data_offsets)",
                 extra != NULL ? extra : "?");
    g_free (extra);
    g_list_free (members);
    return NULL;
  }

  if (!JSON_NODE_HOLDS_VALUE (dtype)
      || json_node_get_value_type (dtype) != G_TYPE_STRING) {
    g_set_error_literal (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                         "dtype is not a string");
    return NULL;
  }
  dt = json_node_get_string (dtype);
  if (strcmp (dt, "F32") != 0) {
    if (dtype_is_known (dt)) {
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                   "unsupported dtype %s (only F32)", dt);
    } else {
      char *d = printable (dt);
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                   "unknown dtype '%s'", d);
      g_free (d);
    }
    return NULL;
  }

  if (!JSON_NODE_HOLDS_ARRAY (shape)) {
    g_set_error_literal (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                         "shape is not an array");
    return NULL;
  }
  arr = json_node_get_array (shape);
  len = json_array_get_length (arr);
  if (len > MMDNN_MAX_DIMS) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "shape has %u dimensions, at most %d are supported", len,
                 MMDNN_MAX_DIMS);
    return NULL;
  }
  e = g_new0 (Entry, 1);
  e->ndim = len;
  for (guint i = 0; i < len; i++) {
    int64_t d = node_get_count (json_array_get_element (arr, i));
    if (d < 0) {
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                   "shape[%u] is not a non-negative integer", i);
      goto fail;
    }
    /* Zero sizes are legal (an empty tensor), so bound each factor and the
     * product of the non-zero ones. */
    if (d > MMDNN_MAX_NUMEL || (d > 0 && nonzero > MMDNN_MAX_NUMEL / d)) {
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                   "shape has more than %" G_GINT64_FORMAT " elements",
                   MMDNN_MAX_NUMEL);
      goto fail;
    }
    e->shape[i] = d;
    if (d > 0)
      nonzero *= d;
  }
  e->numel = nonzero;
  for (int i = 0; i < e->ndim; i++)
    if (e->shape[i] == 0)
      e->numel = 0;

  if (!JSON_NODE_HOLDS_ARRAY (offsets)
      || json_array_get_length (json_node_get_array (offsets)) != 2) {
    g_set_error_literal (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                         "data_offsets is not an array [begin, end]");
    goto fail;
  }
  arr = json_node_get_array (offsets);
  b = node_get_count (json_array_get_element (arr, 0));
  en = node_get_count (json_array_get_element (arr, 1));
  if (b < 0 || en < 0) {
    g_set_error_literal (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                         "data_offsets are not non-negative integers");
    goto fail;
  }
  if (b > en) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "data_offsets [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
                 "] are reversed", b, en);
    goto fail;
  }
  if ((guint64) en > data_size) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "data_offsets [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
                 "] run past the data area of %" G_GUINT64_FORMAT " bytes",
                 b, en, data_size);
    goto fail;
  }
  if (en - b != e->numel * (int64_t) sizeof (float)) {
    char sbuf[128];
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "data_offsets [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
                 "] hold %" G_GINT64_FORMAT " bytes, shape %s F32 needs %"
                 G_GINT64_FORMAT, b, en, en - b,
                 format_shape (sbuf, sizeof sbuf, e->ndim, e->shape),
                 e->numel * (int64_t) sizeof (float));
    goto fail;
  }
  e->begin = b;
  e->end = en;
  e->name = g_strdup (name);
  return e;

fail:
  g_free (e);
  return NULL;
}

static int
entry_cmp_offset (gconstpointer a, gconstpointer b)
{
  const Entry *x = *(Entry *const *) a, *y = *(Entry *const *) b;

  if (x->begin != y->begin)
    return x->begin < y->begin ? -1 : 1;
  if (x->end != y->end)
    return x->end < y->end ? -1 : 1;
  return 0;
}

/* Like the reference implementation: the tensors tile the data area, with
 * no overlap, no hole and nothing after the last one. */
static gboolean
check_coverage (MmdnnSafetensors *st, GError **error)
{
  /* not g_ptr_array_copy (): that would inherit the free function */
  GPtrArray *sorted = g_ptr_array_sized_new (st->entries->len);
  guint64 expected = 0;
  const char *prev = NULL;
  gboolean ok = TRUE;

  for (guint i = 0; i < st->entries->len; i++)
    g_ptr_array_add (sorted, g_ptr_array_index (st->entries, i));
  g_ptr_array_sort (sorted, entry_cmp_offset);
  for (guint i = 0; i < sorted->len && ok; i++) {
    const Entry *e = g_ptr_array_index (sorted, i);
    if (e->begin < expected) {
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                   "tensor '%s' overlaps tensor '%s'", e->name, prev);
      ok = FALSE;
    } else if (e->begin > expected) {
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                   "tensor '%s': %" G_GUINT64_FORMAT " unused bytes before "
                   "it in the data area", e->name, e->begin - expected);
      ok = FALSE;
    }
    expected = e->end;
    prev = e->name;
  }
  if (ok && expected != st->data_size) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "%" G_GUINT64_FORMAT " bytes after the last tensor in the "
                 "data area", st->data_size - expected);
    ok = FALSE;
  }
  g_ptr_array_unref (sorted);
  return ok;
}

static gboolean
parse_header (MmdnnSafetensors *st, const char *hdr, gsize len, GError **error)
{
  JsonParser *parser = NULL;
  JsonObject *root;
  GList *members = NULL;
  DupCheck dc = { NULL, NULL };
  const char *bad_utf8;
  char *text = NULL;
  GError *jerr = NULL;
  gboolean ok = FALSE;

  if (!g_utf8_validate_len (hdr, len, &bad_utf8)) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "header byte %" G_GSIZE_FORMAT ": not valid UTF-8 (or a NUL)",
                 (gsize) (bad_utf8 - hdr));
    return FALSE;
  }
  /* json-glib alone would take a superset of JSON, clamp integers beyond
   * int64 and recurse once per nesting level */
  if (!mmdnn_json_check_strict (hdr, len, "header", TRUE, error))
    return FALSE;

  /* json-glib gets its own NUL-terminated copy: it never has to stop
   * exactly at the end of the mapping */
  text = g_malloc (len + 1);
  memcpy (text, hdr, len);
  text[len] = '\0';
  parser = json_parser_new ();
  dc.announced = g_hash_table_new (NULL, NULL);
  g_signal_connect (parser, "object-member", G_CALLBACK (on_object_member),
                    &dc);
  if (!json_parser_load_from_data (parser, text, len, &jerr)) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "header is not valid JSON: %s", jerr->message);
    g_error_free (jerr);
    goto out;
  }
  if (dc.duplicate != NULL) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "duplicate name '%s' in the header", dc.duplicate);
    goto out;
  }
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
    g_set_error_literal (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                         "header is not a JSON object");
    goto out;
  }
  root = json_node_get_object (json_parser_get_root (parser));
  members = json_object_get_members (root);
  for (GList *l = members; l != NULL; l = l->next) {
    const char *name = l->data;
    JsonNode *node = json_object_get_member (root, name);
    const char *problem;
    Entry *e;

    if (strcmp (name, METADATA_KEY) == 0) {
      if (!parse_metadata (st, node, error))
        goto out;
      continue;
    }
    problem = tensor_name_problem (name);
    if (problem != NULL) {
      /* not quoted back: it may not print */
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                   "tensor %u: %s", st->entries->len, problem);
      goto out;
    }
    e = parse_entry (name, node, st->data_size, error);
    if (e == NULL) {
      g_prefix_error (error, "tensor '%s': ", name);
      goto out;
    }
    g_ptr_array_add (st->entries, e);
    g_hash_table_insert (st->by_name, e->name, e);
  }
  ok = check_coverage (st, error);

out:
  g_list_free (members);
  g_free (dc.duplicate);
  g_free (text);
  g_object_unref (parser);
  g_hash_table_unref (dc.announced);
  return ok;
}

MmdnnSafetensors *
mmdnn_safetensors_open (const char *path, GError **error)
{
  MmdnnSafetensors *st = NULL;
  GError *err = NULL;
  struct stat sb;
  const guint8 *contents;
  gsize size;
  guint64 n;
  int fd;

  MMDNN_CHECK_NOT_NULL (path, error, NULL);

  /* O_NONBLOCK: a FIFO must not hang us; it is refused just below. */
  fd = g_open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK, 0);
  if (fd < 0) {
    int saved = errno;
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_IO, "%s: cannot open: %s",
                 path, g_strerror (saved));
    return NULL;
  }
  if (fstat (fd, &sb) != 0 || !S_ISREG (sb.st_mode)) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_IO,
                 "%s: not a regular file", path);
    close (fd);
    return NULL;
  }
  if (sb.st_size < 8) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "%s: %" G_GINT64_FORMAT " bytes, too short for a safetensors "
                 "file (8-byte header length first)", path,
                 (gint64) sb.st_size);
    close (fd);
    return NULL;
  }

  st = g_new0 (MmdnnSafetensors, 1);
  st->path = g_strdup (path);
  st->entries = g_ptr_array_new_with_free_func (entry_free);
  st->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  st->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        g_free);
  st->map = g_mapped_file_new_from_fd (fd, FALSE, &err);
  close (fd);
  if (st->map == NULL) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_IO, "%s: cannot map: %s",
                 path, err->message);
    g_error_free (err);
    goto fail;
  }
  contents = (const guint8 *) g_mapped_file_get_contents (st->map);
  size = g_mapped_file_get_length (st->map);
  if (size < 8 || contents == NULL) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "%s: file shrank while opening it", path);
    goto fail;
  }

  memcpy (&n, contents, sizeof n);
  n = GUINT64_FROM_LE (n);
  if (n > (guint64) MMDNN_SAFETENSORS_MAX_HEADER) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "%s: header length %" G_GUINT64_FORMAT " is over the %"
                 G_GINT64_FORMAT " MiB limit", path, n,
                 MMDNN_SAFETENSORS_MAX_HEADER >> 20);
    goto fail;
  }
  if (n > size - 8) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "%s: header length %" G_GUINT64_FORMAT " runs past the end "
                 "of the %" G_GSIZE_FORMAT "-byte file", path, n, size);
    goto fail;
  }
  if (n == 0) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "%s: empty header", path);
    goto fail;
  }
  st->data_size = size - 8 - n;

  if (!parse_header (st, (const char *) contents + 8, n, error)) {
    g_prefix_error (error, "%s: ", path);
    goto fail;
  }

  /* Writers pad the header to 8 bytes; one that did not leaves the floats
   * misaligned in the mapping, so they get an aligned copy instead. */
  st->data = contents + 8 + n;
  if (((guintptr) st->data % sizeof (float)) != 0 && st->data_size > 0) {
    st->data_copy = g_try_malloc (st->data_size);
    if (st->data_copy == NULL) {
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_NO_MEMORY,
                   "%s: out of memory copying %" G_GUINT64_FORMAT " bytes "
                   "of unaligned data", path, st->data_size);
      goto fail;
    }
    memcpy (st->data_copy, st->data, st->data_size);
    st->data = st->data_copy;
  }
  return st;

fail:
  mmdnn_safetensors_close (st);
  return NULL;
}

void
mmdnn_safetensors_close (MmdnnSafetensors *st)
{
  if (st == NULL)
    return;
  g_hash_table_unref (st->by_name);
  g_ptr_array_unref (st->entries);
  g_hash_table_unref (st->metadata);
  if (st->map != NULL)
    g_mapped_file_unref (st->map);
  g_free (st->data_copy);
  g_free (st->path);
  g_free (st);
}

const char *
mmdnn_safetensors_get_metadata (const MmdnnSafetensors *st, const char *key)
{
  if (st == NULL || key == NULL)
    return NULL;
  return g_hash_table_lookup (st->metadata, key);
}

guint
mmdnn_safetensors_count (const MmdnnSafetensors *st)
{
  return st != NULL ? st->entries->len : 0;
}

const char *
mmdnn_safetensors_name (const MmdnnSafetensors *st, guint i)
{
  if (st == NULL || i >= st->entries->len)
    return NULL;
  return ((const Entry *) g_ptr_array_index (st->entries, i))->name;
}

gboolean
mmdnn_safetensors_get (const MmdnnSafetensors *st, const char *name,
                       int *ndim, int64_t shape[MMDNN_MAX_DIMS],
                       const float **data)
{
  const Entry *e;

  if (st == NULL || name == NULL)
    return FALSE;
  e = g_hash_table_lookup (st->by_name, name);
  if (e == NULL)
    return FALSE;
  if (ndim != NULL)
    *ndim = e->ndim;
  if (shape != NULL)
    for (int i = 0; i < MMDNN_MAX_DIMS; i++)
      shape[i] = i < e->ndim ? e->shape[i] : 0;
  if (data != NULL)
    *data = (const float *) (st->data + e->begin);
  return TRUE;
}

gboolean
mmdnn_safetensors_read_params (const MmdnnSafetensors *st, MmdnnParamSet *ps,
                               const char *prefix, GError **error)
{
  gsize plen;

  MMDNN_CHECK_NOT_NULL (st, error, FALSE);
  MMDNN_CHECK_NOT_NULL (ps, error, FALSE);
  MMDNN_CHECK (ps->allocated, error, FALSE,
               "%s: the parameter set is not allocated", G_STRFUNC);
  if (prefix == NULL)
    prefix = "";
  plen = strlen (prefix);

  for (guint i = 0; i < ps->params->len; i++) {
    const MmdnnParam *p = g_ptr_array_index (ps->params, i);
    char *full = g_strconcat (prefix, p->name, NULL);
    const Entry *e = g_hash_table_lookup (st->by_name, full);
    gboolean same = e != NULL && e->ndim == p->ndim
        && memcmp (e->shape, p->shape, sizeof (int64_t) * p->ndim) == 0;

    if (e == NULL) {
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_MISMATCH,
                   "%s: no tensor '%s' for parameter '%s'", st->path, full,
                   p->name);
    } else if (!same) {
      char fs[128], ms[128];
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_MISMATCH,
                   "%s: tensor '%s' has shape %s, parameter '%s' is %s",
                   st->path, full,
                   format_shape (fs, sizeof fs, e->ndim, e->shape), p->name,
                   format_shape (ms, sizeof ms, p->ndim, p->shape));
    }
    g_free (full);
    if (!same)
      return FALSE;
  }
  for (guint i = 0; i < st->entries->len; i++) {
    const Entry *e = g_ptr_array_index (st->entries, i);
    if (strncmp (e->name, prefix, plen) == 0
        && mmdnn_param_set_lookup (ps, e->name + plen) == NULL) {
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_MISMATCH,
                   "%s: tensor '%s' matches no parameter of the model",
                   st->path, e->name);
      return FALSE;
    }
  }

  for (guint i = 0; i < ps->params->len; i++) {
    MmdnnParam *p = g_ptr_array_index (ps->params, i);
    char *full = g_strconcat (prefix, p->name, NULL);
    const Entry *e = g_hash_table_lookup (st->by_name, full);
    memcpy (p->value, st->data + e->begin, e->end - e->begin);
    g_free (full);
  }
  return TRUE;
}

/* ---------------------------------------------------------------------------
 * Writer
 * ------------------------------------------------------------------------- */

typedef struct {
  char        *name;
  int          ndim;
  int64_t      shape[MMDNN_MAX_DIMS];
  int64_t      numel;
  const float *data;
} WEntry;

struct _MmdnnSafetensorsWriter {
  GPtrArray  *entries;          /* WEntry*, insertion order            */
  GHashTable *names;            /* name → WEntry* (borrowed)           */
  GPtrArray  *meta_keys;        /* char*, first insertion order, owned */
  GHashTable *meta;             /* key (borrowed) → value (owned)      */
};

static void
wentry_free (gpointer p)
{
  WEntry *e = p;
  g_free (e->name);
  g_free (e);
}

MmdnnSafetensorsWriter *
mmdnn_safetensors_writer_new (void)
{
  MmdnnSafetensorsWriter *w = g_new0 (MmdnnSafetensorsWriter, 1);

  w->entries = g_ptr_array_new_with_free_func (wentry_free);
  w->names = g_hash_table_new (g_str_hash, g_str_equal);
  w->meta_keys = g_ptr_array_new_with_free_func (g_free);
  w->meta = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  return w;
}

void
mmdnn_safetensors_writer_free (MmdnnSafetensorsWriter *w)
{
  if (w == NULL)
    return;
  g_hash_table_unref (w->names);
  g_ptr_array_unref (w->entries);
  g_hash_table_unref (w->meta);
  g_ptr_array_unref (w->meta_keys);
  g_free (w);
}

/* Validates name and shape; returns numel or -1. */
static int64_t
writer_check (MmdnnSafetensorsWriter *w, const char *name, int ndim,
              const int64_t *shape, const float *data, GError **error)
{
  const char *problem;
  int64_t numel = 1, nonzero = 1;

  MMDNN_CHECK_NOT_NULL (name, error, -1);
  problem = tensor_name_problem (name);
  MMDNN_CHECK (problem == NULL, error, -1, "cannot add tensor: %s", problem);
  MMDNN_CHECK (!g_hash_table_contains (w->names, name), error, -1,
               "tensor '%s' is added twice", name);
  MMDNN_CHECK (ndim >= 0 && ndim <= MMDNN_MAX_DIMS, error, -1,
               "tensor '%s': %d dimensions, must be 0 to %d", name, ndim,
               MMDNN_MAX_DIMS);
  MMDNN_CHECK (ndim == 0 || shape != NULL, error, -1,
               "tensor '%s': shape must not be NULL", name);
  for (int i = 0; i < ndim; i++) {
    MMDNN_CHECK (shape[i] >= 0 && shape[i] <= MMDNN_MAX_NUMEL, error, -1,
                 "tensor '%s': dimension %d has size %" G_GINT64_FORMAT,
                 name, i, shape[i]);
    MMDNN_CHECK (shape[i] == 0 || nonzero <= MMDNN_MAX_NUMEL / shape[i],
                 error, -1, "tensor '%s': more than %" G_GINT64_FORMAT
                 " elements", name, MMDNN_MAX_NUMEL);
    if (shape[i] == 0)
      numel = 0;
    else
      nonzero *= shape[i];
  }
  numel = numel == 0 ? 0 : nonzero;
  MMDNN_CHECK (numel == 0 || data != NULL, error, -1,
               "tensor '%s': data must not be NULL", name);
  return numel;
}

static void
writer_push (MmdnnSafetensorsWriter *w, const char *name, int ndim,
             const int64_t *shape, int64_t numel, const float *data)
{
  WEntry *e = g_new0 (WEntry, 1);

  e->name = g_strdup (name);
  e->ndim = ndim;
  if (ndim > 0)
    memcpy (e->shape, shape, sizeof (int64_t) * ndim);
  e->numel = numel;
  e->data = data;
  g_ptr_array_add (w->entries, e);
  g_hash_table_insert (w->names, e->name, e);
}

gboolean
mmdnn_safetensors_writer_add (MmdnnSafetensorsWriter *w, const char *name,
                              int ndim, const int64_t *shape,
                              const float *data, GError **error)
{
  int64_t numel;

  MMDNN_CHECK_NOT_NULL (w, error, FALSE);
  numel = writer_check (w, name, ndim, shape, data, error);
  if (numel < 0)
    return FALSE;
  writer_push (w, name, ndim, shape, numel, data);
  return TRUE;
}

gboolean
mmdnn_safetensors_writer_add_params (MmdnnSafetensorsWriter *w,
                                     const MmdnnParamSet *ps,
                                     const char *prefix, GError **error)
{
  GPtrArray *full;
  gboolean ok = TRUE;

  MMDNN_CHECK_NOT_NULL (w, error, FALSE);
  MMDNN_CHECK_NOT_NULL (ps, error, FALSE);
  MMDNN_CHECK (ps->allocated, error, FALSE,
               "%s: the parameter set is not allocated", G_STRFUNC);
  if (prefix == NULL)
    prefix = "";

  full = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < ps->params->len; i++) {
    const MmdnnParam *p = g_ptr_array_index (ps->params, i);
    char *name = g_strconcat (prefix, p->name, NULL);
    g_ptr_array_add (full, name);
    if (writer_check (w, name, p->ndim, p->shape, p->value, error) < 0) {
      ok = FALSE;
      break;
    }
  }
  /* distinct parameter names stay distinct under one prefix */
  if (ok) {
    for (guint i = 0; i < ps->params->len; i++) {
      const MmdnnParam *p = g_ptr_array_index (ps->params, i);
      writer_push (w, g_ptr_array_index (full, i), p->ndim, p->shape,
                   p->numel, p->value);
    }
  }
  g_ptr_array_unref (full);
  return ok;
}

void
mmdnn_safetensors_writer_set_metadata (MmdnnSafetensorsWriter *w,
                                       const char *key, const char *value)
{
  g_return_if_fail (w != NULL && key != NULL && value != NULL);

  if (!g_hash_table_contains (w->meta, key)) {
    char *k = g_strdup (key);
    g_ptr_array_add (w->meta_keys, k);
    g_hash_table_insert (w->meta, k, g_strdup (value));
  } else {
    gpointer orig;
    g_hash_table_lookup_extended (w->meta, key, &orig, NULL);
    g_hash_table_insert (w->meta, orig, g_strdup (value));
  }
}

/* The JSON header, space-padded so that 8 + length is a multiple of 8. */
static char *
writer_header (MmdnnSafetensorsWriter *w, gsize *len, GError **error)
{
  JsonBuilder *b;
  JsonGenerator *gen;
  JsonNode *root;
  char *json, *padded;
  gsize jlen, plen;
  guint64 offset = 0;

  for (guint i = 0; i < w->meta_keys->len; i++) {
    const char *key = g_ptr_array_index (w->meta_keys, i);
    const char *value = g_hash_table_lookup (w->meta, key);
    MMDNN_CHECK (g_utf8_validate (key, -1, NULL), error, NULL,
                 "metadata key %u is not valid UTF-8", i);
    MMDNN_CHECK (g_utf8_validate (value, -1, NULL), error, NULL,
                 "metadata value of '%s' is not valid UTF-8", key);
  }

  b = json_builder_new ();
  json_builder_begin_object (b);
  if (w->meta_keys->len > 0) {
    json_builder_set_member_name (b, METADATA_KEY);
    json_builder_begin_object (b);
    for (guint i = 0; i < w->meta_keys->len; i++) {
      const char *key = g_ptr_array_index (w->meta_keys, i);
      json_builder_set_member_name (b, key);
      json_builder_add_string_value (b, g_hash_table_lookup (w->meta, key));
    }
    json_builder_end_object (b);
  }
  for (guint i = 0; i < w->entries->len; i++) {
    const WEntry *e = g_ptr_array_index (w->entries, i);
    json_builder_set_member_name (b, e->name);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "dtype");
    json_builder_add_string_value (b, "F32");
    json_builder_set_member_name (b, "shape");
    json_builder_begin_array (b);
    for (int d = 0; d < e->ndim; d++)
      json_builder_add_int_value (b, e->shape[d]);
    json_builder_end_array (b);
    json_builder_set_member_name (b, "data_offsets");
    json_builder_begin_array (b);
    json_builder_add_int_value (b, offset);
    offset += (guint64) e->numel * sizeof (float);  /* ≤ 2^42 each */
    json_builder_add_int_value (b, offset);
    json_builder_end_array (b);
    json_builder_end_object (b);
  }
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  gen = json_generator_new ();
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, FALSE);
  json = json_generator_to_data (gen, &jlen);
  json_node_unref (root);
  g_object_unref (gen);
  g_object_unref (b);

  plen = jlen + (8 - (8 + jlen) % 8) % 8;
  if (plen > (gsize) MMDNN_SAFETENSORS_MAX_HEADER) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                 "the header would be %" G_GSIZE_FORMAT " bytes, over the %"
                 G_GINT64_FORMAT " MiB limit", plen,
                 MMDNN_SAFETENSORS_MAX_HEADER >> 20);
    g_free (json);
    return NULL;
  }
  padded = g_malloc (plen);
  memcpy (padded, json, jlen);
  memset (padded + jlen, ' ', plen - jlen);
  g_free (json);
  *len = plen;
  return padded;
}

static gboolean
write_all (int fd, const void *buf, gsize len)
{
  const guint8 *p = buf;

  while (len > 0) {
    ssize_t n = write (fd, p, MIN (len, WRITE_CHUNK));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      if (n == 0)
        errno = EIO;
      return FALSE;
    }
    p += n;
    len -= n;
  }
  return TRUE;
}

gboolean
mmdnn_safetensors_writer_save (MmdnnSafetensorsWriter *w, const char *path,
                               GError **error)
{
  char *header, *tmp = NULL, *dir = NULL;
  gsize hlen = 0;
  guint64 n;
  int fd = -1, dfd;
  gboolean ok = FALSE;
  const char *step = NULL;
  int saved = 0;

  MMDNN_CHECK_NOT_NULL (w, error, FALSE);
  MMDNN_CHECK (path != NULL && path[0] != '\0', error, FALSE,
               "%s: path must be a non-empty string", G_STRFUNC);
  header = writer_header (w, &hlen, error);
  if (header == NULL) {
    g_prefix_error (error, "%s: ", path);
    return FALSE;
  }

  tmp = g_strconcat (path, ".tmp-XXXXXX", NULL);
  fd = g_mkstemp_full (tmp, O_RDWR | O_CLOEXEC, 0666);
  if (fd < 0) {
    saved = errno;
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_IO,
                 "%s: cannot create a temporary file next to it: %s", path,
                 g_strerror (saved));
    g_free (tmp);
    g_free (header);
    return FALSE;
  }

  n = GUINT64_TO_LE ((guint64) hlen);
  if (!write_all (fd, &n, sizeof n) || !write_all (fd, header, hlen)) {
    step = "write";
    goto out;
  }
  for (guint i = 0; i < w->entries->len; i++) {
    const WEntry *e = g_ptr_array_index (w->entries, i);
    if (e->numel > 0
        && !write_all (fd, e->data, (gsize) e->numel * sizeof (float))) {
      step = "write";
      goto out;
    }
  }
  if (fsync (fd) != 0) {
    step = "fsync";
    goto out;
  }
  if (close (fd) != 0) {
    fd = -1;
    step = "close";
    goto out;
  }
  fd = -1;
  if (rename (tmp, path) != 0) {
    step = "rename";
    goto out;
  }
  ok = TRUE;

  /* The rename is the commit: the new file is in place, so a failure to
   * make the directory entry durable is only worth a warning. */
  dir = g_path_get_dirname (path);
  dfd = g_open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (dfd < 0 || fsync (dfd) != 0)
    mmdnn_log (MMDNN_LOG_WARNING, "%s: cannot fsync directory %s: %s", path,
               dir, g_strerror (errno));
  if (dfd >= 0)
    close (dfd);

out:
  if (!ok) {
    saved = errno;
    if (fd >= 0)
      close (fd);
    g_unlink (tmp);
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_IO, "%s: %s failed: %s",
                 path, step, g_strerror (saved));
  }
  g_free (dir);
  g_free (tmp);
  g_free (header);
  return ok;
}
