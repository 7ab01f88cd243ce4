/* mmdnn — JSON output that reads back exactly.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-glib/json-glib.h>
#include <mmdnn/error.h>

G_BEGIN_DECLS

/* (transfer full): @node as pretty JSON (two-space indent, arrays of
 * scalars on one line, a trailing newline). json-glib 1.6's generator
 * writes 1e-08 as "1e-08.0" (not JSON) and 0.1 as 0.10000000000000001;
 * here a double is the shortest decimal that reads back to the same double
 * (".0" added to whole numbers), NaN and ±Inf are null. */
MMDNN_API char  *mmdnn_json_to_string (JsonNode *node);

/* (transfer full): @node as compact JSON on one line: no spaces, no
 * newline (none inside: control characters in strings are escaped), numbers
 * written as by mmdnn_json_to_string. For one-line records: bus messages,
 * logs, JSON Lines. */
MMDNN_API char  *mmdnn_json_to_string_compact (JsonNode *node);

/* The double of @v's shortest decimal: 0.1f gives 0.1, not
 * 0.10000000149011612, so a float field prints as a person would write it
 * and still reads back (cast to float) to exactly @v. */
MMDNN_API double mmdnn_json_float (float v);

G_END_DECLS
