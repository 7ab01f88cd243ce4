/* mmdnn — `mmdnn info MODEL [--json]`: what a model or checkpoint file is.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The file is loaded with mmdnn_model_load (), i.e. checked completely
 * (config, every tensor's name, shape and finiteness), so `mmdnn info` is
 * also the way to validate a file before shipping it. Everything printed
 * comes from the loaded model: the config it carries and the parameter set
 * that config declares. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <glib/gstdio.h>

#include <json-glib/json-glib.h>

#include <mmdnn/json.h>
#include <mmdnn/model.h>
#include <mmdnn/safetensors.h>

#include "cli.h"

/* Top-level parameter prefixes, in declaration order; "head.<task>" counts
 * as "heads". A prefix the model might grow later lands in "other", which
 * is printed only when non-empty. */
static const char *const groups[] = {
  "video", "audio", "text", "fusion", "heads", "aux", "disc", "other",
};
#define N_GROUPS G_N_ELEMENTS (groups)
#define OTHER (N_GROUPS - 1)

typedef struct {
  const char       *path;
  MmdnnModel       *model;
  gint64            format_version;
  gboolean          checkpoint;
  gint64            step;           /* checkpoints only */
  gint64            file_bytes;
  int64_t           total, tensors;
  int64_t           group[N_GROUPS];
} Info;

static guint
group_of (const char *name)
{
  size_t len = strcspn (name, ".");

  if (len == 4 && strncmp (name, "head", 4) == 0)
    return 4;
  for (guint g = 0; g < OTHER; g++)
    if (strlen (groups[g]) == len && strncmp (name, groups[g], len) == 0)
      return g;
  return OTHER;
}

static void
count_params (Info *in)
{
  const MmdnnParamSet *ps = in->model->params;

  for (guint i = 0; i < ps->params->len; i++) {
    const MmdnnParam *p = g_ptr_array_index (ps->params, i);

    /* numel, not the slab: the slab pads every tensor for alignment */
    in->group[group_of (p->name)] += p->numel;
    in->total += p->numel;
    in->tensors++;
  }
}

/* What the load itself does not keep: the file's format version and
 * whether it is a checkpoint (and of which step). */
static gboolean
read_metadata (Info *in, GError **error)
{
  MmdnnSafetensors *st = mmdnn_safetensors_open (in->path, error);
  const char *s;
  GStatBuf sb;

  if (st == NULL)
    return FALSE;
  s = mmdnn_safetensors_get_metadata (st, "mmdnn.format_version");
  if (s == NULL || !g_ascii_string_to_signed (s, 10, 1, G_MAXINT64,
                                              &in->format_version, NULL))
    in->format_version = MMDNN_MODEL_FORMAT_VERSION;   /* load checked it */
  s = mmdnn_safetensors_get_metadata (st, "mmdnn.step");
  in->checkpoint = s != NULL;
  if (s == NULL || !g_ascii_string_to_signed (s, 10, 0, G_MAXINT64,
                                              &in->step, NULL))
    in->step = 0;
  mmdnn_safetensors_close (st);
  in->file_bytes = g_stat (in->path, &sb) == 0 ? (gint64) sb.st_size : -1;
  return TRUE;
}

static int64_t
encoder_tokens (const MmdnnModelConfig *c, int m)
{
  if (m == MMDNN_MODALITY_TEXT)
    return c->text.max_tokens;
  return m == MMDNN_MODALITY_VIDEO ? c->video.grid_h * c->video.grid_w
                                   : c->audio.grid_h * c->audio.grid_w;
}

/* ---- text --------------------------------------------------------------- */

#define LABEL_WIDTH 18

/* "  label           value": @depth levels of two-space indent, the values
 * of every level in one column. */
static void
row (int depth, const char *label, const char *format, ...)
  G_GNUC_PRINTF (3, 4);

static void
row (int depth, const char *label, const char *format, ...)
{
  va_list ap;
  char *value;
  int pad = LABEL_WIDTH - 2 * depth - (int) g_utf8_strlen (label, -1);

  va_start (ap, format);
  value = g_strdup_vprintf (format, ap);
  va_end (ap);
  printf ("%*s%s%*s%s\n", 2 * depth, "", label, MAX (pad, 1), "", value);
  g_free (value);
}

/* "name" with '"' and '\' escaped: class names may hold commas, so a bare
 * comma-separated list would be ambiguous */
static void
append_quoted (GString *s, const char *name)
{
  g_string_append_c (s, '"');
  for (const char *p = name; *p; p++) {
    if (*p == '"' || *p == '\\')
      g_string_append_c (s, '\\');
    g_string_append_c (s, *p);
  }
  g_string_append_c (s, '"');
}

/* The class names, quoted, wrapped at 79 columns under the value column. */
static void
print_classes (const MmdnnTask *t)
{
  GString *line = g_string_new (NULL);

  for (int64_t k = 0; k < t->n_classes; k++) {
    GString *item = g_string_new (NULL);

    append_quoted (item, t->classes[k]);
    if (k + 1 < t->n_classes)
      g_string_append_c (item, ',');
    if (line->len > 0 && LABEL_WIDTH + 2 + g_utf8_strlen (line->str, -1) + 1
        + g_utf8_strlen (item->str, -1) > 79) {
      printf ("%*s%s\n", LABEL_WIDTH + 2, "", line->str);
      g_string_truncate (line, 0);
    }
    if (line->len > 0)
      g_string_append_c (line, ' ');
    g_string_append (line, item->str);
    g_string_free (item, TRUE);
  }
  if (line->len > 0)
    printf ("%*s%s\n", LABEL_WIDTH + 2, "", line->str);
  g_string_free (line, TRUE);
}

static char *
human_count (int64_t n)
{
  if (n >= 1000000)
    return g_strdup_printf ("%.2f M", n / 1e6);
  if (n >= 1000)
    return g_strdup_printf ("%.1f k", n / 1e3);
  return g_strdup_printf ("%" G_GINT64_FORMAT, n);
}

static char *
branches_image (const MmdnnImageEncoderConfig *e)
{
  GString *s = g_string_new (NULL);

  if (e->use_ae)
    g_string_append_printf (s, "AE %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT
                            " latent %" G_GINT64_FORMAT, e->ae_width,
                            2 * e->ae_width, e->ae_latent);
  if (e->use_ms)
    g_string_append_printf (s, "%sMS 3x%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT
                            "/%" G_GINT64_FORMAT, s->len ? ", " : "",
                            e->ms_width, e->ms_width2, e->ms_width3);
  if (e->use_sal)
    g_string_append_printf (s, "%sSAL %" G_GINT64_FORMAT, s->len ? ", " : "",
                            e->sal_width);
  return g_string_free (s, FALSE);
}

static char *
branches_text (const MmdnnTextEncoderConfig *e)
{
  GString *s = g_string_new (NULL);

  if (e->use_ae)
    g_string_append_printf (s, "AE latent %" G_GINT64_FORMAT, e->ae_latent);
  if (e->use_ms)
    g_string_append_printf (s, "%sMS 3x%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT,
                            s->len ? ", " : "", e->ms_width, e->ms_width2);
  if (e->use_sal)
    g_string_append_printf (s, "%sSAL %" G_GINT64_FORMAT, s->len ? ", " : "",
                            e->sal_width);
  return g_string_free (s, FALSE);
}

static void
print_text (const Info *in)
{
  const MmdnnModelConfig *c = in->model->config;
  GString *mods = g_string_new (NULL);
  char *h, *b;

  row (0, "File", "%s", in->path);
  row (0, "Model id", "%s", c->model_id);
  if (in->checkpoint)
    row (0, "Format", "mmdnn checkpoint, version %" G_GINT64_FORMAT
         ", step %" G_GINT64_FORMAT, in->format_version, in->step);
  else
    row (0, "Format", "mmdnn model, version %" G_GINT64_FORMAT,
         in->format_version);
  for (int m = 0; m < MMDNN_N_MODALITIES; m++)
    if (c->has[m])
      g_string_append_printf (mods, "%s%s", mods->len ? ", " : "",
                              mmdnn_modality_name (m));
  row (0, "Modalities", "%s", mods->str);
  g_string_free (mods, TRUE);

  row (0, "Tasks", "%d", c->n_tasks);
  for (int t = 0; t < c->n_tasks; t++) {
    row (1, c->tasks[t].name, "%" G_GINT64_FORMAT " classes, weight %g",
         c->tasks[t].n_classes, (double) c->tasks[t].weight);
    print_classes (&c->tasks[t]);
  }

  h = human_count (in->total);
  row (0, "Parameters", "%" G_GINT64_FORMAT " (%s) in %" G_GINT64_FORMAT
       " tensors, %.1f %s as float32", in->total, h, in->tensors,
       in->total * 4.0 / (in->total >= 262144 ? 1048576.0 : 1024.0),
       in->total >= 262144 ? "MiB" : "KiB");
  g_free (h);
  for (guint g = 0; g < N_GROUPS; g++) {
    if (g == OTHER && in->group[g] == 0)
      continue;
    row (1, groups[g], "%10" G_GINT64_FORMAT "  %5.1f%%", in->group[g],
         in->total > 0 ? 100.0 * in->group[g] / in->total : 0.0);
  }

  printf ("Preprocessing\n");
  if (c->has[MMDNN_MODALITY_VIDEO]) {
    const MmdnnVideoConfig *v = &c->video_prep;
    if (v->channels == 1)
      row (1, "video", "%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT " grey, "
           "(v/255 - %g) / %g", v->height, v->width, (double) v->mean[0],
           (double) v->std[0]);
    else
    {
      row (1, "video", "%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT " RGB, "
           "(v/255 - mean) / std", v->height, v->width);
      row (1, "", "mean %g %g %g, std %g %g %g", (double) v->mean[0],
           (double) v->mean[1], (double) v->mean[2], (double) v->std[0],
           (double) v->std[1], (double) v->std[2]);
    }
  }
  if (c->has[MMDNN_MODALITY_AUDIO]) {
    const MmdnnLogMelConfig *a = &c->logmel;
    row (1, "audio", "%" G_GINT64_FORMAT " Hz, window %" G_GINT64_FORMAT
         ", hop %" G_GINT64_FORMAT ", FFT %" G_GINT64_FORMAT,
         a->sample_rate, a->win_length, a->hop_length, a->n_fft);
    row (1, "", "%" G_GINT64_FORMAT " %s mels %g-%g Hz, ln (max (mel, %g))",
         a->n_mels, a->scale == MMDNN_MEL_HTK ? "HTK" : "Slaney",
         (double) a->fmin, (double) a->fmax, (double) a->log_floor);
    row (1, "", "patch of %" G_GINT64_FORMAT " frames = %.2f s",
         c->audio_patch_frames,
         (double) c->audio_patch_frames * a->hop_length / a->sample_rate);
  }
  if (c->has[MMDNN_MODALITY_TEXT])
    row (1, "text", "%" G_GINT64_FORMAT " hash buckets, %" G_GINT64_FORMAT
         " tokens x %" G_GINT64_FORMAT " ids per cue", c->text_prep.buckets,
         c->text_prep.max_tokens, c->text_prep.max_ids_per_token);

  printf ("Architecture\n");
  row (1, "dim", "%" G_GINT64_FORMAT, c->fusion.dim);
  for (int m = 0; m < MMDNN_N_MODALITIES; m++) {
    char *label;
    if (!c->has[m])
      continue;
    label = g_strdup_printf ("%s encoder", mmdnn_modality_name (m));
    if (m == MMDNN_MODALITY_TEXT) {
      b = branches_text (&c->text);
      row (1, label, "%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT " ids -> "
           "embed %" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT " tokens",
           c->text.max_tokens, c->text.ids_per_token, c->text.embed,
           encoder_tokens (c, m));
    } else {
      const MmdnnImageEncoderConfig *e = m == MMDNN_MODALITY_VIDEO
          ? &c->video : &c->audio;
      b = branches_image (e);
      row (1, label, "%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT "x%"
           G_GINT64_FORMAT " -> %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT
           " = %" G_GINT64_FORMAT " tokens", e->channels, e->height,
           e->width, e->grid_h, e->grid_w, encoder_tokens (c, m));
    }
    row (1, "", "%s", b);
    g_free (b);
    g_free (label);
  }
  row (1, "fusion", "attention hidden %" G_GINT64_FORMAT ", tau %g",
       c->fusion.attn_hidden, (double) c->fusion.tau);
  if (c->w_aux > 0.0f)
    row (1, "aux heads", "one per modality, %" G_GINT64_FORMAT " classes "
         "(task \"%s\")", c->tasks[0].n_classes, c->tasks[0].name);
  if (c->w_adv > 0.0f)
    row (1, "discriminator", "hidden %" G_GINT64_FORMAT ", GRL lambda %g",
         c->disc_hidden, (double) c->grl_lambda);

  printf ("Training\n");
  row (1, "loss weights", "aux %g, recon %g, adv %g, nce %g (tau %g)",
       (double) c->w_aux, (double) c->w_recon, (double) c->w_adv,
       (double) c->w_nce, (double) c->nce_tau);
  row (1, "virtual data", "mixup alpha %g, p recombine %g, p modality "
       "dropout %g", (double) c->mixup_alpha, (double) c->p_recombine,
       (double) c->p_modality_dropout);
  row (1, "", "p latent %g (noise %g)", (double) c->p_latent,
       (double) c->latent_noise);
  if (c->optim.kind == MMDNN_OPTIM_SGD)
    row (1, "optimiser", "SGD lr %g, momentum %g%s, weight decay %g",
         (double) c->optim.lr, (double) c->optim.momentum,
         c->optim.nesterov ? " (Nesterov)" : "",
         (double) c->optim.weight_decay);
  else
    row (1, "optimiser", "AdamW lr %g, betas %g %g, eps %g, weight decay %g",
         (double) c->optim.lr, (double) c->optim.beta1,
         (double) c->optim.beta2, (double) c->optim.eps,
         (double) c->optim.weight_decay);
  row (1, "schedule", "%" G_GINT64_FORMAT " steps, warm-up %" G_GINT64_FORMAT
       ", cosine to %g, clip norm %g", c->total_steps, c->warmup_steps,
       (double) c->min_lr, (double) c->clip_norm);
}

/* ---- JSON --------------------------------------------------------------- */

void
cli_print_json (JsonBuilder *b)
{
  JsonNode *root = json_builder_get_root (b);
  char *s = mmdnn_json_to_string (root);

  fputs (s, stdout);
  g_free (s);
  json_node_unref (root);
}


/* Copies every member of @o into the object being built. */
static void
add_members (JsonBuilder *b, JsonObject *o)
{
  GList *members = json_object_get_members (o);

  for (GList *l = members; l; l = l->next) {
    json_builder_set_member_name (b, l->data);
    json_builder_add_value (b, json_node_copy (json_object_get_member (o,
                                                                l->data)));
  }
  g_list_free (members);
}

static JsonObject *
member_object (JsonObject *o, const char *a, const char *b)
{
  JsonObject *x = json_object_has_member (o, a)
      ? json_object_get_object_member (o, a) : NULL;

  return x && b && json_object_has_member (x, b)
      ? json_object_get_object_member (x, b) : x;
}

static gboolean
print_json (const Info *in, GError **error)
{
  const MmdnnModelConfig *c = in->model->config;
  char *config_json = mmdnn_model_config_to_json (c);
  JsonParser *parser = json_parser_new ();
  JsonBuilder *b;
  JsonObject *cfg;

  /* the config object is the one the file carries, re-read so it nests */
  if (!json_parser_load_from_data (parser, config_json, -1, error)) {
    g_free (config_json);
    g_object_unref (parser);
    return FALSE;
  }
  g_free (config_json);
  cfg = json_node_get_object (json_parser_get_root (parser));

  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "file");
  json_builder_add_string_value (b, in->path);
  json_builder_set_member_name (b, "file_bytes");
  json_builder_add_int_value (b, in->file_bytes);
  json_builder_set_member_name (b, "model_id");
  json_builder_add_string_value (b, c->model_id);
  json_builder_set_member_name (b, "format_version");
  json_builder_add_int_value (b, in->format_version);
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, in->checkpoint ? "checkpoint" : "model");
  json_builder_set_member_name (b, "step");
  if (in->checkpoint)
    json_builder_add_int_value (b, in->step);
  else
    json_builder_add_null_value (b);

  json_builder_set_member_name (b, "modalities");
  json_builder_begin_array (b);
  for (int m = 0; m < MMDNN_N_MODALITIES; m++)
    if (c->has[m])
      json_builder_add_string_value (b, mmdnn_modality_name (m));
  json_builder_end_array (b);

  json_builder_set_member_name (b, "tasks");
  json_builder_begin_array (b);
  for (int t = 0; t < c->n_tasks; t++) {
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, c->tasks[t].name);
    json_builder_set_member_name (b, "n_classes");
    json_builder_add_int_value (b, c->tasks[t].n_classes);
    json_builder_set_member_name (b, "classes");
    json_builder_begin_array (b);
    for (int64_t k = 0; k < c->tasks[t].n_classes; k++)
      json_builder_add_string_value (b, c->tasks[t].classes[k]);
    json_builder_end_array (b);
    json_builder_set_member_name (b, "weight");
    json_builder_add_double_value (b, c->tasks[t].weight);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "parameters");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "total");
  json_builder_add_int_value (b, in->total);
  json_builder_set_member_name (b, "tensors");
  json_builder_add_int_value (b, in->tensors);
  for (guint g = 0; g < N_GROUPS; g++) {
    if (g == OTHER && in->group[g] == 0)
      continue;
    json_builder_set_member_name (b, groups[g]);
    json_builder_add_int_value (b, in->group[g]);
  }
  json_builder_end_object (b);

  /* only the modalities the model has: an absent one's section is unused */
  json_builder_set_member_name (b, "preprocessing");
  json_builder_begin_object (b);
  for (int m = 0; m < MMDNN_N_MODALITIES; m++) {
    JsonObject *o = member_object (cfg, "preprocessing",
                                   mmdnn_modality_name (m));
    if (!c->has[m] || o == NULL)
      continue;
    json_builder_set_member_name (b, mmdnn_modality_name (m));
    json_builder_begin_object (b);
    add_members (b, o);
    json_builder_end_object (b);
  }
  json_builder_end_object (b);

  json_builder_set_member_name (b, "architecture");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "dim");
  json_builder_add_int_value (b, c->fusion.dim);
  json_builder_set_member_name (b, "encoders");
  json_builder_begin_object (b);
  for (int m = 0; m < MMDNN_N_MODALITIES; m++) {
    JsonObject *o = member_object (cfg, "encoders", mmdnn_modality_name (m));
    if (!c->has[m] || o == NULL)
      continue;
    json_builder_set_member_name (b, mmdnn_modality_name (m));
    json_builder_begin_object (b);
    add_members (b, o);
    json_builder_set_member_name (b, "tokens");
    json_builder_add_int_value (b, encoder_tokens (c, m));
    json_builder_end_object (b);
  }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "fusion");
  json_builder_begin_object (b);
  add_members (b, member_object (cfg, "fusion", NULL));
  json_builder_end_object (b);
  json_builder_set_member_name (b, "heads");
  json_builder_begin_object (b);
  for (int t = 0; t < c->n_tasks; t++) {
    json_builder_set_member_name (b, c->tasks[t].name);
    json_builder_add_int_value (b, c->tasks[t].n_classes);
  }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "aux_heads");
  json_builder_add_boolean_value (b, c->w_aux > 0.0f);
  json_builder_set_member_name (b, "disc_hidden");
  if (c->w_adv > 0.0f)
    json_builder_add_int_value (b, c->disc_hidden);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "config");
  json_builder_add_value (b, json_node_copy (json_parser_get_root (parser)));
  json_builder_end_object (b);

  cli_print_json (b);
  g_object_unref (b);
  g_object_unref (parser);
  return TRUE;
}

/* ---- command ------------------------------------------------------------ */

static GOptionContext *
info_context (gboolean *json)
{
  GOptionEntry entries[] = {
    { "json", 'j', 0, G_OPTION_ARG_NONE, json,
      "Print one JSON object instead of text", NULL },
    { NULL }
  };
  GOptionContext *ctx = g_option_context_new ("MODEL - describe a model or "
                                              "checkpoint file");

  g_option_context_set_description (ctx,
      "Loads MODEL (a model or a checkpoint file) with every check of\n"
      "mmdnn_model_load (), as the elements do, then prints its id, format,\n"
      "modalities, tasks and class names, parameter counts (total and per\n"
      "top-level prefix: video, audio, text, fusion, heads, aux, disc),\n"
      "preprocessing, architecture sizes and training settings.\n"
      "\n"
      "--json prints one object with the keys file, file_bytes, model_id,\n"
      "format_version, kind (\"model\" or \"checkpoint\"), step (null for a\n"
      "model), modalities, tasks [{name, n_classes, classes, weight}],\n"
      "parameters {total, tensors, video, audio, text, fusion, heads, aux,\n"
      "disc}, preprocessing, architecture, and config: the model's whole\n"
      "configuration as docs/model-config.md describes it.\n"
      "\n"
      "Exit status: 0 ok, 1 the file is missing, corrupt or does not match\n"
      "its own config, 2 bad arguments.\n"
      "\nExample:\n  mmdnn info model.safetensors --json\n");
  g_option_context_add_main_entries (ctx, entries, NULL);
  return ctx;
}

void
cli_info_help (void)
{
  gboolean json = FALSE;
  GOptionContext *ctx;
  char *help;

  g_set_prgname ("mmdnn info");
  ctx = info_context (&json);
  help = g_option_context_get_help (ctx, TRUE, NULL);
  fputs (help, stdout);
  g_free (help);
  g_option_context_free (ctx);
}

int
cli_info_run (int argc, char **argv)
{
  gboolean json = FALSE;
  GOptionContext *ctx;
  GError *error = NULL;
  Info in;
  int status = CLI_FAILED;

  memset (&in, 0, sizeof in);
  g_set_prgname ("mmdnn info");
  ctx = info_context (&json);
  if (!cli_parse (ctx, "info", &argc, &argv)) {
    g_option_context_free (ctx);
    return CLI_USAGE;
  }
  g_option_context_free (ctx);
  if (argc != 2) {
    if (argc < 2)
      cli_errorf ("info: no MODEL given");
    else
      cli_errorf ("info: one MODEL only (got '%s' too)", argv[2]);
    fprintf (stderr, "Try 'mmdnn info --help'.\n");
    return CLI_USAGE;
  }
  in.path = argv[1];

  /* batch 1: the activations are sized for it, and info runs nothing */
  in.model = mmdnn_model_load (in.path, 1, &error);
  if (in.model == NULL || !read_metadata (&in, &error)) {
    cli_error (in.path, error);
    goto done;
  }
  count_params (&in);
  if (json) {
    if (!print_json (&in, &error)) {
      cli_error (in.path, error);
      goto done;
    }
  } else {
    print_text (&in);
  }
  status = CLI_OK;

done:
  g_clear_error (&error);
  mmdnn_model_free (in.model);
  if (fflush (stdout) != 0 && status == CLI_OK) {
    cli_errorf ("cannot write to stdout: %s", g_strerror (errno));
    status = CLI_FAILED;
  }
  return status;
}
