/* mmdnn — JSON output that reads back exactly.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <string.h>

#include <mmdnn/json.h>
#include "internal.h"

double
mmdnn_json_float (float v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!isfinite (v))
    return (double) v;
  for (int prec = 1; prec <= 9; prec++) {
    char fmt[8];
    double d;

    g_snprintf (fmt, sizeof fmt, "%%.%dg", prec);
    g_ascii_formatd (buf, sizeof buf, fmt, (double) v);
    d = g_ascii_strtod (buf, NULL);
    if ((float) d == v)
      return d;
  }
  return (double) v;      /* 9 digits always suffice for a float */
}

static void
append_double (GString *s, double d)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!isfinite (d)) {     /* JSON has no NaN or Inf */
    g_string_append (s, "null");
    return;
  }
  for (int prec = 1; prec <= 17; prec++) {
    char fmt[8];

    g_snprintf (fmt, sizeof fmt, "%%.%dg", prec);
    g_ascii_formatd (buf, sizeof buf, fmt, d);
    if (g_ascii_strtod (buf, NULL) == d)
      break;
  }
  g_string_append (s, buf);
  if (strpbrk (buf, ".eE") == NULL)
    g_string_append (s, ".0");
}

static void
append_string (GString *s, const char *str)
{
  g_string_append_c (s, '"');
  for (const unsigned char *p = (const unsigned char *) str; *p; p++) {
    if (*p == '"' || *p == '\\')
      g_string_append_printf (s, "\\%c", *p);
    else if (*p < 0x20)
      g_string_append_printf (s, "\\u%04x", *p);
    else
      g_string_append_c (s, (char) *p);
  }
  g_string_append_c (s, '"');
}

static gboolean
is_flat (JsonArray *a)
{
  for (guint i = 0; i < json_array_get_length (a); i++) {
    JsonNode *e = json_array_get_element (a, i);
    if (!JSON_NODE_HOLDS_VALUE (e) && !JSON_NODE_HOLDS_NULL (e))
      return FALSE;
  }
  return TRUE;
}

/* indent < 0: compact (one line, no spaces) */
static void
append_node (GString *s, JsonNode *n, int indent)
{
  gboolean compact = indent < 0;

  if (JSON_NODE_HOLDS_OBJECT (n)) {
    JsonObject *o = json_node_get_object (n);
    GList *members = json_object_get_members (o);

    g_string_append (s, members && !compact ? "{\n" : "{");
    for (GList *l = members; l; l = l->next) {
      if (!compact)
        g_string_append_printf (s, "%*s", indent + 2, "");
      append_string (s, l->data);
      g_string_append (s, compact ? ":" : ": ");
      append_node (s, json_object_get_member (o, l->data),
                   compact ? -1 : indent + 2);
      if (compact)
        g_string_append (s, l->next ? "," : "");
      else
        g_string_append (s, l->next ? ",\n" : "\n");
    }
    if (members && !compact)
      g_string_append_printf (s, "%*s", indent, "");
    g_string_append_c (s, '}');
    g_list_free (members);
  } else if (JSON_NODE_HOLDS_ARRAY (n)) {
    JsonArray *a = json_node_get_array (n);
    guint len = json_array_get_length (a);
    gboolean flat = compact || len == 0 || is_flat (a);

    g_string_append (s, flat ? "[" : "[\n");
    for (guint i = 0; i < len; i++) {
      if (!flat)
        g_string_append_printf (s, "%*s", indent + 2, "");
      append_node (s, json_array_get_element (a, i),
                   compact ? -1 : indent + 2);
      if (i + 1 < len)
        g_string_append (s, compact ? "," : flat ? ", " : ",\n");
      else if (!flat)
        g_string_append_printf (s, "\n%*s", indent, "");
    }
    g_string_append_c (s, ']');
  } else if (JSON_NODE_HOLDS_NULL (n)) {
    g_string_append (s, "null");
  } else {
    GType t = json_node_get_value_type (n);

    if (t == G_TYPE_INT64)
      g_string_append_printf (s, "%" G_GINT64_FORMAT, json_node_get_int (n));
    else if (t == G_TYPE_DOUBLE)
      append_double (s, json_node_get_double (n));
    else if (t == G_TYPE_BOOLEAN)
      g_string_append (s, json_node_get_boolean (n) ? "true" : "false");
    else
      append_string (s, json_node_get_string (n));
  }
}

char *
mmdnn_json_to_string (JsonNode *node)
{
  GString *s = g_string_new (NULL);

  g_return_val_if_fail (node != NULL, g_string_free (s, FALSE));
  append_node (s, node, 0);
  g_string_append_c (s, '\n');
  return g_string_free (s, FALSE);
}

char *
mmdnn_json_to_string_compact (JsonNode *node)
{
  GString *s = g_string_new (NULL);

  g_return_val_if_fail (node != NULL, g_string_free (s, FALSE));
  append_node (s, node, -1);
  return g_string_free (s, FALSE);
}

/* ---------------------------------------------------------------------------
 * Strict JSON syntax check (internal.h). json-glib (1.6) accepts a superset
 * of JSON and clamps out-of-range integers (2^64 reads as -1, -2^63-1 as
 * 2^63-1), and its parser recurses once per nesting level, so that a few
 * hundred kilobytes of "[" overflow the stack. This pass walks the bytes
 * once, without recursion, and lets json-glib see only RFC 8259 JSON whose
 * integers fit int64 and whose depth is bounded. UTF-8 was checked before.
 * ------------------------------------------------------------------------- */

typedef enum {
  J_VALUE, J_VALUE_OR_END, J_KEY, J_KEY_OR_END, J_COLON, J_COMMA_OR_END,
  J_DONE,
} JState;

static int
hex_value (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Reads 4 hex digits at s[*pos]; -1 if malformed. */
static int
read_hex4 (const char *s, gsize len, gsize *pos)
{
  int v = 0;

  if (len - *pos < 4)
    return -1;
  for (int i = 0; i < 4; i++) {
    int h = hex_value (s[*pos + i]);
    if (h < 0)
      return -1;
    v = v * 16 + h;
  }
  *pos += 4;
  return v;
}

/* s[*pos] is the opening quote; leaves *pos after the closing one. */
static gboolean
json_check_string (const char *s, gsize len, gsize *pos,
                   const char *what, GError **error)
{
  gsize start = *pos;
  gsize i = start + 1;

  while (i < len) {
    guchar c = s[i];
    if (c == '"') {
      *pos = i + 1;
      return TRUE;
    }
    if (c < 0x20) {
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                   "%s byte %" G_GSIZE_FORMAT ": control character "
                   "0x%02x in a JSON string", what, i, c);
      return FALSE;
    }
    if (c != '\\') {
      i++;
      continue;
    }
    if (++i >= len)
      break;
    if (strchr ("\"\\/bfnrt", s[i]) != NULL && s[i] != '\0') {
      i++;
      continue;
    }
    if (s[i] == 'u') {
      int cp;
      i++;
      cp = read_hex4 (s, len, &i);
      if (cp == 0) {
        g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                     "%s byte %" G_GSIZE_FORMAT ": \\u0000 is not "
                     "allowed in a JSON string", what, i - 6);
        return FALSE;
      }
      if (cp >= 0xd800 && cp <= 0xdbff) {
        int lo = -1;
        if (len - i >= 2 && s[i] == '\\' && s[i + 1] == 'u') {
          i += 2;
          lo = read_hex4 (s, len, &i);
        }
        if (lo < 0xdc00 || lo > 0xdfff)
          cp = -2;
      } else if (cp >= 0xdc00 && cp <= 0xdfff) {
        cp = -2;
      }
      if (cp == -2) {
        g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                     "%s byte %" G_GSIZE_FORMAT ": unpaired UTF-16 "
                     "surrogate in a JSON string", what, i);
        return FALSE;
      }
      if (cp >= 0)
        continue;
    }
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "%s byte %" G_GSIZE_FORMAT ": bad escape in a JSON "
                 "string", what, i);
    return FALSE;
  }
  g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
               "%s byte %" G_GSIZE_FORMAT ": unterminated JSON string",
               what, start);
  return FALSE;
}

/* s[*pos] is '-' or a digit. Integers (no fraction, no exponent) must fit
 * int64: json-glib would clamp them without telling. */
static gboolean
json_check_number (const char *s, gsize len, gsize *pos,
                   const char *what, GError **error)
{
  gsize i = *pos;
  gboolean neg = FALSE, integral = TRUE, overflow = FALSE;
  guint64 mag = 0;

  if (s[i] == '-') {
    neg = TRUE;
    i++;
  }
  if (i >= len || !g_ascii_isdigit (s[i]))
    goto bad;
  if (s[i] == '0') {
    i++;
  } else {
    while (i < len && g_ascii_isdigit (s[i])) {
      guint d = s[i] - '0';
      if (mag > (G_MAXUINT64 - d) / 10)
        overflow = TRUE;
      else
        mag = mag * 10 + d;
      i++;
    }
  }
  if (i < len && s[i] == '.') {
    integral = FALSE;
    i++;
    if (i >= len || !g_ascii_isdigit (s[i]))
      goto bad;
    while (i < len && g_ascii_isdigit (s[i]))
      i++;
  }
  if (i < len && (s[i] == 'e' || s[i] == 'E')) {
    integral = FALSE;
    i++;
    if (i < len && (s[i] == '+' || s[i] == '-'))
      i++;
    if (i >= len || !g_ascii_isdigit (s[i]))
      goto bad;
    while (i < len && g_ascii_isdigit (s[i]))
      i++;
  }
  if (integral && (overflow || mag > (guint64) G_MAXINT64 + (neg ? 1 : 0))) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "%s byte %" G_GSIZE_FORMAT ": integer out of the "
                 "64-bit range", what, *pos);
    return FALSE;
  }
  *pos = i;
  return TRUE;

bad:
  g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
               "%s byte %" G_GSIZE_FORMAT ": malformed JSON number", what,
               *pos);
  return FALSE;
}

gboolean
mmdnn_json_check_strict (const char *s, gsize len, const char *what,
                         gboolean object_root, GError **error)
{
  char stack[MMDNN_JSON_MAX_DEPTH];
  int depth = 0;
  JState state = J_VALUE;
  gsize i = 0;

  while (TRUE) {
    char c;
    gboolean value_done = FALSE;

    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n'
                       || s[i] == '\r'))
      i++;
    if (i >= len)
      break;
    c = s[i];

    switch (state) {
      case J_DONE:
        g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                     "%s byte %" G_GSIZE_FORMAT ": data after the JSON %s "
                     "(only space padding may follow)", what, i,
                     object_root ? "object" : "value");
        return FALSE;

      case J_VALUE_OR_END:
        if (c == ']') {
          depth--;
          i++;
          value_done = TRUE;
          break;
        }
        /* fall through */
      case J_VALUE:
        if (depth == 0 && object_root && c != '{') {
          g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                       "%s is not a JSON object", what);
          return FALSE;
        }
        if (c == '{' || c == '[') {
          if (depth >= MMDNN_JSON_MAX_DEPTH) {
            g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                         "%s byte %" G_GSIZE_FORMAT ": JSON nested deeper "
                         "than %d levels", what, i, MMDNN_JSON_MAX_DEPTH);
            return FALSE;
          }
          stack[depth++] = c;
          state = c == '{' ? J_KEY_OR_END : J_VALUE_OR_END;
          i++;
        } else if (c == '"') {
          if (!json_check_string (s, len, &i, what, error))
            return FALSE;
          value_done = TRUE;
        } else if (c == '-' || g_ascii_isdigit (c)) {
          if (!json_check_number (s, len, &i, what, error))
            return FALSE;
          value_done = TRUE;
        } else if (len - i >= 4 && memcmp (s + i, "true", 4) == 0) {
          i += 4;
          value_done = TRUE;
        } else if (len - i >= 5 && memcmp (s + i, "false", 5) == 0) {
          i += 5;
          value_done = TRUE;
        } else if (len - i >= 4 && memcmp (s + i, "null", 4) == 0) {
          i += 4;
          value_done = TRUE;
        } else {
          g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                       "%s byte %" G_GSIZE_FORMAT ": expected a JSON "
                       "value", what, i);
          return FALSE;
        }
        break;

      case J_KEY_OR_END:
        if (c == '}') {
          depth--;
          i++;
          value_done = TRUE;
          break;
        }
        /* fall through */
      case J_KEY:
        if (c != '"') {
          g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                       "%s byte %" G_GSIZE_FORMAT ": expected a quoted "
                       "member name", what, i);
          return FALSE;
        }
        if (!json_check_string (s, len, &i, what, error))
          return FALSE;
        state = J_COLON;
        break;

      case J_COLON:
        if (c != ':') {
          g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                       "%s byte %" G_GSIZE_FORMAT ": expected ':'", what, i);
          return FALSE;
        }
        i++;
        state = J_VALUE;
        break;

      case J_COMMA_OR_END:
        if (c == ',') {
          state = stack[depth - 1] == '{' ? J_KEY : J_VALUE;
          i++;
        } else if (c == (stack[depth - 1] == '{' ? '}' : ']')) {
          depth--;
          i++;
          value_done = TRUE;
        } else {
          g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                       "%s byte %" G_GSIZE_FORMAT ": expected ',' or '%c'",
                       what, i, stack[depth - 1] == '{' ? '}' : ']');
          return FALSE;
        }
        break;
    }
    if (value_done)
      state = depth == 0 ? J_DONE : J_COMMA_OR_END;
  }
  if (state != J_DONE) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "%s ends inside the JSON %s", what,
                 object_root ? "object" : "value");
    return FALSE;
  }
  return TRUE;
}
