/* mmdnn — the command-line tool: PNG plots with cairo.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Deliberately small: a line chart (loss, accuracy) and a confusion
 * matrix, both with a title, labelled axes and, for lines, a legend. Fonts
 * come from cairo's "toy" text API (sans-serif through fontconfig). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include <cairo.h>

#include <mmdnn/error.h>

#include "plot.h"

#define W 800
#define H 520
#define ML 80      /* margins: room for tick labels and axis titles */
#define MR 24
#define MT 48
#define MB 64

/* colour-blind-safe (Okabe–Ito) */
static const double palette[][3] = {
  { 0.00, 0.45, 0.70 }, { 0.90, 0.62, 0.00 }, { 0.00, 0.62, 0.45 },
  { 0.80, 0.40, 0.00 }, { 0.34, 0.71, 0.91 }, { 0.80, 0.47, 0.65 },
  { 0.94, 0.89, 0.26 }, { 0.00, 0.00, 0.00 },
};

static void
text_at (cairo_t *cr, double x, double y, const char *s, double ax, double ay)
{
  cairo_text_extents_t e;

  cairo_text_extents (cr, s, &e);
  cairo_move_to (cr, x - e.x_bearing - ax * e.width,
                 y - e.y_bearing - ay * e.height);
  cairo_show_text (cr, s);
}

static void
start (cairo_surface_t **surf, cairo_t **cr, int w, int h, const char *title)
{
  *surf = cairo_image_surface_create (CAIRO_FORMAT_RGB24, w, h);
  *cr = cairo_create (*surf);
  cairo_set_source_rgb (*cr, 1, 1, 1);
  cairo_paint (*cr);
  cairo_select_font_face (*cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                          CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size (*cr, 16);
  cairo_set_source_rgb (*cr, 0, 0, 0);
  text_at (*cr, w / 2.0, 14, title, 0.5, 0);
  cairo_select_font_face (*cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                          CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (*cr, 12);
}

/* Writes @surf to @path through a temporary file renamed over it. */
static gboolean
finish (cairo_surface_t *surf, cairo_t *cr, const char *path, GError **error)
{
  char *tmp = g_strdup_printf ("%s.tmp-%d", path, (int) getpid ());
  cairo_status_t st;
  gboolean ok = TRUE;

  cairo_destroy (cr);
  cairo_surface_flush (surf);
  st = cairo_surface_status (surf);
  if (st == CAIRO_STATUS_SUCCESS)
    st = cairo_surface_write_to_png (surf, tmp);
  cairo_surface_destroy (surf);
  if (st != CAIRO_STATUS_SUCCESS) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_IO, "%s: cannot write the "
                 "plot: %s", path, cairo_status_to_string (st));
    ok = FALSE;
  } else if (g_rename (tmp, path) != 0) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_IO, "%s: cannot write the "
                 "plot: %s", path, g_strerror (errno));
    ok = FALSE;
  }
  if (!ok)
    g_unlink (tmp);
  g_free (tmp);
  return ok;
}

/* A "nice" tick step (1, 2, 5 × 10^k) for about @target ticks over @span. */
static double
nice_step (double span, int target)
{
  double raw = span / target, mag = pow (10, floor (log10 (raw)));
  double f = raw / mag;

  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

gboolean
plot_lines (const char *path, const char *title, const char *xlabel,
            const char *ylabel, const PlotSeries *series, int n_series,
            double y_min, double y_max, GError **error)
{
  cairo_surface_t *surf;
  cairo_t *cr;
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  double pw = W - ML - MR, ph = H - MT - MB, step, legend_y;
  char buf[64];

  for (int s = 0; s < n_series; s++)
    for (int64_t i = 0; i < series[s].n; i++) {
      if (!isfinite (series[s].x[i]) || !isfinite (series[s].y[i]))
        continue;
      x0 = MIN (x0, series[s].x[i]);
      x1 = MAX (x1, series[s].x[i]);
      y0 = MIN (y0, series[s].y[i]);
      y1 = MAX (y1, series[s].y[i]);
    }
  if (!isfinite (x0)) {           /* no data at all: an empty frame */
    x0 = 0;
    x1 = 1;
    y0 = 0;
    y1 = 1;
  }
  if (y_min < y_max) {
    y0 = y_min;
    y1 = y_max;
  } else {
    double pad = (y1 - y0) * 0.05;
    y0 -= pad;
    y1 += pad;
  }
  if (x1 - x0 < 1e-12)
    x1 = x0 + 1;
  if (y1 - y0 < 1e-12) {
    y0 -= 0.5;
    y1 += 0.5;
  }
#define PX(v) (ML + ((v) - x0) / (x1 - x0) * pw)
#define PY(v) (MT + ph - ((v) - y0) / (y1 - y0) * ph)

  start (&surf, &cr, W, H, title);

  /* grid and ticks */
  cairo_set_line_width (cr, 1);
  step = nice_step (y1 - y0, 6);
  for (double v = ceil (y0 / step) * step; v <= y1 + step * 1e-9; v += step) {
    cairo_set_source_rgb (cr, 0.9, 0.9, 0.9);
    cairo_move_to (cr, ML, floor (PY (v)) + 0.5);
    cairo_line_to (cr, ML + pw, floor (PY (v)) + 0.5);
    cairo_stroke (cr);
    cairo_set_source_rgb (cr, 0, 0, 0);
    g_snprintf (buf, sizeof buf, "%g", fabs (v) < step * 1e-6 ? 0.0 : v);
    text_at (cr, ML - 6, PY (v), buf, 1, 0.5);
  }
  step = nice_step (x1 - x0, 8);
  if (step < 1)
    step = 1;                     /* steps and epochs are integers */
  for (double v = ceil (x0 / step) * step; v <= x1 + step * 1e-9; v += step) {
    cairo_set_source_rgb (cr, 0.9, 0.9, 0.9);
    cairo_move_to (cr, floor (PX (v)) + 0.5, MT);
    cairo_line_to (cr, floor (PX (v)) + 0.5, MT + ph);
    cairo_stroke (cr);
    cairo_set_source_rgb (cr, 0, 0, 0);
    g_snprintf (buf, sizeof buf, "%g", v);
    text_at (cr, PX (v), MT + ph + 6, buf, 0.5, 0);
  }
  cairo_set_source_rgb (cr, 0, 0, 0);
  cairo_rectangle (cr, ML + 0.5, MT + 0.5, pw, ph);
  cairo_stroke (cr);

  /* axis titles */
  cairo_set_font_size (cr, 14);
  text_at (cr, ML + pw / 2, H - 22, xlabel, 0.5, 0);
  cairo_save (cr);
  cairo_translate (cr, 18, MT + ph / 2);
  cairo_rotate (cr, -G_PI / 2);
  text_at (cr, 0, 0, ylabel, 0.5, 0.5);
  cairo_restore (cr);
  cairo_set_font_size (cr, 12);

  /* curves, clipped to the plot area */
  cairo_save (cr);
  cairo_rectangle (cr, ML, MT, pw, ph);
  cairo_clip (cr);
  for (int s = 0; s < n_series; s++) {
    const double *c = palette[s % G_N_ELEMENTS (palette)];
    gboolean pen = FALSE;
    double dash = 6;

    cairo_set_source_rgb (cr, c[0], c[1], c[2]);
    cairo_set_line_width (cr, 2);
    cairo_set_dash (cr, &dash, series[s].dashed ? 1 : 0, 0);
    for (int64_t i = 0; i < series[s].n; i++) {
      if (!isfinite (series[s].y[i])) {
        pen = FALSE;
        continue;
      }
      if (pen)
        cairo_line_to (cr, PX (series[s].x[i]), PY (series[s].y[i]));
      else
        cairo_move_to (cr, PX (series[s].x[i]), PY (series[s].y[i]));
      pen = TRUE;
    }
    cairo_stroke (cr);
    cairo_set_dash (cr, NULL, 0, 0);
    if (series[s].markers)
      for (int64_t i = 0; i < series[s].n; i++) {
        if (!isfinite (series[s].y[i]))
          continue;
        cairo_arc (cr, PX (series[s].x[i]), PY (series[s].y[i]), 3.5, 0,
                   2 * G_PI);
        cairo_fill (cr);
      }
  }
  cairo_restore (cr);

  /* legend, top right inside the plot, on a white box */
  if (n_series > 0) {
    double lw = 0, lx;
    for (int s = 0; s < n_series; s++) {
      cairo_text_extents_t e;
      cairo_text_extents (cr, series[s].label, &e);
      lw = MAX (lw, e.x_advance);
    }
    lw += 44;
    lx = ML + pw - lw - 8;
    cairo_set_source_rgba (cr, 1, 1, 1, 0.85);
    cairo_rectangle (cr, lx, MT + 8, lw, 18.0 * n_series + 8);
    cairo_fill_preserve (cr);
    cairo_set_source_rgb (cr, 0.6, 0.6, 0.6);
    cairo_set_line_width (cr, 1);
    cairo_stroke (cr);
    legend_y = MT + 20;
    for (int s = 0; s < n_series; s++) {
      const double *c = palette[s % G_N_ELEMENTS (palette)];
      double dash = 6;
      cairo_set_source_rgb (cr, c[0], c[1], c[2]);
      cairo_set_line_width (cr, 2);
      cairo_set_dash (cr, &dash, series[s].dashed ? 1 : 0, 0);
      cairo_move_to (cr, lx + 6, legend_y);
      cairo_line_to (cr, lx + 32, legend_y);
      cairo_stroke (cr);
      cairo_set_dash (cr, NULL, 0, 0);
      cairo_set_source_rgb (cr, 0, 0, 0);
      text_at (cr, lx + 38, legend_y, series[s].label, 0, 0.5);
      legend_y += 18;
    }
  }
#undef PX
#undef PY
  return finish (surf, cr, path, error);
}

gboolean
plot_confusion (const char *path, const char *title,
                const char *const *names, int64_t n, const int64_t *counts,
                GError **error)
{
  cairo_surface_t *surf;
  cairo_t *cr;
  double label_w = 0, cell, left, top;
  int w, h;
  char buf[32];

  /* measure the names once on a scratch surface to size the margins */
  {
    cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 1, 1);
    cairo_t *c = cairo_create (s);
    cairo_select_font_face (c, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                            CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size (c, 12);
    for (int64_t i = 0; i < n; i++) {
      cairo_text_extents_t e;
      cairo_text_extents (c, names[i], &e);
      label_w = MAX (label_w, e.x_advance);
    }
    cairo_destroy (c);
    cairo_surface_destroy (s);
  }
  label_w = MIN (label_w, 240);
  cell = n <= 12 ? 48 : n <= 40 ? 24 : 12;
  left = 40 + label_w + 10;
  top = 48;
  w = (int) (left + cell * n + 24);
  h = (int) (top + cell * n + label_w + 56);
  w = MAX (w, 360);

  start (&surf, &cr, w, h, title);
  for (int64_t t = 0; t < n; t++) {
    int64_t row = 0;
    for (int64_t p = 0; p < n; p++)
      row += counts[t * n + p];
    for (int64_t p = 0; p < n; p++) {
      int64_t v = counts[t * n + p];
      double share = row > 0 ? (double) v / row : 0;
      double x = left + p * cell, y = top + t * cell;

      /* white → blue by the share of the true class's samples */
      cairo_set_source_rgb (cr, 1 - 0.8 * share, 1 - 0.6 * share,
                            1 - 0.2 * share);
      cairo_rectangle (cr, x, y, cell, cell);
      cairo_fill (cr);
      cairo_set_source_rgb (cr, 0.8, 0.8, 0.8);
      cairo_set_line_width (cr, 1);
      cairo_rectangle (cr, x + 0.5, y + 0.5, cell - 1, cell - 1);
      cairo_stroke (cr);
      if (cell >= 24) {
        g_snprintf (buf, sizeof buf, "%" G_GINT64_FORMAT, v);
        if (share > 0.55)
          cairo_set_source_rgb (cr, 1, 1, 1);
        else
          cairo_set_source_rgb (cr, 0, 0, 0);
        text_at (cr, x + cell / 2, y + cell / 2, buf, 0.5, 0.5);
      }
    }
  }
  cairo_set_source_rgb (cr, 0, 0, 0);
  for (int64_t i = 0; i < n; i++) {
    text_at (cr, left - 6, top + i * cell + cell / 2, names[i], 1, 0.5);
    cairo_save (cr);
    cairo_translate (cr, left + i * cell + cell / 2, top + n * cell + 6);
    cairo_rotate (cr, -G_PI / 2);
    text_at (cr, 0, 0, names[i], 1, 0.5);
    cairo_restore (cr);
  }
  cairo_set_font_size (cr, 14);
  text_at (cr, left + n * cell / 2, h - 20, "predicted class", 0.5, 0);
  cairo_save (cr);
  cairo_translate (cr, 16, top + n * cell / 2);
  cairo_rotate (cr, -G_PI / 2);
  text_at (cr, 0, 0, "true class", 0.5, 0.5);
  cairo_restore (cr);
  return finish (surf, cr, path, error);
}
