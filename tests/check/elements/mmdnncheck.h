/* mmdnn — helpers shared by the element tests (a static library linked
 * whole into every tests/check/elements test).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * They assert with fail_unless, so call them from a test or an unchecked
 * fixture, not from main (). */
#pragma once

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <mmdnn/mmdnn.h>

G_BEGIN_DECLS

/* ------------------------------------------------------------- timeouts */

/* @seconds of waiting for something that must come (a message, EOS),
 * times check's CK_TIMEOUT_MULTIPLIER, as check scales its per-test limit:
 * under valgrind (meson test --setup valgrind) a pipeline runs 20–50×
 * slower, and a bound that only guards against a hang must grow with it. */
GstClockTime mmdnn_check_timeout (guint seconds);

/* ---------------------------------------------------------------- models */

/* $MMDNN_DEFAULT_MODEL (the build tree's default model), which must exist. */
const gchar *mmdnn_check_default_model_path (void);

/* (transfer full): the model in @path, loaded with the core. */
MmdnnModel *mmdnn_check_load_model (const gchar *path);

/* Loading the 6.5 MB default model is most of a test's time. As an
 * unchecked fixture (run once in the parent process, before the tests
 * fork) this loads it both into the plugin's registry, so the elements of
 * every test share it instead of reloading it, and as an independent copy
 * for the reference the core is called with. The elements still load every
 * other model file themselves. */
void mmdnn_check_default_model_setup (void);
void mmdnn_check_default_model_teardown (void);
/* The reference copy; valid between setup and teardown. */
const MmdnnModel *mmdnn_check_default_model (void);

/* (transfer full): the path of a model made from @json with @seed and
 * saved with the core as @dir/@name. */
gchar *mmdnn_check_write_model (const gchar *dir, const gchar *name,
    const gchar *json, guint64 seed);

/* (transfer full): the path of a small but complete model with all three
 * modalities' settings (grey 16×16 video: 2×2 = 4 tokens; audio 16 mels ×
 * 16 frames; text 4 tokens of 3 ids; D = 8), saved as @dir/@name, where
 * @modalities (a JSON list) says which encoders it has. */
gchar *mmdnn_check_write_tiny_model (const gchar *dir, const gchar *name,
    const gchar *model_id, const gchar *modalities, guint64 seed);

/* ----------------------------------------------------------------- files */

/* (transfer full): a new temporary folder, @tmpl as for g_dir_make_tmp. */
gchar *mmdnn_check_make_tmp_dir (const gchar *tmpl);
/* Removes the files in @dir, then @dir, and frees @dir. */
void mmdnn_check_remove_tmp_dir (gchar *dir);
void mmdnn_check_write_file (const gchar *path, const void *data, gsize size);

/* -------------------------------------------------------------- elements */

/* A new (floating) @factory element, with `model` set unless @model is
 * NULL. */
GstElement *mmdnn_check_make_element (const gchar *factory,
    const gchar *model);
/* A harness around mmdnn_check_make_element (), with @caps (may be NULL)
 * as its source caps. */
GstHarness *mmdnn_check_harness_new (const gchar *factory,
    const gchar *model, const gchar *caps);
/* Whether @e's sink pad accepts @caps_str (an accept-caps query). */
gboolean mmdnn_check_accepts (GstElement *e, const gchar *caps_str);
/* NULL → PLAYING → NULL @n times, each change succeeding. */
void mmdnn_check_state_cycles (GstElement *e, guint n);
/* READY → PLAYING (gst_harness_play) @n times, each change succeeding. */
void mmdnn_check_ready_cycles (GstHarness *h, guint n);
/* Back to READY, `model` set to @model (may be NULL), and playing again:
 * the next start loads the new model. */
void mmdnn_check_restart_with_model (GstHarness *h, const gchar *model);
/* The caps on @h's sink pad are the features caps of @model_id, @tokens
 * tokens of @dim floats. */
void mmdnn_check_features_caps (GstHarness *h, const gchar *model_id,
    gint tokens, gint dim);
/* Runs @pipeline to EOS (30 s at most); FALSE on an error message. */
gboolean mmdnn_check_run_to_eos (GstElement *pipeline);
/* The element's sink pad must refuse a caps event with @caps; the harness
 * then sends it anyway (it sticks to the harness's source pad, as a
 * misbehaving upstream would). */
void mmdnn_check_refuse_caps_event (GstHarness *h, GstCaps *caps);
/* Pushes a TIME segment and @buf, which must come back NOT_NEGOTIATED with
 * nothing pushed downstream. */
void mmdnn_check_push_not_negotiated (GstHarness *h, GstBuffer *buf);
/* Drains the events that reached @h's sink pad; how many were @type. */
guint mmdnn_check_count_events (GstHarness *h, GstEventType type);

/* @out holds exactly the @n_bytes of @ref, and they are real, varied
 * numbers (not trivially equal). */
void mmdnn_check_assert_features_equal (GstBuffer *out, const float *ref,
    gsize n_bytes);

/* ------------------------------------------------------------------- bus */

/* A new bus set on @e, for its warnings and errors; and back. */
GstBus *mmdnn_check_attach_bus (GstElement *e);
void mmdnn_check_detach_bus (GstElement *e, GstBus *bus);

/* Pops the first message of @type (ERROR or WARNING) from @bus and checks
 * its GError's domain and code, and its text unless @text is NULL. */
void mmdnn_check_expect_message (GstBus *bus, GstMessageType type,
    GQuark domain, gint code, const gchar *text);

/* Starts a new @factory element with @model (READY → PAUSED), which must
 * fail with exactly one error message, posted by the element, which then
 * goes back to NULL; returns that message's GError (transfer full). */
GError *mmdnn_check_start_error (const gchar *factory, const gchar *model);
/* The same, checking the error's @domain and @code. */
void mmdnn_check_expect_start_failure (const gchar *factory,
    const gchar *model, GQuark domain, gint code);

/* mmdnn_check_expect_start_failure () with a model file holding @size
 * bytes of @data (written into a new temporary folder, removed after). */
void mmdnn_check_expect_bad_model_file (const gchar *factory,
    const void *data, gsize size, GQuark domain, gint code);
/* (transfer full): the bytes of the default model file, *@size of them. */
gchar *mmdnn_check_read_default_model (gsize *size);
/* A tiny model (mmdnn_check_write_tiny_model) with only the encoders in
 * @modalities, which lacks @factory's: its start must fail with
 * GST_STREAM_ERROR_WRONG_TYPE. */
void mmdnn_check_expect_model_without_encoder (const gchar *factory,
    const gchar *modalities, guint64 seed);

/* `model` keeps its value (unset) when set while @h's element plays. */
void mmdnn_check_model_unchanged_in_playing (GstHarness *h);

G_END_DECLS
