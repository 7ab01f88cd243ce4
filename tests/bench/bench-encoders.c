/* mmdnn — encoder benchmark: the three default encoders, inference and
 * training throughput, and the share of the time spent in GEMM.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Run by hand (`make bench`), never by `make check`. For each default
 * encoder (video 3×64×64, audio 1×64×100 log-mel patch, text 32 words) it
 * reports the forward time of one sample at batch 1 (inference, no
 * reconstruction) and the samples per second of forward + backward at
 * batch 32 (training, reconstruction loss on), each with the fraction of
 * the wall time spent inside mmdnn_gemm. Threads: 1, then 2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmdnn/blas.h>
#include <mmdnn/encoder-image.h>
#include <mmdnn/encoder-text.h>
#include <mmdnn/rng.h>
#include <mmdnn/tensor.h>
#include <mmdnn/text.h>

#define TRAIN_BATCH 32

typedef struct {
  const char *name;
  MmdnnParamSet *ps;
  gboolean is_text;
  MmdnnImageEncoder image;
  MmdnnImageEncoderActs *image_acts;
  MmdnnTextEncoder text;
  MmdnnTextEncoderActs *text_acts;
  float *x;                     /* image input for TRAIN_BATCH samples */
  int32_t *ids;                 /* text input for TRAIN_BATCH samples */
  float *dtokens;
  int64_t k, d;
} Bench;

static double min_time = 1.0;

static void
die (const char *what, GError *err)
{
  fprintf (stderr, "bench-encoders: %s: %s\n", what, err ? err->message : "");
  exit (1);
}

static void
bench_image_init (Bench *b, const char *name, gboolean audio, MmdnnRng *rng)
{
  MmdnnImageEncoderConfig c;
  GError *err = NULL;
  int64_t nx;

  memset (b, 0, sizeof *b);
  b->name = name;
  b->ps = mmdnn_param_set_new ();
  if (audio)
    mmdnn_image_encoder_config_init_audio (&c);
  else
    mmdnn_image_encoder_config_init_video (&c);
  if (!mmdnn_image_encoder_init (&b->image, b->ps, name, &c, &err) ||
      !mmdnn_param_set_allocate (b->ps, &err) ||
      (b->image_acts = mmdnn_image_encoder_acts_new (&b->image, TRAIN_BATCH,
                                                     &err)) == NULL)
    die (name, err);
  mmdnn_image_encoder_reset (&b->image, rng);
  b->k = b->image.tokens;
  b->d = c.dim;
  nx = TRAIN_BATCH * c.channels * c.height * c.width;
  b->x = g_new (float, nx);
  mmdnn_rng_fill_uniform (rng, b->x, nx, -2, 2);
}

static void
bench_text_init (Bench *b, MmdnnRng *rng)
{
  MmdnnTextEncoderConfig c;
  MmdnnTextConfig tc;
  GError *err = NULL;
  int64_t per;

  memset (b, 0, sizeof *b);
  b->name = "text";
  b->is_text = TRUE;
  b->ps = mmdnn_param_set_new ();
  mmdnn_text_encoder_config_init (&c);
  if (!mmdnn_text_encoder_init (&b->text, b->ps, "text", &c, &err) ||
      !mmdnn_param_set_allocate (b->ps, &err) ||
      (b->text_acts = mmdnn_text_encoder_acts_new (&b->text, TRAIN_BATCH,
                                                   &err)) == NULL)
    die ("text", err);
  mmdnn_text_encoder_reset (&b->text, rng);
  b->k = c.max_tokens;
  b->d = c.dim;
  /* real cues of typical subtitle length (about 12 words) */
  mmdnn_text_config_init (&tc);
  tc.buckets = c.buckets;
  tc.max_tokens = c.max_tokens;
  tc.max_ids_per_token = c.ids_per_token;
  per = c.max_tokens * c.ids_per_token;
  b->ids = g_new (int32_t, TRAIN_BATCH * per);
  for (int i = 0; i < TRAIN_BATCH; i++) {
    char *cue = g_strdup_printf ("Sample %d: the quick brown fox jumps over "
                                 "the lazy dog near the river bank.", i);
    if (!mmdnn_text_tokenize (&tc, cue, -1, b->ids + i * per, NULL, &err))
      die ("tokenize", err);
    g_free (cue);
  }
}

static void
bench_step (Bench *b, int64_t n, gboolean train)
{
  const float *tokens, *mask;
  float recon;
  GError *err = NULL;
  gboolean ok;

  if (b->is_text)
    ok = mmdnn_text_encoder_forward (&b->text, b->text_acts, b->ids, n,
                                     &tokens, &mask, train ? &recon : NULL,
                                     &err);
  else
    ok = mmdnn_image_encoder_forward (&b->image, b->image_acts, b->x, n,
                                      &tokens, train ? &recon : NULL, &err);
  if (!ok)
    die (b->name, err);
  if (!train)
    return;
  mmdnn_param_set_zero_grad (b->ps);
  if (b->is_text)
    mmdnn_text_encoder_backward (&b->text, b->text_acts, b->dtokens, 1.0f, n);
  else
    mmdnn_image_encoder_backward (&b->image, b->image_acts, b->dtokens, 1.0f,
                                  n);
}

/* Runs steps until min_time has passed; returns seconds per step and sets
 * *gemm_share to the fraction of that time inside mmdnn_gemm. */
static double
bench_time (Bench *b, int64_t n, gboolean train, double *gemm_share)
{
  gint64 start;
  double elapsed;
  int reps = 0;

  for (int i = 0; i < 3; i++)
    bench_step (b, n, train);
  mmdnn_gemm_profile_reset ();
  mmdnn_gemm_profile_enable (TRUE);
  start = g_get_monotonic_time ();
  do {
    bench_step (b, n, train);
    reps++;
    elapsed = (g_get_monotonic_time () - start) / 1e6;
  } while (elapsed < min_time);
  mmdnn_gemm_profile_enable (FALSE);
  *gemm_share = mmdnn_gemm_profile_seconds () / elapsed;
  return elapsed / reps;
}

int
main (int argc, char **argv)
{
  Bench benches[3];
  MmdnnRng rng;
  int max_threads = 2;

  for (int i = 1; i < argc; i++) {
    if (strcmp (argv[i], "--quick") == 0)
      min_time = 0.2;
    else if (strcmp (argv[i], "--threads") == 0 && i + 1 < argc)
      max_threads = atoi (argv[++i]);
    else {
      fprintf (stderr, "usage: bench-encoders [--quick] [--threads N]\n");
      return 2;
    }
  }
  mmdnn_rng_init (&rng, 1);
  bench_image_init (&benches[0], "video", FALSE, &rng);
  bench_image_init (&benches[1], "audio", TRUE, &rng);
  bench_text_init (&benches[2], &rng);
  for (int i = 0; i < 3; i++) {
    int64_t nt = TRAIN_BATCH * benches[i].k * benches[i].d;
    benches[i].dtokens = g_new (float, nt);
    mmdnn_rng_fill_uniform (&rng, benches[i].dtokens, nt, -1, 1);
  }

  printf ("OpenBLAS core: %s (OPENBLAS_CORETYPE=%s)\n",
          mmdnn_blas_core_name (),
          g_getenv ("OPENBLAS_CORETYPE") ? g_getenv ("OPENBLAS_CORETYPE") : "unset");
  printf ("%-6s %3s %10s %14s %12s %8s %14s\n", "encoder", "thr", "params",
          "infer b1 ms", "gemm share", "train b32", "gemm share");
  for (int threads = 1; threads <= max_threads; threads++) {
    mmdnn_blas_set_threads (threads);
    for (int i = 0; i < 3; i++) {
      double share_infer, share_train;
      double infer = bench_time (&benches[i], 1, FALSE, &share_infer);
      double train = bench_time (&benches[i], TRAIN_BATCH, TRUE, &share_train);
      printf ("%-6s %3d %10" G_GINT64_FORMAT " %14.3f %11.0f%% %8.1f/s %13.0f%%\n",
              benches[i].name, threads, benches[i].ps->numel, infer * 1e3,
              share_infer * 100, TRAIN_BATCH / train, share_train * 100);
    }
  }
  for (int i = 0; i < 3; i++) {
    mmdnn_image_encoder_acts_free (benches[i].image_acts);
    mmdnn_text_encoder_acts_free (benches[i].text_acts);
    mmdnn_param_set_free (benches[i].ps);
    g_free (benches[i].x);
    g_free (benches[i].ids);
    g_free (benches[i].dtokens);
  }
  return 0;
}
