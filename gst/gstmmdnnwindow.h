/* mmdnn — windows of running time over features: what mmdnnfuse and
 * mmdnntrain share, so that a trainer cuts and aligns its windows (and its
 * labels) exactly as fusion does.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>
#include <gst/base/gstaggregator.h>
#include <mmdnn/mmdnn.h>

#include "gstmmdnnregistry.h"

G_BEGIN_DECLS

/*
 * The model (mmdnnfuse's SECTION doc says it for users):
 * - windows are [t, t + window) of running time, t = t0 + i·hop; t0 follows
 *   GstAggregator's start-time-selection (0, the first buffer, start-time);
 * - every sink pad that takes part has a ring of GST_MMDNN_WINDOW_SLOTS
 *   slots: what it received, copied (never held), with its running time
 *   span, kept until it can no longer overlap a coming window;
 * - a window is due when every pad that is neither EOS nor muted has data
 *   (or a GAP) reaching its end, or, live, when the aggregator times out;
 * - features ending before the window being computed are late: dropped,
 *   with a QoS message;
 * - of the slots of a pad overlapping a window, one is taken, by a rule
 *   (GstMmdnnWindowRule).
 *
 * All of it runs in the aggregator's streaming thread (aggregate (),
 * get_next_time () reads only the clock), so nothing here takes a lock but
 * the pads' and the element's object locks for segments.
 */

#define GST_MMDNN_WINDOW_SLOTS 64

/* Which slot a window takes among those overlapping it. The data set
 * loader (mmdnn-core dataset.c, mmdnn_dataset_load) makes a clip's sample
 * by the same rules, so that a window of the elements and a clip with the
 * same span see the same frame and the same audio patch.
 * (Centre comparisons are done on doubled times, ws + we against 2·t, to
 * stay exact in integer nanoseconds.) */
typedef enum
{
  /* video: the frame on screen at the window's centre, i.e. the latest
   * start at or before the centre (a frame shows from its PTS on, until the
   * next one); if the video only starts after the centre, the earliest
   * start after it. Of slots with the same start, the later arrival. The
   * start is the frame's PTS, never the centre of its span: with
   * mmdnnvideoenc's max-rate a span stretches over the frames dropped after
   * it, and what is on screen at a time is the frame describing it. */
  GST_MMDNN_WINDOW_RULE_SCREEN,
  /* audio: the most overlap; on a tie the centre nearest the window's
   * centre, then the earlier. Patches all last P·hop, and the overlap of
   * two spans only falls as their centres move apart: so this is the
   * patch whose nominal span is centred in the window, its start nearest
   * ws + (we − ws − P·hop)/2, the earlier on a tie (also in a window
   * shorter than the patch: the start is then before ws) */
  GST_MMDNN_WINDOW_RULE_OVERLAP,
  /* text (cues, labels): the most overlap, the later on a tie */
  GST_MMDNN_WINDOW_RULE_CUE,
} GstMmdnnWindowRule;

/* The rule of features of @modality (an MmdnnModality). */
GstMmdnnWindowRule gst_mmdnn_window_rule_for (int modality);

typedef struct
{
  GstClockTime start, end;      /* running time; end == start: no duration */
  gint64 n_real;                /* 0: holds nothing (an empty cue) */
  gpointer data;                /* slot_size bytes of the ring's storage */
} GstMmdnnWindowSlot;

/* One pad's slots. Embed it in the pad; zero-initialised it is empty. */
typedef struct
{
  /* set by the element (streaming thread) */
  GstMmdnnWindowRule rule;
  gboolean aux;                 /* labels: waited for, but never moves the
                                 * windows on, sets t0, or keeps the element
                                 * from going EOS */
  /*< private >*/
  gsize slot_size;
  guint8 *storage;
  GstMmdnnWindowSlot slots[GST_MMDNN_WINDOW_SLOTS];
  guint head, count;            /* oldest slot, number of slots */
  GstBuffer *held;              /* the queue's head, already in the ring */
  GstClockTime held_end;        /* its end; NONE: pop it */
  GstClockTime reached;         /* data or gaps known up to here */
  GstClockTime pruned_end;      /* newest end of the slots let go */
  guint64 processed, dropped;   /* for QoS messages */
  gboolean warned_full;
} GstMmdnnWindowRing;

void gst_mmdnn_window_ring_init (GstMmdnnWindowRing *ring);
/* Frees the storage and the held buffer (finalize). */
void gst_mmdnn_window_ring_clear (GstMmdnnWindowRing *ring);
/* Forgets every slot and what was reached (flush, new caps). */
void gst_mmdnn_window_ring_reset (GstMmdnnWindowRing *ring);
/* Slots of @size bytes from now on: storage (re)allocated and the ring
 * reset if the size changes. */
void gst_mmdnn_window_ring_set_slot_size (GstMmdnnWindowRing *ring,
                                          gsize size);
guint gst_mmdnn_window_ring_count (const GstMmdnnWindowRing *ring);
/* (transfer none): slot @i, 0 the oldest. */
GstMmdnnWindowSlot *gst_mmdnn_window_ring_slot (GstMmdnnWindowRing *ring,
                                                guint i);

/* The slot of @ring window [ws, we) takes under the ring's rule, among
 * the slots holding something (n_real > 0) for which @accept (may be NULL)
 * says TRUE; NULL if none. */
typedef gboolean (*GstMmdnnWindowAccept) (const GstMmdnnWindowSlot *slot,
                                          gpointer user_data);
const GstMmdnnWindowSlot *gst_mmdnn_window_ring_select (GstMmdnnWindowRing *ring,
    GstClockTime ws, GstClockTime we, GstMmdnnWindowAccept accept,
    gpointer user_data);

/* Running time from the newest data of @ring (starting before @we) to
 * @we; 0 if it reaches past @we; NONE if none ever came. */
GstClockTime gst_mmdnn_window_ring_age (GstMmdnnWindowRing *ring,
                                        GstClockTime we);

/* What an element plugs in. Every function runs in the streaming thread. */
typedef struct
{
  /* (transfer none) the ring of @pad, NULL when the pad takes no part */
  GstMmdnnWindowRing *(*ring) (GstAggregator *agg, GstAggregatorPad *pad);
  /* GST_FLOW_OK, or why the pad stops the element (refused caps) */
  GstFlowReturn (*check_pad) (GstAggregator *agg, GstAggregatorPad *pad);
  /* whether the pad is muted: not waited for (NULL: never) */
  gboolean (*muted) (GstAggregator *agg, GstAggregatorPad *pad);
  /* a buffer with a running time, not a gap, before it is judged late:
   * anything wrong with it (post the error) stops the element */
  GstFlowReturn (*validate) (GstAggregator *agg, GstAggregatorPad *pad,
      GstBuffer *buf);
  /* @buf into @slot->data (slot_size bytes); set slot->n_real */
  GstFlowReturn (*extract) (GstAggregator *agg, GstAggregatorPad *pad,
      GstBuffer *buf, GstMmdnnWindowSlot *slot);
  /* window [ws, we) is due: compute it and push what it gives. @pads are
   * all the sink pads (refs held by the caller). */
  GstFlowReturn (*emit) (GstAggregator *agg, GstAggregatorPad **pads,
      guint n, GstClockTime ws, GstClockTime we);
} GstMmdnnWindowFuncs;

/* The element's side: where the windows are. */
typedef struct
{
  GstClockTime window, hop;     /* for this run (set in start ()) */
  GstClockTime t0;              /* NONE until known */
  guint64 index;                /* window being computed */
} GstMmdnnWindowClock;

/* t0 unknown, index 0 (start, stop, flush). */
void gst_mmdnn_window_clock_reset (GstMmdnnWindowClock *clock);
/* Start of the window being computed (t0 must be known). */
GstClockTime gst_mmdnn_window_clock_start (const GstMmdnnWindowClock *clock);
/* t0, following start-time-selection; for `first` the earliest head
 * buffer of the pads with a ring that is not aux, looked at only when
 * @look (in aggregate ()). FALSE while unknown. */
gboolean gst_mmdnn_window_clock_ensure_t0 (GstMmdnnWindowClock *clock,
    GstAggregator *agg, const GstMmdnnWindowFuncs *funcs, gboolean look);
/* For GstAggregatorClass.get_next_time: the current window's start (the
 * base class adds the latency: the window, upstream's, the property's). */
GstClockTime gst_mmdnn_window_clock_next_time (GstMmdnnWindowClock *clock,
    GstAggregator *agg, const GstMmdnnWindowFuncs *funcs);

/* The body of aggregate (): fills the rings from the pads' queues, emits
 * every window that is due (or, on @timeout, the current one with what
 * arrived), moves the source segment's position on, and returns
 * GST_FLOW_EOS once every pad is EOS and no features are left. */
GstFlowReturn gst_mmdnn_window_aggregate (GstAggregator *agg,
    GstMmdnnWindowClock *clock, const GstMmdnnWindowFuncs *funcs,
    gboolean timeout);

/* ------------------------------------------------------------- output */

/* The source segment's position at running time @rt. */
GstClockTime gst_mmdnn_window_output_pts (GstAggregator *agg,
                                          GstClockTime rt);
/* A window with nothing to show: a GAP event [ws, ws + dur) downstream
 * (after the segment, if no buffer sent it yet). */
GstFlowReturn gst_mmdnn_window_push_gap (GstAggregator *agg, GstClockTime ws,
                                         GstClockTime dur);

/* What window [ws, we) takes from an element's features pads, per
 * modality: the pad, the slot (NULL: missing or muted), its tokens, the mask of a
 * text cue's real tokens, presence (1 or 0) and the age of the newest
 * features (GST_CLOCK_TIME_NONE: none ever came). Filled by
 * gst_mmdnn_features_pads_take (). */
typedef struct
{
  GstAggregatorPad *pads[MMDNN_N_MODALITIES];   /* where each comes from */
  const GstMmdnnWindowSlot *slots[MMDNN_N_MODALITIES];
  const float *tokens[MMDNN_N_MODALITIES];
  const float *masks[MMDNN_N_MODALITIES];
  float presence[MMDNN_N_MODALITIES];
  GstClockTime age[MMDNN_N_MODALITIES];
  gboolean any;                 /* some modality is present */
} GstMmdnnWindowTake;

/* The output both mmdnnfuse and mmdnntrain give for a window: the fusion
 * stage *@stage run on @take with the weights @entry has now (a new stage
 * when they have other sizes), then the result of window [ws, ws + window): a
 * buffer (text line or fused vector) lasting @dur, its
 * GstMmdnnResultMeta, the `mmdnn-result` message, then
 * gst_aggregator_finish_buffer ().
 * A failure is posted as the element's error naming @model_name. */
GstFlowReturn gst_mmdnn_window_classify (GstAggregator *agg,
    GstMmdnnModelEntry *entry, MmdnnFuseStage **stage,
    const GstMmdnnWindowTake *take, GstClockTime ws, GstClockTime window,
    GstClockTime dur, gboolean out_text, const gchar *model_name);

/* The source caps of a result stream, for GstAggregatorClass
 * update_src_caps: text or the fused features of *@config (read under
 * @agg's object lock; NULL: not negotiated), as @downstream prefers. */
GstFlowReturn gst_mmdnn_window_update_src_caps (GstAggregator *agg,
    MmdnnModelConfig *const *config, GstCaps *downstream, GstCaps **ret);
/* For GstAggregatorClass fixate_src_caps: downstream's first choice. */
GstCaps *gst_mmdnn_window_fixate_src_caps (GstAggregator *agg,
    GstCaps *caps);
/* TRUE when the negotiated source @caps are text (not features). */
gboolean gst_mmdnn_window_caps_are_text (GstCaps *caps);

G_END_DECLS
