/* mmdnn — the command-line tool: PNG plots with cairo (`mmdnn train
 * --plots`). Built only with the `plots` feature (HAVE_CAIRO).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <glib.h>

G_BEGIN_DECLS

/* One curve: n points (x[i], y[i]); a non-finite y is a gap. */
typedef struct {
  const char   *label;                  /* legend text */
  const double *x, *y;
  int64_t       n;
  gboolean      markers;                /* dots on the points (few points) */
  gboolean      dashed;
} PlotSeries;

/* A line chart of @n_series curves with title, axis labels and a legend,
 * written atomically (a temporary file renamed over @path). y_min < y_max
 * fixes the y range (e.g. 0..1 for accuracies), else it fits the data.
 * Errors name @path. */
gboolean plot_lines (const char *path, const char *title, const char *xlabel,
                     const char *ylabel, const PlotSeries *series,
                     int n_series, double y_min, double y_max,
                     GError **error);

/* A confusion matrix: counts[true * n + predicted], class names on both
 * axes, the count in every cell, shaded by the row's share. */
gboolean plot_confusion (const char *path, const char *title,
                         const char *const *names, int64_t n,
                         const int64_t *counts, GError **error);

G_END_DECLS
