/* mmdnn — mmdnntrain: on-line training inside the pipeline, labels as a
 * stream, hot-swapped weights.
 * Copyright (C) 2025 mmdnn developers
 * SPDX-License-Identifier: LGPL-2.1-or-later */

/**
 * SECTION:element-mmdnntrain
 * @title: mmdnntrain
 * @short_description: trains the multimodal model on labelled windows of
 *   video, audio and text features, and hands the new weights to the
 *   running pipeline
 * @see_also: mmdnnfuse, mmdnnvideoenc, mmdnnaudioenc, mmdnntextenc,
 *   subparse
 *
 * mmdnntrain takes the same features as mmdnnfuse on request pads
 * `sink_%u`, cuts the running time into the same windows (the code is
 * shared, so a window takes the same features in both), and takes the
 * label of every window from a label track on its `label` pad (e.g. an SRT
 * file of labels through subparse) or from its #GstMmdnnTrain:label
 * property. Every labelled window becomes one training sample: the
 * preprocessed inputs the encoders ran on (they ride along with the
 * features as a #GstMmdnnInputMeta) and the labels. A worker thread trains
 * the whole model — encoders, fusion and heads, with the joint objective
 * and virtual data of the model config — on mini-batches of
 * #GstMmdnnTrain:batch-size samples, exactly as `mmdnn train` trains on
 * the samples of a data set (the same core calls in the same order: the
 * same samples in the same order give the same weights). Every
 * #GstMmdnnTrain:publish-interval steps a copy of the weights is published
 * to the model registry, so mmdnnfuse and the encoders of the same process
 * that use the same model file switch to it at their next buffer;
 * checkpoints are written atomically every
 * #GstMmdnnTrain:checkpoint-interval steps and at EOS, with the final
 * model.
 *
 * The element's output is what mmdnnfuse would give for the same window
 * with the weights last published (a text line or the fused features,
 * with a #GstMmdnnResultMeta and an `mmdnn-result` message), so one
 * pipeline can train and show what the model currently predicts.
 *
 * ## Caps
 *
 * - `sink_%u`: `application/x-mmdnn-features, modality={video, audio,
 *   text}` as for mmdnnfuse (checked against the model the same way). Every
 *   buffer must carry its encoder's #GstMmdnnInputMeta: mmdnntrain answers
 *   the ALLOCATION query with that meta, and the encoders then attach it.
 *   Features without it are an error (#GST_STREAM_ERROR_FORMAT): training
 *   only fusion and heads on features whose encoder has moved on would
 *   train on stale inputs. Elements between the encoders and mmdnntrain
 *   must pass buffer metadata on (queue, tee do).
 * - `label` (request pad, one): `text/x-raw, format={utf8, pango-markup}`
 *   label cues (markup is stripped). A cue holds one or more labels,
 *   separated by new lines or ';': a class name of the pad's
 *   #GstMmdnnTrainLabelPad:task (default: the model's first task), or
 *   `TASK=CLASS` / `TASK: CLASS` for any task of the model, e.g.
 *   `Sneaker` or `class=Sneaker; speaker_gender=female`. Class names are
 *   matched exactly (case and all). A cue counts for its whole duration
 *   and a window takes, per task, the cue that overlaps it most (the later
 *   on a tie), like text features. An empty cue labels nothing.
 * - `src`: as mmdnnfuse's: `text/x-raw, format=utf8` or the fused
 *   features, with a #GstMmdnnResultMeta on every buffer.
 *
 * ## Which windows are trained on
 *
 * Windows, their timing, live time-outs, late buffers and EOS behave as in
 * mmdnnfuse (see there); the window waits for the label pad too (except
 * in live mode, where it times out like any pad). Per task a window's
 * label is the label track's, else the #GstMmdnnTrain:label property's
 * for that task; a task without either is unknown (−1) for that sample
 * (its cross-entropy leaves it out). A window with no label for any task,
 * or with no modality present, is not trained on (counted as unlabelled).
 *
 * The window takes the same features as mmdnnfuse's, by the same rules
 * (see there), and they are the sample `mmdnn train` makes of a clip with
 * the window's span: the frame on screen at the centre (1.0 s in a 2-s
 * window at 10 fps), the 1-s audio patch centred in it (from 0.5 s, when
 * mmdnnaudioenc's hop puts one there), the cues overlapping it.
 * tests/check/train/test-train-pipelines.sh trains on a data set both
 * ways and gets the same model, byte for byte.
 *
 * A label that is not a class of its task — the label set does not match
 * the model's classes — stops the element with an error
 * (#GST_STREAM_ERROR_FORMAT for a cue, #GST_LIBRARY_ERROR_SETTINGS for
 * the property) naming the label and listing the task's classes: training
 * on a silently dropped or misread label set would be worse.
 *
 * ## Training
 *
 * aggregate () only copies a window's inputs and labels into a slot of a
 * preallocated queue of #GstMmdnnTrain:queue-size samples and returns;
 * the worker thread takes #GstMmdnnTrain:batch-size samples at a time (at
 * EOS, what is left, as the last partial batch of an epoch) and runs one
 * optimiser step on them (a flushing seek drops the windows being cut, not
 * the samples already queued: they are training data). When the queue is
 * full, #GstMmdnnTrain:leaky
 * decides: in a live pipeline (the default, `auto`) the window is
 * dropped and counted, so a live pipeline never waits for training;
 * otherwise the streaming thread waits for room, so training from a file
 * sees every window.
 *
 * The model trained:
 * - #GstMmdnnTrain:resume and an existing #GstMmdnnTrain:checkpoint: the
 *   checkpoint, exactly (weights, optimiser state, step, the model's RNG
 *   and config);
 * - else #GstMmdnnTrain:model set: a new run starting from that model's
 *   weights (its current version in the registry);
 * - else a fresh model (weights from #GstMmdnnTrain:seed) of
 *   #GstMmdnnTrain:config, a JSON model config (docs/model-config.md), or
 *   of the default architecture.
 *
 * #GstMmdnnTrain:learning-rate, #GstMmdnnTrain:optimizer,
 * #GstMmdnnTrain:loss-weights, #GstMmdnnTrain:virtual-data and
 * #GstMmdnnTrain:total-steps change the config of a new run (a resumed
 * run keeps its checkpoint's). A non-finite forward or gradient, or an
 * update that would overflow a weight (a diverging run), skips that
 * update, with a warning the first time; the skips are counted, and the
 * weights and checkpoints stay finite.
 *
 * ## Where the weights go
 *
 * - The registry entry of #GstMmdnnTrain:publish-to, by default the
 *   #GstMmdnnTrain:model file, or the default model when that is unset —
 *   the same file mmdnnfuse and the encoders use when their `model` is the
 *   same (or unset). Its architecture, preprocessing, tasks and classes
 *   must be those of the trained model (else an error at start: the
 *   encoders' features and inputs must fit it). The start weights are
 *   published when the run starts (a fresh or resumed model), then every
 *   #GstMmdnnTrain:publish-interval steps and at EOS. Nothing is written
 *   to the file itself.
 * - #GstMmdnnTrain:checkpoint: every #GstMmdnnTrain:checkpoint-interval
 *   steps and at EOS, atomically (temporary file, fsync, rename): a crash
 *   or kill at any moment leaves the previous checkpoint intact (and the
 *   next run removes the temporary file a kill may leave next to it). A
 *   periodic write that fails (folder gone, read-only, full) is a warning
 *   (#GST_RESOURCE_ERROR_WRITE) and training goes on; at EOS it is an
 *   error.
 * - #GstMmdnnTrain:out: the final model, at EOS (atomically); unset: next
 *   to the checkpoint, its name without a ".ckpt" suffix (model.ckpt →
 *   model, m.safetensors.ckpt → m.safetensors, the way `mmdnn train`
 *   names them) or with ".safetensors" appended.
 * Both folders are checked at start (#GST_RESOURCE_ERROR_OPEN_WRITE).
 * Stopping the pipeline without EOS writes nothing more: send EOS
 * (`gst-launch-1.0 -e`) to keep the end of a run.
 *
 * ## Pad properties
 *
 * - `sink_%u::modality` (string, read-only), `sink_%u::mute` (boolean):
 *   as mmdnnfuse's; a muted modality is missing from the samples too.
 * - `label::task` (string, default NULL = the model's first task): the
 *   task of the labels on the pad that do not name one.
 *
 * ## Bus messages
 *
 * `mmdnn-train` (element message) every #GstMmdnnTrain:message-interval
 * steps, and once more at EOS with `final` TRUE:
 * - `step` (#guint64): optimiser steps of the model (a resumed run goes
 *   on from the checkpoint's);
 * - `samples` (#guint64): samples trained in this run;
 * - `epoch` (#gdouble, only when known): `samples` / epoch size
 *   (#GstMmdnnTrain:epoch-size, or the windows in the duration upstream
 *   reports);
 * - `loss` (#gdouble): the mean total loss since the last message;
 * - `losses` (#GstStructure "losses"): the mean of every term since the
 *   last message: `total`, `aux`, `recon`, `adv`, `nce` (unweighted) and
 *   one field per task (its cross-entropy);
 * - `accuracy` (#GstStructure "accuracy"): per task, the accuracy of the
 *   training batches' predictions (before their update) since the last
 *   message; `accuracy-total` the same since the run started (what
 *   `mmdnn train` prints as acc for an epoch);
 * - `learning-rate` (#gdouble): the schedule's rate for the next step;
 * - `samples-per-second` (#gdouble): training throughput since the last
 *   message; `elapsed` (#gdouble): seconds since the first step;
 * - `dropped` (#guint64): windows dropped because the queue was full;
 *   `unlabelled` (#guint64): windows not trained on; `skipped`
 *   (#guint64): updates skipped (diverging: non-finite forward or
 *   gradient, overflowing update); `queued` (#guint):
 *   samples waiting;
 * - `model-version` (#guint64): the registry version last published (0:
 *   none yet);
 * - `final` (#gboolean);
 * - `json` (#gchararray): all of the above as one JSON object.
 *
 * #GST_MESSAGE_PROGRESS (code "mmdnn-train") when the run starts (the
 * first time the element reaches PLAYING: gst-launch-1.0 would wait for
 * progress started earlier to end before playing), and when it completes
 * at EOS (after the files are written), fails, or is stopped before EOS
 * (canceled). `mmdnn-result` messages as mmdnnfuse's.
 *
 * Errors: the models or the config cannot be loaded (RESOURCE, LIBRARY),
 * a model that cannot be published to #GstMmdnnTrain:publish-to
 * (LIBRARY, SETTINGS), caps that do not fit (STREAM, WRONG_TYPE),
 * features without inputs or of the wrong size (STREAM, FORMAT), labels
 * not in the model's classes, an unwritable checkpoint or output (RESOURCE,
 * OPEN_WRITE at start, WRITE at EOS), a training step that fails
 * (LIBRARY, FAILED).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -e -m filesrc location=data/all.mkv ! decodebin name=d \
 *     d. ! audio/x-raw ! queue ! audioconvert ! audioresample ! \
 *       mmdnnaudioenc hop=500000000 ! queue ! t.sink_0 \
 *     d. ! text/x-raw ! queue ! mmdnntextenc ! queue ! t.sink_1 \
 *     filesrc location=data/labels.srt ! subparse ! queue ! t.label \
 *     mmdnntrain name=t window=2000000000 batch-size=8 \
 *       checkpoint=model.safetensors.ckpt ! fakesink
 * ]| Trains a fresh model of the default architecture on the audio and the
 * subtitles of a data set file (tools/make-dataset --concat all.mkv), one
 * sample per two-second clip, labelled by an SRT made from its labels.csv
 * (tools/labels-to-srt data -o data/labels.srt; the video stream is left
 * unlinked); at EOS it writes model.safetensors.ckpt and model.safetensors.
 * pipelines/train-file.sh does it with video too and then classifies with
 * the trained model; pipelines/train-live.sh trains and classifies in one
 * live pipeline.
 *
 * Since: 0.1
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <math.h>
#include <string.h>
#include <unistd.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "gstmmdnnelements.h"
#include "gstmmdnnfeaturespad.h"
#include "gstmmdnnmeta.h"
#include "gstmmdnnregistry.h"
#include "gstmmdnntrain.h"
#include "gstmmdnnutils.h"
#include "gstmmdnnwindow.h"

GST_DEBUG_CATEGORY_STATIC (mmdnn_train_debug);
#define GST_CAT_DEFAULT mmdnn_train_debug

#define DEFAULT_MODEL               NULL
#define DEFAULT_PUBLISH_TO          NULL
#define DEFAULT_CONFIG              NULL
#define DEFAULT_CHECKPOINT          NULL
#define DEFAULT_OUT                 NULL
#define DEFAULT_CHECKPOINT_INTERVAL 100
#define DEFAULT_RESUME              FALSE
#define DEFAULT_BATCH_SIZE          32
#define DEFAULT_QUEUE_SIZE          64
#define DEFAULT_LEARNING_RATE       0.0
#define DEFAULT_OPTIMIZER           GST_MMDNN_TRAIN_OPTIMIZER_CONFIG
#define DEFAULT_LOSS_WEIGHTS        NULL
#define DEFAULT_VIRTUAL_DATA        TRUE
#define DEFAULT_TOTAL_STEPS         0
#define DEFAULT_PUBLISH_INTERVAL    10
#define DEFAULT_MESSAGE_INTERVAL    10
#define DEFAULT_SEED                1
#define DEFAULT_LEAKY               GST_MMDNN_TRAIN_LEAKY_AUTO
#define DEFAULT_LABEL               NULL
#define DEFAULT_WINDOW              GST_SECOND
#define DEFAULT_HOP                 0
#define DEFAULT_EPOCH_SIZE          0
#define DEFAULT_STEP_DELAY          0
#define DEFAULT_TASK                NULL
#define MIN_WINDOW                  GST_MSECOND
#define MAX_WINDOW                  (3600 * GST_SECOND)
#define MAX_BATCH                   4096
#define MAX_QUEUE                   65536
#define MAX_CONFIG_BYTES            (16 << 20)
#define PROGRESS_CODE               "mmdnn-train"
#define STACK_DURATION_PADS         16

enum
{
  PROP_0,
  PROP_MODEL,
  PROP_PUBLISH_TO,
  PROP_CONFIG,
  PROP_CHECKPOINT,
  PROP_OUT,
  PROP_CHECKPOINT_INTERVAL,
  PROP_RESUME,
  PROP_BATCH_SIZE,
  PROP_QUEUE_SIZE,
  PROP_LEARNING_RATE,
  PROP_OPTIMIZER,
  PROP_LOSS_WEIGHTS,
  PROP_VIRTUAL_DATA,
  PROP_TOTAL_STEPS,
  PROP_PUBLISH_INTERVAL,
  PROP_MESSAGE_INTERVAL,
  PROP_SEED,
  PROP_LEAKY,
  PROP_LABEL,
  PROP_WINDOW,
  PROP_HOP,
  PROP_EPOCH_SIZE,
  PROP_STEP_DELAY,
};

enum
{
  PROP_LABEL_PAD_0,
  PROP_LABEL_PAD_TASK,
};

/* ------------------------------------------------------------ enums */

static GType
gst_mmdnn_train_optimizer_get_type (void)
{
  static GType type = 0;

  if (g_once_init_enter (&type)) {
    static const GEnumValue values[] = {
      {GST_MMDNN_TRAIN_OPTIMIZER_CONFIG, "The model config's", "config"},
      {GST_MMDNN_TRAIN_OPTIMIZER_ADAMW, "AdamW", "adamw"},
      {GST_MMDNN_TRAIN_OPTIMIZER_SGD, "SGD with momentum 0.9", "sgd"},
      {0, NULL, NULL}
    };
    GType t = g_enum_register_static ("GstMmdnnTrainOptimizer", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

#define GST_TYPE_MMDNN_TRAIN_OPTIMIZER (gst_mmdnn_train_optimizer_get_type ())

static GType
gst_mmdnn_train_leaky_get_type (void)
{
  static GType type = 0;

  if (g_once_init_enter (&type)) {
    static const GEnumValue values[] = {
      {GST_MMDNN_TRAIN_LEAKY_AUTO, "Drop when live, wait otherwise", "auto"},
      {GST_MMDNN_TRAIN_LEAKY_NO, "Wait for room", "no"},
      {GST_MMDNN_TRAIN_LEAKY_YES, "Drop the window", "yes"},
      {0, NULL, NULL}
    };
    GType t = g_enum_register_static ("GstMmdnnTrainLeaky", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

#define GST_TYPE_MMDNN_TRAIN_LEAKY (gst_mmdnn_train_leaky_get_type ())

/* ------------------------------------------------------------ label pad */

struct _GstMmdnnTrainLabelPad
{
  GstAggregatorPad parent;

  /* object lock */
  gchar *task;

  /* streaming thread */
  gboolean markup;              /* pango-markup cues */
  /* per slot: gint32 labels[MMDNN_MAX_TASKS], −1 unknown */
  GstMmdnnWindowRing ring;
};

G_DEFINE_TYPE (GstMmdnnTrainLabelPad, gst_mmdnn_train_label_pad,
    GST_TYPE_AGGREGATOR_PAD);

static void
gst_mmdnn_train_label_pad_finalize (GObject *object)
{
  GstMmdnnTrainLabelPad *pad = GST_MMDNN_TRAIN_LABEL_PAD (object);

  gst_mmdnn_window_ring_clear (&pad->ring);
  g_free (pad->task);
  G_OBJECT_CLASS (gst_mmdnn_train_label_pad_parent_class)->finalize (object);
}

static void
gst_mmdnn_train_label_pad_get_property (GObject *object, guint prop_id,
    GValue *value, GParamSpec *pspec)
{
  GstMmdnnTrainLabelPad *pad = GST_MMDNN_TRAIN_LABEL_PAD (object);

  switch (prop_id) {
    case PROP_LABEL_PAD_TASK:
      GST_OBJECT_LOCK (pad);
      g_value_set_string (value, pad->task);
      GST_OBJECT_UNLOCK (pad);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_mmdnn_train_label_pad_set_property (GObject *object, guint prop_id,
    const GValue *value, GParamSpec *pspec)
{
  GstMmdnnTrainLabelPad *pad = GST_MMDNN_TRAIN_LABEL_PAD (object);

  switch (prop_id) {
    case PROP_LABEL_PAD_TASK:
      GST_OBJECT_LOCK (pad);
      g_free (pad->task);
      pad->task = g_value_dup_string (value);
      GST_OBJECT_UNLOCK (pad);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static GstFlowReturn
gst_mmdnn_train_label_pad_flush (GstAggregatorPad *aggpad, GstAggregator *agg)
{
  gst_mmdnn_window_ring_reset (&GST_MMDNN_TRAIN_LABEL_PAD (aggpad)->ring);
  return GST_FLOW_OK;
}

static void
gst_mmdnn_train_label_pad_class_init (GstMmdnnTrainLabelPadClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstAggregatorPadClass *aggpad_class = GST_AGGREGATOR_PAD_CLASS (klass);

  gobject_class->finalize = gst_mmdnn_train_label_pad_finalize;
  gobject_class->get_property = gst_mmdnn_train_label_pad_get_property;
  gobject_class->set_property = gst_mmdnn_train_label_pad_set_property;
  aggpad_class->flush = GST_DEBUG_FUNCPTR (gst_mmdnn_train_label_pad_flush);

  /**
   * GstMmdnnTrainLabelPad:task:
   *
   * The task of the labels on this pad that do not name one (a cue
   * `Sneaker` rather than `class=Sneaker`); NULL: the model's first task.
   * Can be changed while PLAYING; takes effect at the next cue.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_LABEL_PAD_TASK,
      g_param_spec_string ("task", "Task",
          "Task of the labels that name none (NULL: the model's first)",
          DEFAULT_TASK,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_PLAYING |
          G_PARAM_STATIC_STRINGS));
}

static void
gst_mmdnn_train_label_pad_init (GstMmdnnTrainLabelPad *pad)
{
  gst_mmdnn_window_ring_init (&pad->ring);
  gst_mmdnn_window_ring_set_slot_size (&pad->ring,
      sizeof (gint32) * MMDNN_MAX_TASKS);
  pad->ring.rule = GST_MMDNN_WINDOW_RULE_CUE;
  pad->ring.aux = TRUE;
}

/* -------------------------------------------------------------- element */

/* The samples waiting for the worker, in preallocated slots; and what the
 * worker and the streaming thread tell each other. All under lock. */
typedef struct
{
  GMutex lock;
  GCond cond;
  guint size, head, count;
  float *video, *audio;         /* size × input size, or NULL */
  gint32 *text;
  float *presence;              /* size × 3 */
  gint32 *labels;               /* size × n_tasks */

  gboolean quit;                /* stop (): the worker leaves */
  gboolean flushing;            /* flush or shutdown: nobody waits */
  gboolean failed;              /* the worker posted an error */
  guint64 drain_req, drain_done;        /* EOS: train the rest, write */
  gboolean drain_ok;
  guint64 dropped, unlabelled;
  guint64 epoch_windows;        /* from the duration; 0 unknown */
} TrainQueue;

/* What a run was started with (start () to stop (), read-only). */
typedef struct
{
  guint batch, publish_interval, message_interval, checkpoint_interval;
  gchar *checkpoint, *out;
  GstMmdnnTrainLeaky leaky;
  guint64 epoch_size;
  GstClockTime step_delay;
  gboolean publish_start;       /* the start weights are not the entry's */
} TrainRun;

/* The worker's (the streaming thread reads none of it). */
typedef struct
{
  guint64 samples, steps, skipped, version;
  gint64 t_first, t_msg;        /* monotonic µs: first step, last message */
  /* since the last message */
  guint64 m_steps, m_samples, m_finite;
  double m_total, m_task[MMDNN_MAX_TASKS], m_aux, m_recon, m_adv, m_nce;
  guint64 m_correct[MMDNN_MAX_TASKS], m_count[MMDNN_MAX_TASKS];
  /* since the run started */
  guint64 t_correct[MMDNN_MAX_TASKS], t_count[MMDNN_MAX_TASKS];
} TrainStats;

struct _GstMmdnnTrain
{
  GstAggregator parent;

  /* properties, object lock */
  gchar *model_path, *publish_to, *config_path, *checkpoint, *out;
  guint checkpoint_interval, batch_size, queue_size;
  guint publish_interval, message_interval;
  gboolean resume, virtual_data;
  gdouble learning_rate;
  GstMmdnnTrainOptimizer optimizer;
  gchar *loss_weights;
  guint64 total_steps, seed, epoch_size;
  GstMmdnnTrainLeaky leaky;
  gchar *label;
  gboolean label_changed;
  GstClockTime window, hop, step_delay;

  /* start () to stop (); config under the object lock (accept-caps
   * reads it from upstream threads) */
  GstMmdnnModelEntry *entry;    /* published to, output computed with */
  gchar *entry_name;
  MmdnnModelConfig *config;     /* a copy of the entry's */
  MmdnnFuseStage *stage;
  float *mask;
  gint64 input_size[MMDNN_N_MODALITIES];
  TrainRun run;
  gboolean running;             /* a run started */
  gboolean start_posted;        /* its PROGRESS start (in PLAYING) */
  gboolean finished;            /* ... and completed at EOS */

  /* the streaming thread */
  GstMmdnnWindowClock clock;
  gboolean out_text;
  gint32 prop_labels[MMDNN_MAX_TASKS];
  gboolean duration_asked;

  /* the worker thread */
  TrainQueue q;
  GThread *worker;
  MmdnnModel *model;
  MmdnnBatch *batch;
  TrainStats stats;
};

/* -------------------------------------------------------- features pad */

/* GstMmdnnFeaturesPad, which names mmdnntrain in the errors and keeps the
 * encoder's input after the tokens in every slot. */
struct _GstMmdnnTrainPad
{
  GstMmdnnFeaturesPad parent;

  /* streaming thread */
  gint64 input_size;            /* elements of the encoder input */
};

G_DEFINE_TYPE (GstMmdnnTrainPad, gst_mmdnn_train_pad,
    GST_TYPE_MMDNN_FEATURES_PAD);

/* Every slot: K × D float32 tokens, then input_size × 4 bytes of input. */
static gsize
train_pad_set_modality (GstMmdnnFeaturesPad *fpad, GstElement *element,
    int modality)
{
  GstMmdnnTrainPad *pad = GST_MMDNN_TRAIN_PAD (fpad);

  pad->input_size = GST_MMDNN_TRAIN (element)->input_size[modality];
  GST_DEBUG_OBJECT (pad, "inputs of %" G_GINT64_FORMAT, pad->input_size);
  return 4 * (gsize) pad->input_size;
}

static gchar *
train_pad_refusal_text (GstMmdnnFeaturesPad *pad, const gchar *why)
{
  return g_strdup_printf (_("Pad %s of mmdnntrain cannot take these "
          "features: %s."), GST_PAD_NAME (pad), why);
}

static gchar *
train_pad_size_text (GstMmdnnFeaturesPad *pad)
{
  return g_strdup_printf (_("The features on pad %s of mmdnntrain are not "
          "the size their caps say."), GST_PAD_NAME (pad));
}

static void
gst_mmdnn_train_pad_class_init (GstMmdnnTrainPadClass *klass)
{
  GstMmdnnFeaturesPadClass *fpad_class = GST_MMDNN_FEATURES_PAD_CLASS (klass);

  fpad_class->set_modality = train_pad_set_modality;
  fpad_class->refusal_text = train_pad_refusal_text;
  fpad_class->size_text = train_pad_size_text;
}

static void
gst_mmdnn_train_pad_init (GstMmdnnTrainPad *pad)
{
}

/* ------------------------------------------------------------ templates */

static GstStaticPadTemplate sink_template =
GST_STATIC_PAD_TEMPLATE ("sink_%u", GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS (GST_MMDNN_FEATURES_CAPS_TEMPLATE
        ("{ video, audio, text }")));

static GstStaticPadTemplate label_template =
GST_STATIC_PAD_TEMPLATE ("label", GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS ("text/x-raw, format=(string){ utf8, pango-markup }"));

static GstStaticPadTemplate src_template =
GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("text/x-raw, format=(string)utf8; "
        GST_MMDNN_FEATURES_CAPS_TEMPLATE ("fused")));

G_DEFINE_TYPE_WITH_CODE (GstMmdnnTrain, gst_mmdnn_train, GST_TYPE_AGGREGATOR,
    G_IMPLEMENT_INTERFACE (GST_TYPE_CHILD_PROXY,
        gst_mmdnn_child_proxy_sink_pads_init));
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (mmdnntrain, "mmdnntrain",
    GST_RANK_NONE, GST_TYPE_MMDNN_TRAIN, mmdnn_element_init (plugin));

static const GstMmdnnWindowFuncs window_funcs;

static gboolean gst_mmdnn_train_start (GstAggregator *agg);
static gboolean gst_mmdnn_train_stop (GstAggregator *agg);
static GstFlowReturn gst_mmdnn_train_flush (GstAggregator *agg);
static GstClockTime gst_mmdnn_train_get_next_time (GstAggregator *agg);
static GstFlowReturn gst_mmdnn_train_aggregate (GstAggregator *agg,
    gboolean timeout);
static gboolean gst_mmdnn_train_sink_event (GstAggregator *agg,
    GstAggregatorPad *aggpad, GstEvent *event);
static gboolean gst_mmdnn_train_sink_query (GstAggregator *agg,
    GstAggregatorPad *aggpad, GstQuery *query);
static GstFlowReturn gst_mmdnn_train_update_src_caps (GstAggregator *agg,
    GstCaps *caps, GstCaps **ret);
static gboolean gst_mmdnn_train_negotiated_src_caps (GstAggregator *agg,
    GstCaps *caps);
static gboolean gst_mmdnn_train_propose_allocation (GstAggregator *agg,
    GstAggregatorPad *pad, GstQuery *decide_query, GstQuery *query);
static gboolean gst_mmdnn_train_src_activate (GstAggregator *agg,
    GstPadMode mode, gboolean active);
static GstAggregatorPad *gst_mmdnn_train_create_new_pad (GstAggregator *agg,
    GstPadTemplate *templ, const gchar *req_name, const GstCaps *caps);
static GstPad *gst_mmdnn_train_request_new_pad (GstElement *element,
    GstPadTemplate *templ, const gchar *name, const GstCaps *caps);
static GstStateChangeReturn gst_mmdnn_train_change_state (GstElement *element,
    GstStateChange transition);
static void gst_mmdnn_train_release_pad (GstElement *element, GstPad *pad);
static gpointer train_worker (gpointer data);

static void
gst_mmdnn_train_finalize (GObject *object)
{
  GstMmdnnTrain *self = GST_MMDNN_TRAIN (object);

  g_free (self->model_path);
  g_free (self->publish_to);
  g_free (self->config_path);
  g_free (self->checkpoint);
  g_free (self->out);
  g_free (self->loss_weights);
  g_free (self->label);
  g_mutex_clear (&self->q.lock);
  g_cond_clear (&self->q.cond);
  G_OBJECT_CLASS (gst_mmdnn_train_parent_class)->finalize (object);
}

static void
set_string (GstMmdnnTrain *self, gchar **field, const GValue *value)
{
  GST_OBJECT_LOCK (self);
  g_free (*field);
  *field = g_value_dup_string (value);
  GST_OBJECT_UNLOCK (self);
}

static void
gst_mmdnn_train_set_property (GObject *object, guint prop_id,
    const GValue *value, GParamSpec *pspec)
{
  GstMmdnnTrain *self = GST_MMDNN_TRAIN (object);

  switch (prop_id) {
    case PROP_MODEL:
      set_string (self, &self->model_path, value);
      break;
    case PROP_PUBLISH_TO:
      set_string (self, &self->publish_to, value);
      break;
    case PROP_CONFIG:
      set_string (self, &self->config_path, value);
      break;
    case PROP_CHECKPOINT:
      set_string (self, &self->checkpoint, value);
      break;
    case PROP_OUT:
      set_string (self, &self->out, value);
      break;
    case PROP_LOSS_WEIGHTS:
      set_string (self, &self->loss_weights, value);
      break;
    case PROP_LABEL:
      GST_OBJECT_LOCK (self);
      g_free (self->label);
      self->label = g_value_dup_string (value);
      self->label_changed = TRUE;
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_CHECKPOINT_INTERVAL:
      GST_OBJECT_LOCK (self);
      self->checkpoint_interval = g_value_get_uint (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_RESUME:
      GST_OBJECT_LOCK (self);
      self->resume = g_value_get_boolean (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_BATCH_SIZE:
      GST_OBJECT_LOCK (self);
      self->batch_size = g_value_get_uint (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_QUEUE_SIZE:
      GST_OBJECT_LOCK (self);
      self->queue_size = g_value_get_uint (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_LEARNING_RATE:
      GST_OBJECT_LOCK (self);
      self->learning_rate = g_value_get_double (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_OPTIMIZER:
      GST_OBJECT_LOCK (self);
      self->optimizer = g_value_get_enum (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_VIRTUAL_DATA:
      GST_OBJECT_LOCK (self);
      self->virtual_data = g_value_get_boolean (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_TOTAL_STEPS:
      GST_OBJECT_LOCK (self);
      self->total_steps = g_value_get_uint64 (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_PUBLISH_INTERVAL:
      GST_OBJECT_LOCK (self);
      self->publish_interval = g_value_get_uint (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_MESSAGE_INTERVAL:
      GST_OBJECT_LOCK (self);
      self->message_interval = g_value_get_uint (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_SEED:
      GST_OBJECT_LOCK (self);
      self->seed = g_value_get_uint64 (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_LEAKY:
      GST_OBJECT_LOCK (self);
      self->leaky = g_value_get_enum (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_WINDOW:
      GST_OBJECT_LOCK (self);
      self->window = g_value_get_uint64 (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_HOP:
      GST_OBJECT_LOCK (self);
      self->hop = g_value_get_uint64 (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_EPOCH_SIZE:
      GST_OBJECT_LOCK (self);
      self->epoch_size = g_value_get_uint64 (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_STEP_DELAY:
      GST_OBJECT_LOCK (self);
      self->step_delay = g_value_get_uint64 (value);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_mmdnn_train_get_property (GObject *object, guint prop_id, GValue *value,
    GParamSpec *pspec)
{
  GstMmdnnTrain *self = GST_MMDNN_TRAIN (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL:
      g_value_set_string (value, self->model_path);
      break;
    case PROP_PUBLISH_TO:
      g_value_set_string (value, self->publish_to);
      break;
    case PROP_CONFIG:
      g_value_set_string (value, self->config_path);
      break;
    case PROP_CHECKPOINT:
      g_value_set_string (value, self->checkpoint);
      break;
    case PROP_OUT:
      g_value_set_string (value, self->out);
      break;
    case PROP_LOSS_WEIGHTS:
      g_value_set_string (value, self->loss_weights);
      break;
    case PROP_LABEL:
      g_value_set_string (value, self->label);
      break;
    case PROP_CHECKPOINT_INTERVAL:
      g_value_set_uint (value, self->checkpoint_interval);
      break;
    case PROP_RESUME:
      g_value_set_boolean (value, self->resume);
      break;
    case PROP_BATCH_SIZE:
      g_value_set_uint (value, self->batch_size);
      break;
    case PROP_QUEUE_SIZE:
      g_value_set_uint (value, self->queue_size);
      break;
    case PROP_LEARNING_RATE:
      g_value_set_double (value, self->learning_rate);
      break;
    case PROP_OPTIMIZER:
      g_value_set_enum (value, self->optimizer);
      break;
    case PROP_VIRTUAL_DATA:
      g_value_set_boolean (value, self->virtual_data);
      break;
    case PROP_TOTAL_STEPS:
      g_value_set_uint64 (value, self->total_steps);
      break;
    case PROP_PUBLISH_INTERVAL:
      g_value_set_uint (value, self->publish_interval);
      break;
    case PROP_MESSAGE_INTERVAL:
      g_value_set_uint (value, self->message_interval);
      break;
    case PROP_SEED:
      g_value_set_uint64 (value, self->seed);
      break;
    case PROP_LEAKY:
      g_value_set_enum (value, self->leaky);
      break;
    case PROP_WINDOW:
      g_value_set_uint64 (value, self->window);
      break;
    case PROP_HOP:
      g_value_set_uint64 (value, self->hop);
      break;
    case PROP_EPOCH_SIZE:
      g_value_set_uint64 (value, self->epoch_size);
      break;
    case PROP_STEP_DELAY:
      g_value_set_uint64 (value, self->step_delay);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

#define RW_READY (G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY | \
    G_PARAM_STATIC_STRINGS)

static void
gst_mmdnn_train_class_init (GstMmdnnTrainClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstAggregatorClass *agg_class = GST_AGGREGATOR_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (mmdnn_train_debug, "mmdnntrain", 0,
      "mmdnn on-line training");

  gobject_class->finalize = gst_mmdnn_train_finalize;
  gobject_class->set_property = gst_mmdnn_train_set_property;
  gobject_class->get_property = gst_mmdnn_train_get_property;

  /**
   * GstMmdnnTrain:model:
   *
   * The model file (safetensors) whose weights a new run starts from,
   * taken from the model registry (so the version another trainer in the
   * process last published, if any). NULL: a fresh model of
   * #GstMmdnnTrain:config. Also the default of #GstMmdnnTrain:publish-to.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_MODEL,
      g_param_spec_string ("model", "Model",
          "Model file to start from (NULL: a fresh model of 'config')",
          DEFAULT_MODEL, RW_READY));
  /**
   * GstMmdnnTrain:publish-to:
   *
   * The model file whose registry entry receives the trained weights: the
   * mmdnnfuse and encoders of this process whose `model` names the same
   * file (or is unset, for the default model) switch to them at their next
   * buffer. The output is computed with it too. NULL: #GstMmdnnTrain:model,
   * or the default model when that is unset. The file is only read.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_PUBLISH_TO,
      g_param_spec_string ("publish-to", "Publish to",
          "Model file whose in-process users get the trained weights "
          "(NULL: 'model', else the default model)", DEFAULT_PUBLISH_TO,
          RW_READY));
  /**
   * GstMmdnnTrain:config:
   *
   * A JSON model config file (docs/model-config.md) for a fresh model when
   * #GstMmdnnTrain:model is unset; NULL: the default architecture. Setting
   * both is an error.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_CONFIG,
      g_param_spec_string ("config", "Config",
          "JSON model config of a fresh model (NULL: the default)",
          DEFAULT_CONFIG, RW_READY));
  /**
   * GstMmdnnTrain:checkpoint:
   *
   * Where checkpoints are written (atomically) every
   * #GstMmdnnTrain:checkpoint-interval steps and at EOS, and read from
   * with #GstMmdnnTrain:resume. NULL: no checkpoints.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_CHECKPOINT,
      g_param_spec_string ("checkpoint", "Checkpoint",
          "Checkpoint file (NULL: none)", DEFAULT_CHECKPOINT, RW_READY));
  /**
   * GstMmdnnTrain:out:
   *
   * The final model file, written at EOS. NULL: derived from
   * #GstMmdnnTrain:checkpoint (without its ".ckpt" suffix, or with
   * ".safetensors" appended); none if that is unset too.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_OUT,
      g_param_spec_string ("out", "Out",
          "Final model file written at EOS (NULL: from 'checkpoint')",
          DEFAULT_OUT, RW_READY));
  /**
   * GstMmdnnTrain:checkpoint-interval:
   *
   * Optimiser steps between checkpoints (at steps that are multiples of
   * it); 0: only at EOS.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_CHECKPOINT_INTERVAL,
      g_param_spec_uint ("checkpoint-interval", "Checkpoint interval",
          "Steps between checkpoints (0: only at EOS)", 0, G_MAXUINT,
          DEFAULT_CHECKPOINT_INTERVAL, RW_READY));
  /**
   * GstMmdnnTrain:resume:
   *
   * Continue the run of #GstMmdnnTrain:checkpoint exactly (weights,
   * optimiser state, step, RNG, config) when that file exists; when it
   * does not, start a new run as without it.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_RESUME,
      g_param_spec_boolean ("resume", "Resume",
          "Continue from the checkpoint when it exists", DEFAULT_RESUME,
          RW_READY));
  /**
   * GstMmdnnTrain:batch-size:
   *
   * Samples per optimiser step (`mmdnn train --batch`).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_BATCH_SIZE,
      g_param_spec_uint ("batch-size", "Batch size",
          "Samples per optimiser step", 1, MAX_BATCH, DEFAULT_BATCH_SIZE,
          RW_READY));
  /**
   * GstMmdnnTrain:queue-size:
   *
   * Samples that can wait for the worker (at least the batch size is
   * used); when full, see #GstMmdnnTrain:leaky.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_QUEUE_SIZE,
      g_param_spec_uint ("queue-size", "Queue size",
          "Samples waiting for the training thread (at least batch-size)", 1,
          MAX_QUEUE, DEFAULT_QUEUE_SIZE, RW_READY));
  /**
   * GstMmdnnTrain:learning-rate:
   *
   * Base learning rate of a new run (optim.lr); 0: the config's. The
   * schedule (warm-up, cosine decay to optim.min_lr, capped at this rate)
   * applies to it.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_LEARNING_RATE,
      g_param_spec_double ("learning-rate", "Learning rate",
          "Base learning rate (0: the config's)", 0.0, 1e3,
          DEFAULT_LEARNING_RATE, RW_READY));
  /**
   * GstMmdnnTrain:optimizer:
   *
   * Optimiser of a new run; `config`: the model config's. Changing it
   * keeps the config's learning rate and weight decay.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_OPTIMIZER,
      g_param_spec_enum ("optimizer", "Optimizer", "Optimiser of a new run",
          GST_TYPE_MMDNN_TRAIN_OPTIMIZER, DEFAULT_OPTIMIZER, RW_READY));
  /**
   * GstMmdnnTrain:loss-weights:
   *
   * Loss weights of a new run, over the config's: `NAME=WEIGHT` pairs
   * separated by ',' or ';', NAME one of `aux`, `recon`, `adv`, `nce` or
   * a task name (its cross-entropy), e.g. `recon=0.5,adv=0`. A weight
   * switched between 0 and non-zero for `aux` or `adv` adds or removes
   * parameters: the model then no longer fits a
   * #GstMmdnnTrain:publish-to model of the other kind. NULL: the
   * config's.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_LOSS_WEIGHTS,
      g_param_spec_string ("loss-weights", "Loss weights",
          "NAME=WEIGHT,... over the config's (aux, recon, adv, nce, tasks)",
          DEFAULT_LOSS_WEIGHTS, RW_READY));
  /**
   * GstMmdnnTrain:virtual-data:
   *
   * Use the config's virtual data (mixup, modality recombination and
   * dropout, perturbed latents) in a new run; FALSE turns it all off.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_VIRTUAL_DATA,
      g_param_spec_boolean ("virtual-data", "Virtual data",
          "Use the config's virtual data (FALSE: none)", DEFAULT_VIRTUAL_DATA,
          RW_READY));
  /**
   * GstMmdnnTrain:total-steps:
   *
   * Length of the learning-rate schedule of a new run (optim.total_steps;
   * the warm-up is cut to a tenth of it, as `mmdnn train` does when it
   * sizes the schedule to a run); 0: the config's. Training goes on past
   * it at the minimum rate.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_TOTAL_STEPS,
      g_param_spec_uint64 ("total-steps", "Total steps",
          "Learning-rate schedule length (0: the config's)", 0,
          G_GINT64_CONSTANT (1) << 62, DEFAULT_TOTAL_STEPS, RW_READY));
  /**
   * GstMmdnnTrain:publish-interval:
   *
   * Optimiser steps between publications of the weights to the registry
   * (at steps that are multiples of it; also at the start and at EOS); 0:
   * never publish.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_PUBLISH_INTERVAL,
      g_param_spec_uint ("publish-interval", "Publish interval",
          "Steps between publications of the weights (0: never)", 0,
          G_MAXUINT, DEFAULT_PUBLISH_INTERVAL, RW_READY));
  /**
   * GstMmdnnTrain:message-interval:
   *
   * Optimiser steps between `mmdnn-train` messages; 0: only the final one.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_MESSAGE_INTERVAL,
      g_param_spec_uint ("message-interval", "Message interval",
          "Steps between mmdnn-train messages (0: only at EOS)", 0,
          G_MAXUINT, DEFAULT_MESSAGE_INTERVAL, RW_READY));
  /**
   * GstMmdnnTrain:seed:
   *
   * Seed of a fresh model's weights and of its random stream (virtual
   * data), as `mmdnn train --seed`.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_SEED,
      g_param_spec_uint64 ("seed", "Seed", "Seed of a fresh model", 0,
          G_MAXINT64, DEFAULT_SEED, RW_READY));
  /**
   * GstMmdnnTrain:leaky:
   *
   * What a window does when the training queue is full: `auto` drops it
   * in a live pipeline and waits for room otherwise, `no` always waits,
   * `yes` always drops. Dropped windows are counted in the messages.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_LEAKY,
      g_param_spec_enum ("leaky", "Leaky", "When the queue is full: drop "
          "the window or wait", GST_TYPE_MMDNN_TRAIN_LEAKY, DEFAULT_LEAKY,
          RW_READY));
  /**
   * GstMmdnnTrain:label:
   *
   * A constant label for the windows the label pad does not label, in the
   * syntax of a label cue: `Sneaker` (the first task) or
   * `class=Sneaker;speaker_gender=female`. NULL or "": none. Can be changed
   * while PLAYING (e.g. by an application that knows what the camera sees
   * now): takes effect at the next window.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_LABEL,
      g_param_spec_string ("label", "Label",
          "Label of the windows without a label cue (NULL: none)",
          DEFAULT_LABEL, G_PARAM_READWRITE | GST_PARAM_MUTABLE_PLAYING |
          G_PARAM_STATIC_STRINGS));
  /**
   * GstMmdnnTrain:window:
   *
   * Length of a window of running time (ns): one sample per window, as
   * mmdnnfuse's window (use the clip length of the data set the model is
   * evaluated on). Also the latency the element reports.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_WINDOW,
      g_param_spec_uint64 ("window", "Window",
          "Length of a window of running time (ns)", MIN_WINDOW, MAX_WINDOW,
          DEFAULT_WINDOW, RW_READY));
  /**
   * GstMmdnnTrain:hop:
   *
   * Running time between the starts of two windows (ns); 0: the window.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_HOP,
      g_param_spec_uint64 ("hop", "Hop",
          "Running time between window starts (ns), 0 = window", 0,
          MAX_WINDOW, DEFAULT_HOP, RW_READY));
  /**
   * GstMmdnnTrain:epoch-size:
   *
   * Samples that make one epoch, for the `epoch` field of the messages;
   * 0: the windows in the duration upstream reports (none when live).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_EPOCH_SIZE,
      g_param_spec_uint64 ("epoch-size", "Epoch size",
          "Samples per epoch for the messages (0: from the duration)", 0,
          G_MAXUINT64, DEFAULT_EPOCH_SIZE, RW_READY));
  /**
   * GstMmdnnTrain:step-delay:
   *
   * For testing: sleep this long (ns) after every optimiser step, to make
   * a slow trainer.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_STEP_DELAY,
      g_param_spec_uint64 ("step-delay", "Step delay",
          "Debugging: sleep after every step (ns)", 0, 60 * GST_SECOND,
          DEFAULT_STEP_DELAY, RW_READY));

  gst_element_class_add_static_pad_template_with_gtype (element_class,
      &sink_template, GST_TYPE_MMDNN_TRAIN_PAD);
  gst_element_class_add_static_pad_template_with_gtype (element_class,
      &label_template, GST_TYPE_MMDNN_TRAIN_LABEL_PAD);
  gst_element_class_add_static_pad_template_with_gtype (element_class,
      &src_template, GST_TYPE_AGGREGATOR_PAD);
  gst_element_class_set_static_metadata (element_class,
      "mmdnn on-line training", "Filter/Analyzer/Aggregator",
      "Trains the multimodal model on labelled windows of features and "
      "publishes the new weights to the running pipeline",
      "mmdnn developers <dev@mmdnn.invalid>");

  element_class->request_new_pad =
      GST_DEBUG_FUNCPTR (gst_mmdnn_train_request_new_pad);
  element_class->release_pad = GST_DEBUG_FUNCPTR (gst_mmdnn_train_release_pad);
  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_mmdnn_train_change_state);

  agg_class->start = GST_DEBUG_FUNCPTR (gst_mmdnn_train_start);
  agg_class->stop = GST_DEBUG_FUNCPTR (gst_mmdnn_train_stop);
  agg_class->flush = GST_DEBUG_FUNCPTR (gst_mmdnn_train_flush);
  agg_class->get_next_time = GST_DEBUG_FUNCPTR (gst_mmdnn_train_get_next_time);
  agg_class->aggregate = GST_DEBUG_FUNCPTR (gst_mmdnn_train_aggregate);
  agg_class->sink_event = GST_DEBUG_FUNCPTR (gst_mmdnn_train_sink_event);
  agg_class->sink_query = GST_DEBUG_FUNCPTR (gst_mmdnn_train_sink_query);
  agg_class->update_src_caps =
      GST_DEBUG_FUNCPTR (gst_mmdnn_train_update_src_caps);
  agg_class->fixate_src_caps =
      GST_DEBUG_FUNCPTR (gst_mmdnn_window_fixate_src_caps);
  agg_class->negotiated_src_caps =
      GST_DEBUG_FUNCPTR (gst_mmdnn_train_negotiated_src_caps);
  agg_class->propose_allocation =
      GST_DEBUG_FUNCPTR (gst_mmdnn_train_propose_allocation);
  agg_class->src_activate = GST_DEBUG_FUNCPTR (gst_mmdnn_train_src_activate);
  agg_class->create_new_pad =
      GST_DEBUG_FUNCPTR (gst_mmdnn_train_create_new_pad);

  gst_type_mark_as_plugin_api (GST_TYPE_MMDNN_FEATURES_PAD, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_MMDNN_TRAIN_PAD, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_MMDNN_TRAIN_LABEL_PAD, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_MMDNN_TRAIN_OPTIMIZER, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_MMDNN_TRAIN_LEAKY, 0);
}

static void
gst_mmdnn_train_init (GstMmdnnTrain *self)
{
  self->checkpoint_interval = DEFAULT_CHECKPOINT_INTERVAL;
  self->resume = DEFAULT_RESUME;
  self->batch_size = DEFAULT_BATCH_SIZE;
  self->queue_size = DEFAULT_QUEUE_SIZE;
  self->learning_rate = DEFAULT_LEARNING_RATE;
  self->optimizer = DEFAULT_OPTIMIZER;
  self->virtual_data = DEFAULT_VIRTUAL_DATA;
  self->total_steps = DEFAULT_TOTAL_STEPS;
  self->publish_interval = DEFAULT_PUBLISH_INTERVAL;
  self->message_interval = DEFAULT_MESSAGE_INTERVAL;
  self->seed = DEFAULT_SEED;
  self->leaky = DEFAULT_LEAKY;
  self->window = DEFAULT_WINDOW;
  self->hop = DEFAULT_HOP;
  self->epoch_size = DEFAULT_EPOCH_SIZE;
  self->step_delay = DEFAULT_STEP_DELAY;
  gst_mmdnn_window_clock_reset (&self->clock);
  self->out_text = TRUE;
  g_mutex_init (&self->q.lock);
  g_cond_init (&self->q.cond);
}

/* --------------------------------------------------------- child proxy */

/* The label pad is named "label"; the base class names every pad it
 * makes sink_N. */
static GstAggregatorPad *
gst_mmdnn_train_create_new_pad (GstAggregator *agg, GstPadTemplate *templ,
    const gchar *req_name, const GstCaps *caps)
{
  if (GST_PAD_TEMPLATE_GTYPE (templ) == GST_TYPE_MMDNN_TRAIN_LABEL_PAD) {
    GstPad *old = gst_element_get_static_pad (GST_ELEMENT (agg), "label");

    if (old != NULL) {
      GST_WARNING_OBJECT (agg, "there is one label pad already");
      gst_object_unref (old);
      return NULL;
    }
    return g_object_new (GST_TYPE_MMDNN_TRAIN_LABEL_PAD, "name", "label",
        "direction", GST_PAD_SINK, "template", templ, NULL);
  }
  return GST_AGGREGATOR_CLASS (gst_mmdnn_train_parent_class)->create_new_pad
      (agg, templ, req_name, caps);
}

static GstPad *
gst_mmdnn_train_request_new_pad (GstElement *element, GstPadTemplate *templ,
    const gchar *name, const GstCaps *caps)
{
  return gst_mmdnn_child_proxy_request_pad (GST_ELEMENT_CLASS
      (gst_mmdnn_train_parent_class), element, templ, name, caps);
}

static void
gst_mmdnn_train_release_pad (GstElement *element, GstPad *pad)
{
  gst_mmdnn_child_proxy_release_pad (GST_ELEMENT_CLASS
      (gst_mmdnn_train_parent_class), element, pad);
}

/* --------------------------------------------------------------- labels */

static void
markup_text (GMarkupParseContext *ctx, const gchar *text, gsize len,
    gpointer user_data, GError **error)
{
  g_string_append_len (user_data, text, (gssize) len);
}

/* The text of pango markup (tags dropped, entities decoded); the text as
 * is when it is not well-formed markup. */
static gchar *
strip_markup (const gchar *s, gsize len)
{
  GMarkupParser parser = { NULL, NULL, markup_text, NULL, NULL };
  GString *out = g_string_new (NULL);
  GMarkupParseContext *ctx = g_markup_parse_context_new (&parser, 0, out,
      NULL);
  gboolean ok = g_markup_parse_context_parse (ctx, "<m>", 3, NULL)
      && g_markup_parse_context_parse (ctx, s, (gssize) len, NULL)
      && g_markup_parse_context_parse (ctx, "</m>", 4, NULL)
      && g_markup_parse_context_end_parse (ctx, NULL);

  g_markup_parse_context_free (ctx);
  if (!ok) {
    g_string_free (out, TRUE);
    return g_strndup (s, len);
  }
  return g_string_free (out, FALSE);
}

static int
find_task (const MmdnnModelConfig *c, const gchar *name)
{
  for (int t = 0; t < c->n_tasks; t++)
    if (strcmp (c->tasks[t].name, name) == 0)
      return t;
  return -1;
}

static gchar *
task_list (const MmdnnModelConfig *c)
{
  GString *s = g_string_new (NULL);

  for (int t = 0; t < c->n_tasks; t++)
    g_string_append_printf (s, "%s%s", t ? ", " : "", c->tasks[t].name);
  return g_string_free (s, FALSE);
}

static gchar *
class_list (const MmdnnTask *task)
{
  GString *s = g_string_new (NULL);

  for (gint64 k = 0; k < task->n_classes; k++)
    g_string_append_printf (s, "%s\"%s\"", k ? ", " : "", task->classes[k]);
  return g_string_free (s, FALSE);
}

/* Reads labels ("CLASS" of @default_task, or "TASK=CLASS" / "TASK: CLASS",
 * separated by new lines or ';') into @labels (−1 where none); returns
 * how many were set, or −1 with *why (translated, transfer full). */
static gint
parse_labels (const MmdnnModelConfig *c, int default_task, const gchar *text,
    gint32 *labels, gchar **why)
{
  gchar **items = g_strsplit_set (text, "\n;", -1);
  gint n = 0;

  for (int t = 0; t < MMDNN_MAX_TASKS; t++)
    labels[t] = -1;
  *why = NULL;
  for (gchar **it = items; *it != NULL; it++) {
    gchar *item = g_strstrip (*it), *value = item;
    const gchar *sep = strpbrk (item, "=:");
    int task = default_task;
    gint64 k;

    if (*item == '\0')
      continue;
    if (sep != NULL) {
      gchar *name = g_strstrip (g_strndup (item, (gsize) (sep - item)));
      int t = find_task (c, name);

      g_free (name);
      if (t >= 0) {
        task = t;
        value = g_strstrip ((gchar *) sep + 1);
      }
    }
    for (k = 0; k < c->tasks[task].n_classes; k++)
      if (strcmp (c->tasks[task].classes[k], value) == 0)
        break;
    if (k == c->tasks[task].n_classes) {
      gchar *classes = class_list (&c->tasks[task]);
      gchar *tasks = task_list (c);

      *why = g_strdup_printf (_("\"%s\" is not a class of the task \"%s\" "
              "of the model \"%s\" (its classes: %s; a label may also name "
              "its task as TASK=CLASS, tasks: %s)"), value,
          c->tasks[task].name, c->model_id, classes, tasks);
      g_free (classes);
      g_free (tasks);
      n = -1;
      break;
    }
    if (labels[task] < 0)
      n++;
    labels[task] = (gint32) k;
  }
  g_strfreev (items);
  return n;
}

/* ------------------------------------------------------- model building */

static gchar *
read_text_file (const gchar *path, GError **error)
{
  gchar *text = NULL;
  gsize len = 0;
  GStatBuf sb;

  if (g_stat (path, &sb) == 0 && sb.st_size > MAX_CONFIG_BYTES) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_IO, "%s: larger than %d "
        "MiB: not a model config", path, MAX_CONFIG_BYTES >> 20);
    return NULL;
  }
  if (!g_file_get_contents (path, &text, &len, error))
    return NULL;
  return text;
}

/* The loss-weights property over @c; FALSE with a (translated) reason. */
static gboolean
apply_loss_weights (MmdnnModelConfig *c, const gchar *spec, gchar **why)
{
  gchar **items;
  gboolean ok = TRUE;

  if (spec == NULL || *spec == '\0')
    return TRUE;
  items = g_strsplit_set (spec, ",;", -1);
  for (gchar **it = items; ok && *it != NULL; it++) {
    gchar *item = g_strstrip (*it), *eq, *end = NULL, *name;
    double w = 0;
    int t;

    if (*item == '\0')
      continue;
    eq = strchr (item, '=');
    if (eq != NULL)
      w = g_ascii_strtod (eq + 1, &end);
    if (eq == NULL || end == eq + 1 || *g_strstrip (end) != '\0'
        || !isfinite (w) || w < 0 || w > G_MAXFLOAT) {
      *why = g_strdup_printf (_("loss-weights: \"%s\" is not NAME=WEIGHT "
              "with a weight ≥ 0"), item);
      ok = FALSE;
      break;
    }
    name = g_strstrip (g_strndup (item, (gsize) (eq - item)));
    if (strcmp (name, "aux") == 0)
      c->w_aux = (float) w;
    else if (strcmp (name, "recon") == 0)
      c->w_recon = (float) w;
    else if (strcmp (name, "adv") == 0)
      c->w_adv = (float) w;
    else if (strcmp (name, "nce") == 0)
      c->w_nce = (float) w;
    else if ((t = find_task (c, name)) >= 0)
      c->tasks[t].weight = (float) w;
    else {
      gchar *tasks = task_list (c);

      *why = g_strdup_printf (_("loss-weights: \"%s\" is neither aux, "
              "recon, adv, nce nor a task of the model (%s)"), name, tasks);
      g_free (tasks);
      ok = FALSE;
    }
    g_free (name);
  }
  g_strfreev (items);
  return ok;
}

/* The settings properties of a new run over @c. */
static gboolean
apply_overrides (GstMmdnnTrain *self, MmdnnModelConfig *c, gchar **why)
{
  gdouble lr;
  GstMmdnnTrainOptimizer opt;
  gboolean vd;
  guint64 total;
  gchar *weights;
  gboolean ok;

  GST_OBJECT_LOCK (self);
  lr = self->learning_rate;
  opt = self->optimizer;
  vd = self->virtual_data;
  total = self->total_steps;
  weights = g_strdup (self->loss_weights);
  GST_OBJECT_UNLOCK (self);

  if (lr > 0) {
    c->optim.lr = (float) lr;
    if (c->min_lr > c->optim.lr)
      c->min_lr = c->optim.lr;
  }
  if (opt == GST_MMDNN_TRAIN_OPTIMIZER_ADAMW)
    mmdnn_optim_config_init_adamw (&c->optim, c->optim.lr,
        c->optim.weight_decay);
  else if (opt == GST_MMDNN_TRAIN_OPTIMIZER_SGD)
    mmdnn_optim_config_init_sgd (&c->optim, c->optim.lr, 0.9f,
        c->optim.weight_decay);
  if (!vd) {
    c->mixup_alpha = 0.0f;
    c->p_recombine = 0.0f;
    c->p_modality_dropout = 0.0f;
    c->p_latent = 0.0f;
  }
  if (total > 0) {
    /* as `mmdnn train` sizes the schedule to a run */
    c->total_steps = (int64_t) total;
    if (c->warmup_steps > c->total_steps / 10)
      c->warmup_steps = c->total_steps / 10;
  }
  ok = apply_loss_weights (c, weights, why);
  g_free (weights);
  return ok;
}

/* (transfer full): a model of @m's config holding @m's weights, for the
 * registry (activations for one sample). */
static MmdnnModel *
copy_weights (const MmdnnModel *m, GError **error)
{
  MmdnnModel *c = mmdnn_model_new (m->config, 0, 1, error);

  if (c == NULL)
    return NULL;
  memcpy (c->params->values, m->params->values,
      sizeof (float) * (gsize) m->params->numel);
  c->step = m->step;
  return c;
}

/* @from's parameters into @to, by name (shapes must agree; a parameter
 * only @to has keeps its fresh value). */
static void
load_weights (MmdnnModel *to, const MmdnnModel *from)
{
  GPtrArray *params = to->params->params;

  for (guint i = 0; i < params->len; i++) {
    MmdnnParam *p = g_ptr_array_index (params, i);
    MmdnnParam *q = mmdnn_param_set_lookup (from->params, p->name);

    if (q != NULL && q->numel == p->numel)
      memcpy (p->value, q->value, sizeof (float) * (gsize) p->numel);
    else
      GST_INFO ("%s: not in the start model, freshly initialised", p->name);
  }
}

/* Can a file be created at @path (its folder exists and is writable)?
 * Checked before a run, not after it. */
static gboolean
check_writable (GstMmdnnTrain *self, const gchar *path, gboolean checkpoint)
{
  gchar *dir = g_path_get_dirname (path);
  const gchar *why = NULL;

  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    why = "is a directory";
  else if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    why = "its folder does not exist";
  else if (g_access (dir, W_OK) != 0)
    why = g_strerror (errno);
  if (why != NULL && checkpoint)
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
        (_("Could not write the checkpoint \"%s\"."), path),
        ("%s: %s", dir, why));
  else if (why != NULL)
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
        (_("Could not write the model file \"%s\"."), path),
        ("%s: %s", dir, why));
  g_free (dir);
  return why == NULL;
}

/* Removes what an atomic write of @path that was killed midway left: its
 * temporary files "<path>.tmp-XXXXXX" (mmdnn-core's naming). Nothing else
 * writes those names. */
static void
remove_stale_temps (GstMmdnnTrain *self, const gchar *path)
{
  gchar *dir = g_path_get_dirname (path), *base = g_path_get_basename (path);
  gchar *prefix = g_strconcat (base, ".tmp-", NULL);
  gsize len = strlen (prefix);
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL) {
    if (g_str_has_prefix (name, prefix) && strlen (name) == len + 6) {
      gchar *p = g_build_filename (dir, name, NULL);

      if (g_unlink (p) == 0)
        GST_INFO_OBJECT (self, "removed %s, left by an interrupted write", p);
      g_free (p);
    }
  }
  if (d != NULL)
    g_dir_close (d);
  g_free (prefix);
  g_free (base);
  g_free (dir);
}

/* The model a run trains (see the SECTION doc), NULL after posting an
 * error. *@publish_start: its weights are not the entry's already. */
static MmdnnModel *
make_model (GstMmdnnTrain *self, GstMmdnnModelEntry *entry, guint batch,
    gboolean *publish_start)
{
  gchar *model_path, *config_path, *ckpt, *why = NULL;
  gboolean resume;
  guint64 seed;
  MmdnnModel *m = NULL;
  MmdnnModelConfig *c = NULL;
  GError *err = NULL;

  GST_OBJECT_LOCK (self);
  model_path = g_strdup (self->model_path);
  config_path = g_strdup (self->config_path);
  ckpt = g_strdup (self->checkpoint);
  resume = self->resume;
  seed = self->seed;
  GST_OBJECT_UNLOCK (self);
  *publish_start = TRUE;

  if (model_path != NULL && *model_path == '\0')
    g_clear_pointer (&model_path, g_free);
  if (config_path != NULL && *config_path == '\0')
    g_clear_pointer (&config_path, g_free);

  if (resume && ckpt != NULL && g_file_test (ckpt, G_FILE_TEST_EXISTS)) {
    m = mmdnn_model_load_checkpoint (ckpt, batch, &err);
    if (m == NULL) {
      gst_mmdnn_post_error (GST_ELEMENT (self), err, ckpt);
      goto done;
    }
    GST_INFO_OBJECT (self, "resuming %s at step %" G_GINT64_FORMAT, ckpt,
        m->step);
    goto done;
  }
  if (resume)
    GST_INFO_OBJECT (self, "no checkpoint %s yet: a new run",
        GST_STR_NULL (ckpt));

  if (model_path != NULL && config_path != NULL) {
    GST_ELEMENT_ERROR (self, LIBRARY, SETTINGS,
        (_("Set either the model to start from or the config of a fresh "
                "model, not both.")),
        ("model=%s config=%s", model_path, config_path));
    goto done;
  }
  if (model_path != NULL) {
    GstMmdnnModelEntry *start = gst_mmdnn_registry_acquire (model_path, &err);
    GstMmdnnModelSnapshot *snap;

    if (start == NULL) {
      gst_mmdnn_post_error (GST_ELEMENT (self), err, model_path);
      goto done;
    }
    snap = gst_mmdnn_model_entry_snapshot (start);
    c = mmdnn_model_config_copy (snap->model->config);
    if (!apply_overrides (self, c, &why)) {
      GST_ELEMENT_ERROR (self, LIBRARY, SETTINGS, ("%s", why), (NULL));
    } else if ((m = mmdnn_model_new (c, seed, batch, &err)) == NULL) {
      gst_mmdnn_post_error (GST_ELEMENT (self), err, NULL);
    } else {
      load_weights (m, snap->model);
      *publish_start = start != entry;
    }
    gst_mmdnn_model_snapshot_unref (snap);
    gst_mmdnn_registry_release (start);
    goto done;
  }

  if (config_path != NULL) {
    gchar *json = read_text_file (config_path, &err);

    if (json == NULL) {
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
          (_("Could not read the model config \"%s\"."), config_path),
          ("%s", err->message));
      goto done;
    }
    c = mmdnn_model_config_from_json (json, -1, &err);
    g_free (json);
    if (c == NULL) {
      GST_ELEMENT_ERROR (self, LIBRARY, SETTINGS,
          (_("The model config \"%s\" is not valid: %s"), config_path,
              err->message), (NULL));
      goto done;
    }
  } else {
    c = mmdnn_model_config_new_default ();
  }
  if (!apply_overrides (self, c, &why)) {
    GST_ELEMENT_ERROR (self, LIBRARY, SETTINGS, ("%s", why), (NULL));
    goto done;
  }
  m = mmdnn_model_new (c, seed, batch, &err);
  if (m == NULL)
    GST_ELEMENT_ERROR (self, LIBRARY, SETTINGS,
        (_("Could not make a model of these settings: %s"), err->message),
        (NULL));

done:
  g_clear_error (&err);
  g_free (why);
  if (c != NULL)
    mmdnn_model_config_free (c);
  g_free (model_path);
  g_free (config_path);
  g_free (ckpt);
  return m;
}

/* ------------------------------------------------------------- vmethods */

static void
post_progress (GstMmdnnTrain *self, GstProgressType type, const gchar *text)
{
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_progress (GST_OBJECT (self), type, PROGRESS_CODE, text));
}

static void
queue_free_slabs (TrainQueue *q)
{
  g_clear_pointer (&q->video, g_free);
  g_clear_pointer (&q->audio, g_free);
  g_clear_pointer (&q->text, g_free);
  g_clear_pointer (&q->presence, g_free);
  g_clear_pointer (&q->labels, g_free);
}

static void
run_clear (TrainRun *run)
{
  g_clear_pointer (&run->checkpoint, g_free);
  g_clear_pointer (&run->out, g_free);
}

/* Frees what start () made; the worker is not running. */
static void
release_all (GstMmdnnTrain *self)
{
  GstMmdnnModelEntry *entry;
  MmdnnModelConfig *config;

  GST_OBJECT_LOCK (self);
  entry = self->entry;
  config = self->config;
  self->entry = NULL;
  self->config = NULL;
  GST_OBJECT_UNLOCK (self);

  mmdnn_fuse_stage_free (self->stage);
  self->stage = NULL;
  g_clear_pointer (&self->mask, g_free);
  g_clear_pointer (&self->entry_name, g_free);
  mmdnn_batch_free (self->batch);
  self->batch = NULL;
  mmdnn_model_free (self->model);
  self->model = NULL;
  queue_free_slabs (&self->q);
  run_clear (&self->run);
  if (config != NULL)
    mmdnn_model_config_free (config);
  gst_mmdnn_registry_release (entry);
}

static gboolean
gst_mmdnn_train_start (GstAggregator *agg)
{
  GstMmdnnTrain *self = GST_MMDNN_TRAIN (agg);
  TrainQueue *q = &self->q;
  TrainRun *run = &self->run;
  GstMmdnnModelSnapshot *snap;
  GError *err = NULL;
  gchar *path, *label, *why = NULL;
  const MmdnnModelConfig *mc;
  gint64 kmax = 1;
  guint qsize;
  gboolean publish_start;

  GST_OBJECT_LOCK (self);
  path = g_strdup (self->publish_to != NULL && *self->publish_to != '\0'
      ? self->publish_to : self->model_path);
  self->clock.window = self->window;
  self->clock.hop = self->hop != 0 ? self->hop : self->window;
  memset (run, 0, sizeof (*run));
  run->batch = self->batch_size;
  run->publish_interval = self->publish_interval;
  run->message_interval = self->message_interval;
  run->checkpoint_interval = self->checkpoint_interval;
  run->checkpoint = self->checkpoint != NULL && *self->checkpoint != '\0'
      ? g_strdup (self->checkpoint) : NULL;
  run->out = self->out != NULL && *self->out != '\0' ? g_strdup (self->out)
      : NULL;
  run->leaky = self->leaky;
  run->epoch_size = self->epoch_size;
  run->step_delay = self->step_delay;
  qsize = MAX (self->queue_size, self->batch_size);
  label = g_strdup (self->label);
  self->label_changed = FALSE;
  GST_OBJECT_UNLOCK (self);
  if (path == NULL || *path == '\0') {
    g_free (path);
    path = gst_mmdnn_default_model_path ();
  }
  if (run->out == NULL && run->checkpoint != NULL)
    run->out = g_str_has_suffix (run->checkpoint, ".ckpt")
        ? g_strndup (run->checkpoint, strlen (run->checkpoint) - 5)
        : g_strconcat (run->checkpoint, ".safetensors", NULL);

  /* the entry first: it is what the caps and labels are checked against */
  self->entry = gst_mmdnn_registry_acquire (path, &err);
  if (self->entry == NULL) {
    gst_mmdnn_post_error (GST_ELEMENT (self), err, path);
    g_clear_error (&err);
    g_free (path);
    g_free (label);
    run_clear (run);
    return FALSE;
  }
  self->entry_name = path;

  if ((run->checkpoint != NULL && !check_writable (self, run->checkpoint,
              TRUE))
      || (run->out != NULL && !check_writable (self, run->out, FALSE)))
    goto failed;
  if (run->checkpoint != NULL)
    remove_stale_temps (self, run->checkpoint);
  if (run->out != NULL)
    remove_stale_temps (self, run->out);

  self->model = make_model (self, self->entry, run->batch, &publish_start);
  if (self->model == NULL)
    goto failed;
  run->publish_start = publish_start;
  if (!gst_mmdnn_model_entry_check (self->entry, self->model, &err)) {
    GST_ELEMENT_ERROR (self, LIBRARY, SETTINGS,
        (_("The trained model does not fit the model \"%s\" the pipeline "
                "uses: its architecture, preprocessing, tasks or classes "
                "differ."), self->entry_name), ("%s", err->message));
    goto failed;
  }
  mc = self->model->config;
  self->batch = mmdnn_batch_new (mc, run->batch, &err);
  if (self->batch == NULL) {
    gst_mmdnn_post_error (GST_ELEMENT (self), err, NULL);
    goto failed;
  }

  snap = gst_mmdnn_model_entry_snapshot (self->entry);
  self->stage = mmdnn_fuse_stage_new (snap->model, 1, &err);
  if (self->stage == NULL) {
    gst_mmdnn_model_snapshot_unref (snap);
    gst_mmdnn_post_error (GST_ELEMENT (self), err, self->entry_name);
    goto failed;
  }
  for (int m = 0; m < MMDNN_N_MODALITIES; m++) {
    kmax = MAX (kmax, snap->model->config->fusion.tokens[m]);
    self->input_size[m] = mmdnn_model_config_input_size (mc, m);
  }
  self->mask = g_new0 (float, kmax);
  GST_OBJECT_LOCK (self);
  self->config = mmdnn_model_config_copy (snap->model->config);
  GST_OBJECT_UNLOCK (self);
  gst_mmdnn_model_snapshot_unref (snap);

  /* the constant label */
  if (label != NULL && parse_labels (mc, 0, label, self->prop_labels,
          &why) < 0) {
    GST_ELEMENT_ERROR (self, LIBRARY, SETTINGS,
        (_("The label property of mmdnntrain is not valid: %s."), why),
        (NULL));
    g_free (why);
    goto failed;
  }
  if (label == NULL)
    for (int t = 0; t < MMDNN_MAX_TASKS; t++)
      self->prop_labels[t] = -1;

  /* the queue */
  q->size = qsize;
  q->head = q->count = 0;
  if (self->input_size[MMDNN_MODALITY_VIDEO] > 0)
    q->video = g_try_new (float,
        (gsize) qsize * self->input_size[MMDNN_MODALITY_VIDEO]);
  if (self->input_size[MMDNN_MODALITY_AUDIO] > 0)
    q->audio = g_try_new (float,
        (gsize) qsize * self->input_size[MMDNN_MODALITY_AUDIO]);
  if (self->input_size[MMDNN_MODALITY_TEXT] > 0)
    q->text = g_try_new (gint32,
        (gsize) qsize * self->input_size[MMDNN_MODALITY_TEXT]);
  q->presence = g_new0 (float, (gsize) qsize * MMDNN_N_MODALITIES);
  q->labels = g_new0 (gint32, (gsize) qsize * mc->n_tasks);
  if ((self->input_size[MMDNN_MODALITY_VIDEO] > 0 && q->video == NULL)
      || (self->input_size[MMDNN_MODALITY_AUDIO] > 0 && q->audio == NULL)
      || (self->input_size[MMDNN_MODALITY_TEXT] > 0 && q->text == NULL)) {
    GST_ELEMENT_ERROR (self, CORE, FAILED, (NULL),
        ("no memory for a queue of %u samples", qsize));
    goto failed;
  }
  q->quit = q->flushing = q->failed = FALSE;
  q->drain_req = q->drain_done = 0;
  q->drain_ok = FALSE;
  q->dropped = q->unlabelled = q->epoch_windows = 0;
  memset (&self->stats, 0, sizeof (self->stats));
  self->duration_asked = FALSE;
  gst_mmdnn_window_clock_reset (&self->clock);

  GST_INFO_OBJECT (self, "training \"%s\" from step %" G_GINT64_FORMAT
      ", batches of %u, queue of %u, publishing to %s every %u steps",
      mc->model_id, self->model->step, run->batch, qsize, self->entry_name,
      run->publish_interval);
  self->running = TRUE;
  self->finished = FALSE;
  self->start_posted = FALSE;
  self->worker = g_thread_new ("mmdnntrain", train_worker, self);
  g_free (label);
  /* a result stamped with its window's start exists at the window's end */
  gst_aggregator_set_latency (agg, self->clock.window, self->clock.window);
  return TRUE;

failed:
  g_clear_error (&err);
  g_free (label);
  release_all (self);
  return FALSE;
}

static gboolean
gst_mmdnn_train_stop (GstAggregator *agg)
{
  GstMmdnnTrain *self = GST_MMDNN_TRAIN (agg);
  TrainQueue *q = &self->q;

  g_mutex_lock (&q->lock);
  q->quit = TRUE;
  q->flushing = TRUE;
  g_cond_broadcast (&q->cond);
  g_mutex_unlock (&q->lock);
  if (self->worker != NULL) {
    g_thread_join (self->worker);
    self->worker = NULL;
  }
  if (self->running && !self->finished) {
    gchar *step = g_strdup_printf ("%" G_GINT64_FORMAT,
        self->model != NULL ? self->model->step : 0);
    gchar *text = g_strdup_printf (_("Training stopped before the end of "
            "the stream, at step %s; nothing more was written."), step);

    post_progress (self, GST_PROGRESS_TYPE_CANCELED, text);
    g_free (text);
    g_free (step);
  }
  self->running = FALSE;
  release_all (self);
  gst_mmdnn_window_clock_reset (&self->clock);
  return TRUE;
}

/* PROGRESS start once the pipeline plays: gst-launch-1.0 waits for
 * progress that starts before PLAYING to complete, which a run does only
 * at EOS. */
static GstStateChangeReturn
gst_mmdnn_train_change_state (GstElement *element, GstStateChange transition)
{
  GstMmdnnTrain *self = GST_MMDNN_TRAIN (element);
  GstStateChangeReturn ret =
      GST_ELEMENT_CLASS (gst_mmdnn_train_parent_class)->change_state (element,
      transition);

  if (ret != GST_STATE_CHANGE_FAILURE
      && transition == GST_STATE_CHANGE_PAUSED_TO_PLAYING && self->running
      && !self->start_posted) {
    self->start_posted = TRUE;
    post_progress (self, GST_PROGRESS_TYPE_START, _("Training started."));
  }
  return ret;
}

static GstFlowReturn
gst_mmdnn_train_flush (GstAggregator *agg)
{
  GstMmdnnTrain *self = GST_MMDNN_TRAIN (agg);

  GST_DEBUG_OBJECT (self, "flush");
  gst_mmdnn_window_clock_reset (&self->clock);
  g_mutex_lock (&self->q.lock);
  self->q.flushing = FALSE;
  g_mutex_unlock (&self->q.lock);
  return GST_FLOW_OK;
}

/* Before the base class stops the streaming thread: let it out of a wait
 * for room or for the end of training. */
static gboolean
gst_mmdnn_train_src_activate (GstAggregator *agg, GstPadMode mode,
    gboolean active)
{
  GstMmdnnTrain *self = GST_MMDNN_TRAIN (agg);

  g_mutex_lock (&self->q.lock);
  self->q.flushing = !active;
  g_cond_broadcast (&self->q.cond);
  g_mutex_unlock (&self->q.lock);
  return TRUE;
}

static GstClockTime
gst_mmdnn_train_get_next_time (GstAggregator *agg)
{
  GstMmdnnTrain *self = GST_MMDNN_TRAIN (agg);

  return gst_mmdnn_window_clock_next_time (&self->clock, agg, &window_funcs);
}

/* ----------------------------------------------------------------- caps */

static gboolean
gst_mmdnn_train_sink_query (GstAggregator *agg, GstAggregatorPad *aggpad,
    GstQuery *query)
{
  GstMmdnnTrain *self = GST_MMDNN_TRAIN (agg);

  if (GST_IS_MMDNN_TRAIN_PAD (aggpad)
      && gst_mmdnn_features_pad_sink_query (GST_MMDNN_FEATURES_PAD (aggpad),
          GST_ELEMENT (self), &self->config, query))
    return TRUE;
  return GST_AGGREGATOR_CLASS (gst_mmdnn_train_parent_class)->sink_query
      (agg, aggpad, query);
}

static gboolean
gst_mmdnn_train_propose_allocation (GstAggregator *agg, GstAggregatorPad *pad,
    GstQuery *decide_query, GstQuery *query)
{
  /* the encoders attach their inputs: what training needs */
  if (GST_IS_MMDNN_TRAIN_PAD (pad))
    gst_query_add_allocation_meta (query, GST_MMDNN_INPUT_META_API_TYPE,
        NULL);
  return TRUE;
}

static gboolean
gst_mmdnn_train_sink_event (GstAggregator *agg, GstAggregatorPad *aggpad,
    GstEvent *event)
{
  GstMmdnnTrain *self = GST_MMDNN_TRAIN (agg);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS:{
      GstCaps *caps;

      gst_event_parse_caps (event, &caps);
      if (GST_IS_MMDNN_TRAIN_PAD (aggpad)) {
        if (!gst_mmdnn_features_pad_set_caps (GST_MMDNN_FEATURES_PAD
                (aggpad), GST_ELEMENT (self), &self->config, caps)) {
          gst_event_unref (event);
          return FALSE;
        }
      } else if (GST_IS_MMDNN_TRAIN_LABEL_PAD (aggpad)) {
        const gchar *format = gst_structure_get_string
            (gst_caps_get_structure (caps, 0), "format");

        GST_MMDNN_TRAIN_LABEL_PAD (aggpad)->markup =
            g_strcmp0 (format, "pango-markup") == 0;
      }
      break;
    }
    case GST_EVENT_FLUSH_START:
      /* out of a wait for room first: the base class then waits for the
       * streaming thread */
      g_mutex_lock (&self->q.lock);
      self->q.flushing = TRUE;
      g_cond_broadcast (&self->q.cond);
      g_mutex_unlock (&self->q.lock);
      break;
    default:
      break;
  }
  return GST_AGGREGATOR_CLASS (gst_mmdnn_train_parent_class)->sink_event (agg,
      aggpad, event);
}

static GstFlowReturn
gst_mmdnn_train_update_src_caps (GstAggregator *agg, GstCaps *downstream,
    GstCaps **ret)
{
  return gst_mmdnn_window_update_src_caps (agg,
      &GST_MMDNN_TRAIN (agg)->config, downstream, ret);
}

static gboolean
gst_mmdnn_train_negotiated_src_caps (GstAggregator *agg, GstCaps *caps)
{
  GstMmdnnTrain *self = GST_MMDNN_TRAIN (agg);

  self->out_text = gst_mmdnn_window_caps_are_text (caps);
  return TRUE;
}

/* ------------------------------------------------------- window buffers */

static GstMmdnnWindowRing *
train_ring (GstAggregator *agg, GstAggregatorPad *pad)
{
  if (GST_IS_MMDNN_TRAIN_LABEL_PAD (pad))
    return &GST_MMDNN_TRAIN_LABEL_PAD (pad)->ring;
  return gst_mmdnn_features_pad_window_ring (agg, pad);
}

static GstFlowReturn
train_validate (GstAggregator *agg, GstAggregatorPad *aggpad, GstBuffer *buf)
{
  GstMmdnnFeaturesPad *pad;
  GstMmdnnInputMeta *meta;
  GstFlowReturn ret;
  gint64 input_size;

  if (!GST_IS_MMDNN_TRAIN_PAD (aggpad))
    return GST_FLOW_OK;
  ret = gst_mmdnn_features_pad_window_validate (agg, aggpad, buf);
  if (ret != GST_FLOW_OK)
    return ret;
  pad = GST_MMDNN_FEATURES_PAD (aggpad);
  input_size = GST_MMDNN_TRAIN_PAD (aggpad)->input_size;
  meta = gst_buffer_get_mmdnn_input_meta (buf);
  if (meta == NULL) {
    GST_ELEMENT_ERROR (agg, STREAM, FORMAT,
        (_("The features on pad %s of mmdnntrain came without the "
                "encoder's input (GstMmdnnInputMeta), which training needs: "
                "link the encoder to mmdnntrain through elements that keep "
                "buffer metadata, such as queue and tee."),
            GST_PAD_NAME (pad)),
        ("buffer %" GST_PTR_FORMAT, buf));
    return GST_FLOW_ERROR;
  }
  if (meta->modality != pad->modality || meta->size != input_size) {
    GST_ELEMENT_ERROR (agg, STREAM, FORMAT,
        (_("The encoder input on pad %s of mmdnntrain does not fit the "
                "model."), GST_PAD_NAME (pad)),
        ("%s input of %" G_GINT64_FORMAT " values where the %s encoder "
            "takes %" G_GINT64_FORMAT,
            GST_STR_NULL (gst_mmdnn_modality_to_string (meta->modality)),
            meta->size, gst_mmdnn_modality_to_string (pad->modality),
            input_size));
    return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
}

static GstFlowReturn
extract_labels (GstMmdnnTrain *self, GstMmdnnTrainLabelPad *pad,
    GstBuffer *buf, GstMmdnnWindowSlot *slot)
{
  const MmdnnModelConfig *c = self->model->config;
  GstMapInfo map;
  gchar *text, *task, *why = NULL;
  int default_task = 0;
  gint n;

  GST_OBJECT_LOCK (pad);
  task = g_strdup (pad->task);
  GST_OBJECT_UNLOCK (pad);
  if (task != NULL && *task != '\0'
      && (default_task = find_task (c, task)) < 0) {
    gchar *tasks = task_list (c);

    GST_ELEMENT_ERROR (self, LIBRARY, SETTINGS,
        (_("The label pad's task \"%s\" is not a task of the model \"%s\" "
                "(its tasks: %s)."), task, c->model_id, tasks), (NULL));
    g_free (tasks);
    g_free (task);
    return GST_FLOW_ERROR;
  }
  g_free (task);

  if (!gst_buffer_map (buf, &map, GST_MAP_READ)) {
    GST_ELEMENT_ERROR (self, RESOURCE, READ, (NULL), ("cannot map a cue"));
    return GST_FLOW_ERROR;
  }
  if (!g_utf8_validate ((const gchar *) map.data, (gssize) map.size, NULL)) {
    gst_buffer_unmap (buf, &map);
    GST_ELEMENT_ERROR (self, STREAM, DECODE,
        (_("A label cue is not valid UTF-8 text.")), (NULL));
    return GST_FLOW_ERROR;
  }
  if (map.size == 0)
    text = g_strdup ("");
  else if (pad->markup)
    text = strip_markup ((const gchar *) map.data, map.size);
  else
    text = g_strndup ((const gchar *) map.data, map.size);
  gst_buffer_unmap (buf, &map);

  n = parse_labels (c, default_task, text, slot->data, &why);
  if (n < 0) {
    gchar *at = g_strdup_printf ("%" GST_TIME_FORMAT,
        GST_TIME_ARGS (slot->start));

    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        (_("The label cue at %s does not fit the model: %s."), at, why),
        ("cue \"%s\"", text));
    g_free (at);
    g_free (why);
    g_free (text);
    return GST_FLOW_ERROR;
  }
  GST_LOG_OBJECT (pad, "cue \"%s\": %d labels", text, n);
  g_free (text);
  slot->n_real = n;
  return GST_FLOW_OK;
}

static GstFlowReturn
train_extract (GstAggregator *agg, GstAggregatorPad *aggpad, GstBuffer *buf,
    GstMmdnnWindowSlot *slot)
{
  GstMmdnnTrain *self = GST_MMDNN_TRAIN (agg);
  GstMmdnnFeaturesPad *pad;
  GstMmdnnInputMeta *meta;

  if (GST_IS_MMDNN_TRAIN_LABEL_PAD (aggpad))
    return extract_labels (self, GST_MMDNN_TRAIN_LABEL_PAD (aggpad), buf,
        slot);
  gst_mmdnn_features_pad_window_extract (agg, aggpad, buf, slot);
  /* then the encoder's input (train_validate () saw it there) */
  pad = GST_MMDNN_FEATURES_PAD (aggpad);
  meta = gst_buffer_get_mmdnn_input_meta (buf);
  memcpy ((guint8 *) slot->data + sizeof (float) * (gsize) pad->tokens
      * pad->dim, meta->data,
      4 * (gsize) GST_MMDNN_TRAIN_PAD (pad)->input_size);
  return GST_FLOW_OK;
}

/* ------------------------------------------------------------ the queue */

static gboolean
accept_task (const GstMmdnnWindowSlot *slot, gpointer user_data)
{
  return ((const gint32 *) slot->data)[GPOINTER_TO_INT (user_data)] >= 0;
}

static gboolean
is_leaky (GstMmdnnTrain *self)
{
  switch (self->run.leaky) {
    case GST_MMDNN_TRAIN_LEAKY_YES:
      return TRUE;
    case GST_MMDNN_TRAIN_LEAKY_NO:
      return FALSE;
    default:
      return GST_CLOCK_TIME_IS_VALID (gst_aggregator_get_latency
          (GST_AGGREGATOR (self)));
  }
}

/* One sample into the queue: dropped (leaky) or waited for when full. */
static GstFlowReturn
enqueue (GstMmdnnTrain *self, const void *const inputs[MMDNN_N_MODALITIES],
    const float *presence, const gint32 *labels, GstClockTime ws)
{
  TrainQueue *q = &self->q;
  const MmdnnModelConfig *c = self->model->config;
  gboolean leaky = is_leaky (self);
  guint slot;

  g_mutex_lock (&q->lock);
  while (q->count == q->size) {
    if (q->failed) {
      g_mutex_unlock (&q->lock);
      return GST_FLOW_ERROR;
    }
    if (leaky) {
      q->dropped++;
      g_mutex_unlock (&q->lock);
      GST_DEBUG_OBJECT (self, "queue full: window %" GST_TIME_FORMAT
          " dropped", GST_TIME_ARGS (ws));
      return GST_FLOW_OK;
    }
    if (q->flushing) {
      g_mutex_unlock (&q->lock);
      return GST_FLOW_FLUSHING;
    }
    GST_LOG_OBJECT (self, "queue full: waiting");
    g_cond_wait (&q->cond, &q->lock);
  }
  slot = (q->head + q->count) % q->size;
  g_mutex_unlock (&q->lock);

  /* the slot is ours until counted in: as mmdnn_dataset_load writes a
   * sample, the absent modalities as the loader leaves them */
  for (int m = 0; m < MMDNN_N_MODALITIES; m++) {
    gint64 n = self->input_size[m];

    if (n == 0)
      continue;
    if (m == MMDNN_MODALITY_TEXT) {
      gint32 *dst = q->text + (gsize) slot * n;

      if (inputs[m] != NULL)
        memcpy (dst, inputs[m], sizeof (gint32) * (gsize) n);
      else
        for (gint64 i = 0; i < n; i++)
          dst[i] = -1;
    } else {
      float *dst = (m == MMDNN_MODALITY_VIDEO ? q->video : q->audio)
          + (gsize) slot * n;

      if (inputs[m] != NULL) {
        memcpy (dst, inputs[m], sizeof (float) * (gsize) n);
      } else {
        float fill = m == MMDNN_MODALITY_AUDIO
            ? (float) log ((double) c->logmel.log_floor) : 0.0f;

        for (gint64 i = 0; i < n; i++)
          dst[i] = fill;
      }
    }
  }
  memcpy (q->presence + (gsize) slot * MMDNN_N_MODALITIES, presence,
      sizeof (float) * MMDNN_N_MODALITIES);
  memcpy (q->labels + (gsize) slot * c->n_tasks, labels,
      sizeof (gint32) * (gsize) c->n_tasks);

  if (gst_debug_category_get_threshold (GST_CAT_DEFAULT) >= GST_LEVEL_LOG) {
    /* sums of the sample's inputs, to compare with mmdnn_dataset_load's */
    double sum[MMDNN_N_MODALITIES] = { 0, };

    for (gint64 i = 0; i < self->input_size[MMDNN_MODALITY_VIDEO]; i++)
      sum[0] += q->video[(gsize) slot * self->input_size[0] + i];
    for (gint64 i = 0; i < self->input_size[MMDNN_MODALITY_AUDIO]; i++)
      sum[1] += q->audio[(gsize) slot * self->input_size[1] + i];
    for (gint64 i = 0; i < self->input_size[MMDNN_MODALITY_TEXT]; i++)
      sum[2] += q->text[(gsize) slot * self->input_size[2] + i];
    GST_LOG_OBJECT (self, "window %" GST_TIME_FORMAT " queued: presence %g "
        "%g %g, first labels %d %d, input sums %f %f %.0f",
        GST_TIME_ARGS (ws), presence[0], presence[1], presence[2], labels[0],
        c->n_tasks > 1 ? labels[1] : -1, sum[0], sum[1], sum[2]);
  }

  g_mutex_lock (&q->lock);
  q->count++;
  g_cond_broadcast (&q->cond);
  g_mutex_unlock (&q->lock);
  return GST_FLOW_OK;
}

/* The windows in the duration upstream knows, for the epoch field. */
static void
ask_duration (GstMmdnnTrain *self)
{
  guint64 windows = self->run.epoch_size;
  gint64 dur = -1;

  self->duration_asked = TRUE;
  if (windows == 0) {
    GstElement *element = GST_ELEMENT (self);
    GstPad *pads[STACK_DURATION_PADS];
    guint n = 0;

    GST_OBJECT_LOCK (self);
    for (GList *l = element->sinkpads; l != NULL && n < STACK_DURATION_PADS;
        l = l->next)
      if (GST_IS_MMDNN_TRAIN_PAD (l->data))
        pads[n++] = gst_object_ref (l->data);
    GST_OBJECT_UNLOCK (self);
    for (guint p = 0; p < n; p++) {
      gint64 d;

      if (gst_pad_peer_query_duration (pads[p], GST_FORMAT_TIME, &d)
          && d > dur)
        dur = d;
      gst_object_unref (pads[p]);
    }
    if (dur > 0 && (guint64) dur > self->clock.t0)
      windows = ((guint64) dur - self->clock.t0 + self->clock.hop - 1)
          / self->clock.hop;
  }
  g_mutex_lock (&self->q.lock);
  self->q.epoch_windows = windows;
  g_mutex_unlock (&self->q.lock);
  GST_DEBUG_OBJECT (self, "%" G_GUINT64_FORMAT " windows make an epoch",
      windows);
}

static GstFlowReturn
train_emit (GstAggregator *agg, GstAggregatorPad **pads, guint n,
    GstClockTime ws, GstClockTime we)
{
  GstMmdnnTrain *self = GST_MMDNN_TRAIN (agg);
  const MmdnnModelConfig *c = self->model->config;
  GstClockTime dur = MIN (self->clock.window, self->clock.hop);
  GstMmdnnWindowTake take;
  const void *inputs[MMDNN_N_MODALITIES] = { NULL, };
  gint32 labels[MMDNN_MAX_TASKS];
  GstMmdnnTrainLabelPad *label_pad = NULL;
  GstFlowReturn ret = GST_FLOW_OK;
  gboolean failed;
  gint n_labels = 0;
  gchar *changed = NULL;
  gboolean label_changed;

  if (!self->duration_asked)
    ask_duration (self);
  g_mutex_lock (&self->q.lock);
  failed = self->q.failed;
  g_mutex_unlock (&self->q.lock);
  if (failed)
    return GST_FLOW_ERROR;

  /* the constant label, when the application changed it */
  GST_OBJECT_LOCK (self);
  label_changed = self->label_changed;
  if (label_changed)
    changed = g_strdup (self->label);
  self->label_changed = FALSE;
  GST_OBJECT_UNLOCK (self);
  if (label_changed) {
    gchar *why = NULL;
    gint32 parsed[MMDNN_MAX_TASKS];

    if (changed != NULL && parse_labels (c, 0, changed, parsed, &why) < 0) {
      GST_ELEMENT_ERROR (self, LIBRARY, SETTINGS,
          (_("The label property of mmdnntrain is not valid: %s."), why),
          (NULL));
      g_free (why);
      g_free (changed);
      return GST_FLOW_ERROR;
    }
    for (int t = 0; t < MMDNN_MAX_TASKS; t++)
      self->prop_labels[t] = changed != NULL ? parsed[t] : -1;
    GST_INFO_OBJECT (self, "label now \"%s\"", GST_STR_NULL (changed));
    g_free (changed);
  }

  gst_mmdnn_features_pads_take (pads, n, ws, we, self->mask, &take);
  for (guint p = 0; p < n; p++)
    if (GST_IS_MMDNN_TRAIN_LABEL_PAD (pads[p]))
      label_pad = GST_MMDNN_TRAIN_LABEL_PAD (pads[p]);
  /* the encoders' inputs follow the tokens in a slot (train_extract) */
  for (int m = 0; m < MMDNN_N_MODALITIES; m++) {
    const GstMmdnnFeaturesPad *pad;

    if (take.slots[m] == NULL)
      continue;
    pad = GST_MMDNN_FEATURES_PAD (take.pads[m]);
    inputs[m] = (const guint8 *) take.tokens[m]
        + sizeof (float) * (gsize) pad->tokens * pad->dim;
  }

  /* per task: the label track's, else the property's */
  for (int t = 0; t < c->n_tasks; t++) {
    const GstMmdnnWindowSlot *slot = label_pad == NULL ? NULL
        : gst_mmdnn_window_ring_select (&label_pad->ring, ws, we,
        accept_task, GINT_TO_POINTER (t));

    labels[t] = slot != NULL ? ((const gint32 *) slot->data)[t]
        : self->prop_labels[t];
    n_labels += labels[t] >= 0;
  }

  if (take.any && n_labels > 0) {
    ret = enqueue (self, inputs, take.presence, labels, ws);
    if (ret != GST_FLOW_OK)
      return ret;
  } else if (take.any) {
    g_mutex_lock (&self->q.lock);
    self->q.unlabelled++;
    g_mutex_unlock (&self->q.lock);
    GST_LOG_OBJECT (self, "window %" GST_TIME_FORMAT " has no label",
        GST_TIME_ARGS (ws));
  }

  if (!take.any)
    return gst_mmdnn_window_push_gap (agg, ws, dur);

  /* the output: what mmdnnfuse gives with the weights last published */
  return gst_mmdnn_window_classify (agg, self->entry, &self->stage, &take,
      ws, self->clock.window, dur, self->out_text, self->entry_name);
}

static const GstMmdnnWindowFuncs window_funcs = {
  .ring = train_ring,
  .check_pad = gst_mmdnn_features_pad_window_check,
  .muted = gst_mmdnn_features_pad_window_muted,
  .validate = train_validate,
  .extract = train_extract,
  .emit = train_emit,
};

/* EOS: the worker trains what is queued (the last batch may be partial),
 * writes the checkpoint and the model; FALSE if that failed or was cut
 * short by a flush or shutdown. */
static gboolean
drain (GstMmdnnTrain *self)
{
  TrainQueue *q = &self->q;
  guint64 req;
  gboolean ok;

  g_mutex_lock (&q->lock);
  req = ++q->drain_req;
  g_cond_broadcast (&q->cond);
  while (q->drain_done < req && !q->failed && !q->flushing)
    g_cond_wait (&q->cond, &q->lock);
  ok = q->drain_done >= req && q->drain_ok;
  g_mutex_unlock (&q->lock);
  return ok;
}

static GstFlowReturn
gst_mmdnn_train_aggregate (GstAggregator *agg, gboolean timeout)
{
  GstMmdnnTrain *self = GST_MMDNN_TRAIN (agg);
  GstFlowReturn ret;

  if (!gst_pad_has_current_caps (GST_AGGREGATOR_SRC_PAD (self))) {
    GST_DEBUG_OBJECT (self, "not negotiated");
    return GST_FLOW_NOT_NEGOTIATED;
  }
  ret = gst_mmdnn_window_aggregate (agg, &self->clock, &window_funcs,
      timeout);
  if (ret == GST_FLOW_EOS) {
    GST_INFO_OBJECT (self, "EOS: training what is queued");
    if (!drain (self)) {
      gboolean flushing;

      g_mutex_lock (&self->q.lock);
      flushing = self->q.flushing && !self->q.failed;
      g_mutex_unlock (&self->q.lock);
      return flushing ? GST_FLOW_FLUSHING : GST_FLOW_ERROR;
    }
  }
  return ret;
}

/* ----------------------------------------------------------- the worker */

static double
mean (double sum, guint64 n)
{
  return n > 0 ? sum / (double) n : NAN;
}

static void
json_double (JsonBuilder *b, const gchar *name, double v)
{
  json_builder_set_member_name (b, name);
  if (isfinite (v))
    json_builder_add_double_value (b, v);
  else
    json_builder_add_null_value (b);
}

/* The mmdnn-train message, and the counters since the last one reset. */
static void
post_train_message (GstMmdnnTrain *self, gboolean final)
{
  const MmdnnModelConfig *c = self->model->config;
  TrainStats *st = &self->stats;
  TrainQueue *q = &self->q;
  GstStructure *s, *losses, *acc, *acc_total;
  JsonBuilder *b;
  JsonNode *root;
  guint64 dropped, unlabelled, epoch_windows;
  guint queued;
  gint64 now = g_get_monotonic_time ();
  double dt = (double) (now - st->t_msg) / 1e6;
  double elapsed = st->t_first > 0 ? (double) (now - st->t_first) / 1e6 : 0;
  double sps = dt > 0 ? (double) st->m_samples / dt : 0.0;
  double loss = mean (st->m_total, st->m_finite);
  double lr = mmdnn_lr_schedule_get (&self->model->schedule,
      self->model->step);
  gchar *json;

  g_mutex_lock (&q->lock);
  dropped = q->dropped;
  unlabelled = q->unlabelled;
  queued = q->count;
  epoch_windows = q->epoch_windows;
  g_mutex_unlock (&q->lock);

  losses = gst_structure_new ("losses",
      "total", G_TYPE_DOUBLE, loss,
      "aux", G_TYPE_DOUBLE, mean (st->m_aux, st->m_finite),
      "recon", G_TYPE_DOUBLE, mean (st->m_recon, st->m_finite),
      "adv", G_TYPE_DOUBLE, mean (st->m_adv, st->m_finite),
      "nce", G_TYPE_DOUBLE, mean (st->m_nce, st->m_finite), NULL);
  acc = gst_structure_new_empty ("accuracy");
  acc_total = gst_structure_new_empty ("accuracy");
  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "step");
  json_builder_add_int_value (b, self->model->step);
  json_builder_set_member_name (b, "samples");
  json_builder_add_int_value (b, (gint64) st->samples);
  json_double (b, "epoch", epoch_windows > 0
      ? (double) st->samples / (double) epoch_windows : NAN);
  json_double (b, "loss", loss);
  for (int t = 0; t < c->n_tasks; t++) {
    gst_structure_set (losses, c->tasks[t].name, G_TYPE_DOUBLE,
        mean (st->m_task[t], st->m_finite), NULL);
    gst_structure_set (acc, c->tasks[t].name, G_TYPE_DOUBLE,
        st->m_count[t] > 0 ? (double) st->m_correct[t] / st->m_count[t]
        : NAN, NULL);
    gst_structure_set (acc_total, c->tasks[t].name, G_TYPE_DOUBLE,
        st->t_count[t] > 0 ? (double) st->t_correct[t] / st->t_count[t]
        : NAN, NULL);
  }
  json_builder_set_member_name (b, "losses");
  json_builder_begin_object (b);
  for (guint i = 0; i < (guint) gst_structure_n_fields (losses); i++) {
    const gchar *name = gst_structure_nth_field_name (losses, i);
    gdouble v;

    gst_structure_get_double (losses, name, &v);
    json_double (b, name, v);
  }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "accuracy");
  json_builder_begin_object (b);
  for (int t = 0; t < c->n_tasks; t++) {
    gdouble v;

    gst_structure_get_double (acc, c->tasks[t].name, &v);
    json_double (b, c->tasks[t].name, v);
  }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "accuracy_total");
  json_builder_begin_object (b);
  for (int t = 0; t < c->n_tasks; t++) {
    gdouble v;

    gst_structure_get_double (acc_total, c->tasks[t].name, &v);
    json_double (b, c->tasks[t].name, v);
  }
  json_builder_end_object (b);
  json_double (b, "learning_rate", lr);
  json_double (b, "samples_per_second", sps);
  json_double (b, "elapsed", elapsed);
  json_builder_set_member_name (b, "dropped");
  json_builder_add_int_value (b, (gint64) dropped);
  json_builder_set_member_name (b, "unlabelled");
  json_builder_add_int_value (b, (gint64) unlabelled);
  json_builder_set_member_name (b, "skipped");
  json_builder_add_int_value (b, (gint64) st->skipped);
  json_builder_set_member_name (b, "queued");
  json_builder_add_int_value (b, queued);
  json_builder_set_member_name (b, "model_version");
  json_builder_add_int_value (b, (gint64) st->version);
  json_builder_set_member_name (b, "final");
  json_builder_add_boolean_value (b, final);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json = mmdnn_json_to_string_compact (root);
  json_node_unref (root);
  g_object_unref (b);

  s = gst_structure_new ("mmdnn-train",
      "step", G_TYPE_UINT64, (guint64) self->model->step,
      "samples", G_TYPE_UINT64, st->samples, NULL);
  if (epoch_windows > 0)
    gst_structure_set (s, "epoch", G_TYPE_DOUBLE,
        (double) st->samples / (double) epoch_windows, NULL);
  gst_structure_set (s,
      "loss", G_TYPE_DOUBLE, loss,
      "losses", GST_TYPE_STRUCTURE, losses,
      "accuracy", GST_TYPE_STRUCTURE, acc,
      "accuracy-total", GST_TYPE_STRUCTURE, acc_total,
      "learning-rate", G_TYPE_DOUBLE, lr,
      "samples-per-second", G_TYPE_DOUBLE, sps,
      "elapsed", G_TYPE_DOUBLE, elapsed,
      "dropped", G_TYPE_UINT64, dropped,
      "unlabelled", G_TYPE_UINT64, unlabelled,
      "skipped", G_TYPE_UINT64, st->skipped,
      "queued", G_TYPE_UINT, queued,
      "model-version", G_TYPE_UINT64, st->version,
      "final", G_TYPE_BOOLEAN, final,
      "json", G_TYPE_STRING, json, NULL);
  gst_structure_free (losses);
  gst_structure_free (acc);
  gst_structure_free (acc_total);
  GST_DEBUG_OBJECT (self, "%s", json);
  g_free (json);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));

  st->t_msg = now;
  st->m_steps = st->m_samples = st->m_finite = 0;
  st->m_total = st->m_aux = st->m_recon = st->m_adv = st->m_nce = 0;
  memset (st->m_task, 0, sizeof (st->m_task));
  memset (st->m_correct, 0, sizeof (st->m_correct));
  memset (st->m_count, 0, sizeof (st->m_count));
}

/* A copy of the weights to the registry; a failure is a warning. */
static void
publish (GstMmdnnTrain *self)
{
  GError *err = NULL;
  MmdnnModel *copy = copy_weights (self->model, &err);
  guint64 version = 0;

  if (copy != NULL) {
    version = gst_mmdnn_model_entry_publish (self->entry, copy, &err);
    if (version == 0)
      mmdnn_model_free (copy);
  }
  if (version == 0) {
    GST_ELEMENT_WARNING (self, LIBRARY, FAILED,
        (_("Could not publish the trained weights.")),
        ("%s", err != NULL ? err->message : "?"));
    g_clear_error (&err);
    return;
  }
  self->stats.version = version;
  GST_DEBUG_OBJECT (self, "step %" G_GINT64_FORMAT " published as version %"
      G_GUINT64_FORMAT " of %s", self->model->step, version,
      self->entry_name);
}

/* The checkpoint; a failure is a warning mid-run and an error at the end
 * (@final). The previous file stays intact either way. */
static gboolean
save_checkpoint (GstMmdnnTrain *self, gboolean final)
{
  GError *err = NULL;

  if (mmdnn_model_save_checkpoint (self->model, self->run.checkpoint, &err)) {
    GST_DEBUG_OBJECT (self, "checkpoint %s at step %" G_GINT64_FORMAT,
        self->run.checkpoint, self->model->step);
    return TRUE;
  }
  if (final)
    GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
        (_("Could not write the checkpoint \"%s\"."), self->run.checkpoint),
        ("%s", err->message));
  else
    GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
        (_("Could not write the checkpoint \"%s\"; training goes on and "
                "the previous checkpoint is kept."), self->run.checkpoint),
        ("%s", err->message));
  g_clear_error (&err);
  return FALSE;
}

/* samples [first, first + n) of the queue into the batch */
static void
gather (GstMmdnnTrain *self, guint first, guint n)
{
  TrainQueue *q = &self->q;
  MmdnnBatch *b = self->batch;
  const MmdnnModelConfig *c = self->model->config;
  gint64 vs = self->input_size[MMDNN_MODALITY_VIDEO];
  gint64 as = self->input_size[MMDNN_MODALITY_AUDIO];
  gint64 ts = self->input_size[MMDNN_MODALITY_TEXT];

  b->n = n;
  for (guint i = 0; i < n; i++) {
    guint j = (first + i) % q->size;

    if (b->video != NULL)
      memcpy (b->video + i * vs, q->video + (gsize) j * vs,
          sizeof (float) * (gsize) vs);
    if (b->audio != NULL)
      memcpy (b->audio + i * as, q->audio + (gsize) j * as,
          sizeof (float) * (gsize) as);
    if (b->text_ids != NULL)
      memcpy (b->text_ids + i * ts, q->text + (gsize) j * ts,
          sizeof (gint32) * (gsize) ts);
    memcpy (b->presence + i * MMDNN_N_MODALITIES,
        q->presence + (gsize) j * MMDNN_N_MODALITIES,
        sizeof (float) * MMDNN_N_MODALITIES);
    memcpy (b->labels + i * c->n_tasks, q->labels + (gsize) j * c->n_tasks,
        sizeof (gint32) * (gsize) c->n_tasks);
  }
}

/* A step whose update is not made: the weights are untouched, the step
 * counts (as in `mmdnn train`); a warning the first time. */
static void
skip_step (GstMmdnnTrain *self, const GError *err)
{
  TrainStats *st = &self->stats;

  if (st->skipped == 0)
    GST_ELEMENT_WARNING (self, LIBRARY, FAILED,
        (_("A training step was skipped: its loss or gradient was not "
                "finite.")), ("step %" G_GINT64_FORMAT ": %s",
            self->model->step, err->message));
  else
    GST_WARNING_OBJECT (self, "step %" G_GINT64_FORMAT " skipped: %s",
        self->model->step, err->message);
  st->skipped++;
  self->model->step++;
}

/* One optimiser step on the batch, as `mmdnn train` takes it: forward
 * with the joint objective, the accuracy of its predictions, backward,
 * update (a non-finite gradient skips the update, the step still counts). */
static gboolean
train_step (GstMmdnnTrain *self)
{
  MmdnnModel *m = self->model;
  const MmdnnModelConfig *c = m->config;
  MmdnnBatch *b = self->batch;
  TrainStats *st = &self->stats;
  TrainRun *run = &self->run;
  MmdnnOutputs out;
  MmdnnLosses losses;
  GError *err = NULL;

  if (st->t_first == 0)
    st->t_first = st->t_msg = g_get_monotonic_time ();
  if (!mmdnn_model_forward (m, b, TRUE, &out, &losses, &err)) {
    if (!g_error_matches (err, MMDNN_ERROR, MMDNN_ERROR_DATA)) {
      GST_ELEMENT_ERROR (self, LIBRARY, FAILED,
          (_("A training step failed.")), ("step %" G_GINT64_FORMAT ": %s",
              m->step, err->message));
      g_clear_error (&err);
      return FALSE;
    }
    /* a batch the model cannot take (non-finite values): skipped like a
     * non-finite gradient, a live trainer goes on */
    skip_step (self, err);
    g_clear_error (&err);
    st->steps++;
    st->samples += (guint64) b->n;
    st->m_steps++;
    st->m_samples += (guint64) b->n;
    goto after;
  }
  {
    int64_t correct[MMDNN_MAX_TASKS] = { 0 }, count[MMDNN_MAX_TASKS] = { 0 };

    mmdnn_outputs_score (c, &out, b->labels, b->n, correct, count);
    for (int t = 0; t < c->n_tasks; t++) {
      st->m_correct[t] += (guint64) correct[t];
      st->t_correct[t] += (guint64) correct[t];
      st->m_count[t] += (guint64) count[t];
      st->t_count[t] += (guint64) count[t];
    }
  }
  mmdnn_model_backward (m);
  if (!mmdnn_model_update (m, &err)) {
    skip_step (self, err);
    g_clear_error (&err);
  }
  st->steps++;
  st->samples += (guint64) b->n;
  st->m_steps++;
  st->m_samples += (guint64) b->n;
  if (isfinite (losses.total)) {
    st->m_finite++;
    st->m_total += losses.total;
    st->m_aux += losses.aux;
    st->m_recon += losses.recon;
    st->m_adv += losses.adv;
    st->m_nce += losses.nce;
    for (int t = 0; t < c->n_tasks; t++)
      st->m_task[t] += losses.task[t];
  }
  GST_LOG_OBJECT (self, "step %" G_GINT64_FORMAT ": %" G_GINT64_FORMAT
      " samples, loss %.4f", m->step, b->n, losses.total);

after:
  if (run->step_delay > 0)
    g_usleep (run->step_delay / 1000);
  if (run->publish_interval > 0 && m->step % run->publish_interval == 0)
    publish (self);
  if (run->checkpoint != NULL && run->checkpoint_interval > 0
      && m->step % run->checkpoint_interval == 0)
    save_checkpoint (self, FALSE);
  /* last: the message tells what was published and written */
  if (run->message_interval > 0 && m->step % run->message_interval == 0)
    post_train_message (self, FALSE);
  return TRUE;
}

/* EOS, everything trained: the files, the last publication, the final
 * message. */
static gboolean
finish_run (GstMmdnnTrain *self)
{
  TrainRun *run = &self->run;
  gboolean ok = TRUE;
  GError *err = NULL;
  gchar *text, *step;

  if (run->checkpoint != NULL)
    ok = save_checkpoint (self, TRUE);
  if (ok && run->out != NULL
      && !mmdnn_model_save (self->model, run->out, &err)) {
    GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
        (_("Could not write the model file \"%s\"."), run->out),
        ("%s", err->message));
    g_clear_error (&err);
    ok = FALSE;
  }
  if (run->publish_interval > 0)
    publish (self);
  post_train_message (self, TRUE);
  step = g_strdup_printf ("%" G_GINT64_FORMAT, self->model->step);
  if (ok) {
    text = g_strdup_printf (_("Training completed at step %s."), step);
    post_progress (self, GST_PROGRESS_TYPE_COMPLETE, text);
  } else {
    text = g_strdup_printf (_("Training ended at step %s without writing "
            "its result."), step);
    post_progress (self, GST_PROGRESS_TYPE_ERROR, text);
  }
  self->finished = TRUE;
  g_free (text);
  g_free (step);
  return ok;
}

static gpointer
train_worker (gpointer data)
{
  GstMmdnnTrain *self = data;
  TrainQueue *q = &self->q;
  guint batch = self->run.batch;

  if (self->run.publish_start && self->run.publish_interval > 0)
    publish (self);

  g_mutex_lock (&q->lock);
  for (;;) {
    guint n, first;

    while (!q->quit && !q->failed && q->count < batch
        && q->drain_req == q->drain_done)
      g_cond_wait (&q->cond, &q->lock);
    if (q->quit || q->failed)
      break;
    if (q->count == 0) {
      /* drained: the end of the run */
      guint64 req = q->drain_req;
      gboolean ok;

      g_mutex_unlock (&q->lock);
      ok = finish_run (self);
      g_mutex_lock (&q->lock);
      q->drain_done = req;
      q->drain_ok = ok;
      g_cond_broadcast (&q->cond);
      continue;
    }
    n = MIN (q->count, batch);
    first = q->head;
    g_mutex_unlock (&q->lock);

    gather (self, first, n);
    g_mutex_lock (&q->lock);
    q->head = (q->head + n) % q->size;
    q->count -= n;
    g_cond_broadcast (&q->cond);
    g_mutex_unlock (&q->lock);

    if (!train_step (self)) {
      g_mutex_lock (&q->lock);
      q->failed = TRUE;
      g_cond_broadcast (&q->cond);
      g_mutex_unlock (&q->lock);
      post_progress (self, GST_PROGRESS_TYPE_ERROR, _("Training failed."));
      self->finished = TRUE;
      g_mutex_lock (&q->lock);
      break;
    }
    g_mutex_lock (&q->lock);
  }
  g_mutex_unlock (&q->lock);
  return NULL;
}
