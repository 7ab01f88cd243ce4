/* mmdnn — JSON output that reads back exactly.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <string.h>

#include <mmdnn/json.h>

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
