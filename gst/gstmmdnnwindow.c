/* mmdnn — windows of running time over features (see gstmmdnnwindow.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include "gstmmdnnmeta.h"
#include "gstmmdnnutils.h"
#include "gstmmdnnwindow.h"

GST_DEBUG_CATEGORY_STATIC (mmdnn_window_debug);
#define GST_CAT_DEFAULT mmdnn_window_debug

/* pads looked at by one aggregate () without allocating */
#define STACK_PADS 16

static void
debug_init (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (mmdnn_window_debug, "mmdnnwindow", 0,
        "mmdnn windows of running time (mmdnnfuse, mmdnntrain)");
    g_once_init_leave (&done, 1);
  }
}

GstMmdnnWindowRule
gst_mmdnn_window_rule_for (int modality)
{
  switch (modality) {
    case MMDNN_MODALITY_VIDEO:
      return GST_MMDNN_WINDOW_RULE_SCREEN;
    case MMDNN_MODALITY_AUDIO:
      return GST_MMDNN_WINDOW_RULE_OVERLAP;
    default:
      return GST_MMDNN_WINDOW_RULE_CUE;
  }
}

/* ----------------------------------------------------------------- ring */

void
gst_mmdnn_window_ring_init (GstMmdnnWindowRing *ring)
{
  memset (ring, 0, sizeof (*ring));
  ring->rule = GST_MMDNN_WINDOW_RULE_CUE;
  gst_mmdnn_window_ring_reset (ring);
}

void
gst_mmdnn_window_ring_clear (GstMmdnnWindowRing *ring)
{
  g_clear_pointer (&ring->storage, g_free);
  ring->slot_size = 0;
  gst_buffer_replace (&ring->held, NULL);
  ring->head = ring->count = 0;
}

void
gst_mmdnn_window_ring_reset (GstMmdnnWindowRing *ring)
{
  ring->head = ring->count = 0;
  gst_buffer_replace (&ring->held, NULL);
  ring->held_end = GST_CLOCK_TIME_NONE;
  ring->reached = GST_CLOCK_TIME_NONE;
  ring->pruned_end = GST_CLOCK_TIME_NONE;
  ring->warned_full = FALSE;
}

void
gst_mmdnn_window_ring_set_slot_size (GstMmdnnWindowRing *ring, gsize size)
{
  if (ring->storage != NULL && size == ring->slot_size)
    return;
  g_free (ring->storage);
  ring->slot_size = size;
  ring->storage = g_malloc0 (MAX (size, 1) * GST_MMDNN_WINDOW_SLOTS);
  for (guint i = 0; i < GST_MMDNN_WINDOW_SLOTS; i++)
    ring->slots[i].data = ring->storage + (gsize) i * size;
  gst_mmdnn_window_ring_reset (ring);
}

guint
gst_mmdnn_window_ring_count (const GstMmdnnWindowRing *ring)
{
  return ring->count;
}

static inline GstMmdnnWindowSlot *
slot_at (GstMmdnnWindowRing *ring, guint i)
{
  return &ring->slots[(ring->head + i) % GST_MMDNN_WINDOW_SLOTS];
}

GstMmdnnWindowSlot *
gst_mmdnn_window_ring_slot (GstMmdnnWindowRing *ring, guint i)
{
  g_return_val_if_fail (i < ring->count, NULL);
  return slot_at (ring, i);
}

static void
drop_oldest (GstMmdnnWindowRing *ring)
{
  GstMmdnnWindowSlot *s = slot_at (ring, 0);

  if (!GST_CLOCK_TIME_IS_VALID (ring->pruned_end) || s->end > ring->pruned_end)
    ring->pruned_end = s->end;
  ring->head = (ring->head + 1) % GST_MMDNN_WINDOW_SLOTS;
  ring->count--;
}

/* Lets go of the slots that can overlap no window from @ws on. The ring is
 * in arrival order, which for a well-behaved stream is time order; a slot
 * arrived out of order stays until the ones before it go. */
static void
prune (GstMmdnnWindowRing *ring, GstClockTime ws)
{
  while (ring->count > 0) {
    GstMmdnnWindowSlot *s = slot_at (ring, 0);
    gboolean gone = s->end > s->start ? s->end <= ws : s->start < ws;

    if (!gone)
      break;
    drop_oldest (ring);
  }
}

static inline gboolean
overlaps (const GstMmdnnWindowSlot *s, GstClockTime ws, GstClockTime we)
{
  return s->end > s->start ? s->start < we && s->end > ws
      : s->start >= ws && s->start < we;
}

static inline GstClockTime
overlap (const GstMmdnnWindowSlot *s, GstClockTime ws, GstClockTime we)
{
  GstClockTime a = MAX (s->start, ws), b = MIN (s->end, we);

  return b > a ? b - a : 0;
}

/* |centre of s − centre of the window|, doubled to stay in integers */
static inline GstClockTime
centre_distance (const GstMmdnnWindowSlot *s, GstClockTime ws,
    GstClockTime we)
{
  GstClockTime a = s->start + s->end, b = ws + we;

  return a > b ? a - b : b - a;
}

/* Whether frame @s shows at the window's centre rather than @best (see
 * GST_MMDNN_WINDOW_RULE_SCREEN): a frame starting at or before the centre
 * beats any starting after it; among those the later start, among these
 * the earlier; equal starts go to @s, the later arrival. The data set
 * loader's frame choice (dataset.c, frame_beats) is the same comparison. */
static inline gboolean
on_screen_beats (const GstMmdnnWindowSlot *s, const GstMmdnnWindowSlot *best,
    GstClockTime ws, GstClockTime we)
{
  gboolean s_shown = 2 * s->start <= ws + we;
  gboolean best_shown = 2 * best->start <= ws + we;

  if (s_shown != best_shown)
    return s_shown;
  return s_shown ? s->start >= best->start : s->start <= best->start;
}

const GstMmdnnWindowSlot *
gst_mmdnn_window_ring_select (GstMmdnnWindowRing *ring, GstClockTime ws,
    GstClockTime we, GstMmdnnWindowAccept accept, gpointer user_data)
{
  const GstMmdnnWindowSlot *best = NULL;
  GstClockTime best_ov = 0, best_dist = 0;

  for (guint i = 0; i < ring->count; i++) {
    const GstMmdnnWindowSlot *s = slot_at (ring, i);
    GstClockTime ov, dist;
    gboolean better;

    if (!overlaps (s, ws, we) || s->n_real == 0)
      continue;
    if (accept != NULL && !accept (s, user_data))
      continue;
    ov = overlap (s, ws, we);
    dist = centre_distance (s, ws, we);
    if (best == NULL) {
      better = TRUE;
    } else if (ring->rule == GST_MMDNN_WINDOW_RULE_SCREEN) {
      better = on_screen_beats (s, best, ws, we);
    } else if (ring->rule == GST_MMDNN_WINDOW_RULE_OVERLAP) {
      better = ov > best_ov || (ov == best_ov && (dist < best_dist
              || (dist == best_dist && s->start < best->start)));
    } else {
      /* cues: later arrivals win ties, so the latest cue */
      better = ov > best_ov || (ov == best_ov && s->start >= best->start);
    }
    if (better) {
      best = s;
      best_ov = ov;
      best_dist = dist;
    }
  }
  return best;
}

GstClockTime
gst_mmdnn_window_ring_age (GstMmdnnWindowRing *ring, GstClockTime we)
{
  GstClockTime newest = ring->pruned_end;

  for (guint i = 0; i < ring->count; i++) {
    const GstMmdnnWindowSlot *s = slot_at (ring, i);

    if (s->start < we && (!GST_CLOCK_TIME_IS_VALID (newest)
            || s->end > newest))
      newest = s->end;
  }
  if (!GST_CLOCK_TIME_IS_VALID (newest))
    return GST_CLOCK_TIME_NONE;
  return newest >= we ? 0 : we - newest;
}

/* ---------------------------------------------------------------- pads */

/* The sink pads now (refs in @stack, or in a new array when they are
 * more); *@cookie tells when they change. */
static guint
take_pads (GstElement *element, GstAggregatorPad **stack,
    GstAggregatorPad ***pads, guint32 *cookie)
{
  guint n = 0;

  GST_OBJECT_LOCK (element);
  *pads = element->numsinkpads > STACK_PADS
      ? g_new (GstAggregatorPad *, element->numsinkpads) : stack;
  for (GList *l = element->sinkpads; l != NULL; l = l->next)
    (*pads)[n++] = gst_object_ref (l->data);
  *cookie = element->pads_cookie;
  GST_OBJECT_UNLOCK (element);
  return n;
}

static void
drop_pads (GstAggregatorPad **stack, GstAggregatorPad **pads, guint n)
{
  for (guint p = 0; p < n; p++)
    gst_object_unref (pads[p]);
  if (pads != stack)
    g_free (pads);
}

static gboolean
pads_changed (GstElement *element, guint32 cookie)
{
  gboolean changed;

  GST_OBJECT_LOCK (element);
  changed = element->pads_cookie != cookie;
  GST_OBJECT_UNLOCK (element);
  return changed;
}

/* Running time of the head buffer of @pad, NONE if it has none. */
static GstClockTime
head_running_time (GstAggregatorPad *pad)
{
  GstBuffer *buf = gst_aggregator_pad_peek_buffer (pad);
  GstClockTime rt = GST_CLOCK_TIME_NONE;

  if (buf == NULL)
    return rt;
  if (GST_BUFFER_PTS_IS_VALID (buf) && pad->segment.format == GST_FORMAT_TIME) {
    GST_OBJECT_LOCK (pad);
    rt = gst_segment_to_running_time (&pad->segment, GST_FORMAT_TIME,
        GST_BUFFER_PTS (buf));
    GST_OBJECT_UNLOCK (pad);
  }
  gst_buffer_unref (buf);
  return rt;
}

static gboolean
pad_muted (GstAggregator *agg, const GstMmdnnWindowFuncs *funcs,
    GstAggregatorPad *pad)
{
  return funcs->muted != NULL && funcs->muted (agg, pad);
}

/* --------------------------------------------------------------- clock */

void
gst_mmdnn_window_clock_reset (GstMmdnnWindowClock *clock)
{
  clock->t0 = GST_CLOCK_TIME_NONE;
  clock->index = 0;
}

GstClockTime
gst_mmdnn_window_clock_start (const GstMmdnnWindowClock *clock)
{
  return clock->t0 + clock->index * clock->hop;
}

gboolean
gst_mmdnn_window_clock_ensure_t0 (GstMmdnnWindowClock *clock,
    GstAggregator *agg, const GstMmdnnWindowFuncs *funcs, gboolean look)
{
  GstAggregatorStartTimeSelection sel;
  guint64 start_time;

  debug_init ();
  if (GST_CLOCK_TIME_IS_VALID (clock->t0))
    return TRUE;
  g_object_get (agg, "start-time-selection", &sel, "start-time",
      &start_time, NULL);
  if (sel == GST_AGGREGATOR_START_TIME_SELECTION_ZERO) {
    clock->t0 = 0;
  } else if (sel == GST_AGGREGATOR_START_TIME_SELECTION_SET) {
    clock->t0 = GST_CLOCK_TIME_IS_VALID (start_time) ? start_time : 0;
  } else if (look) {
    GstAggregatorPad *stack[STACK_PADS], **pads;
    guint32 cookie;
    guint n = take_pads (GST_ELEMENT (agg), stack, &pads, &cookie);

    for (guint p = 0; p < n; p++) {
      GstMmdnnWindowRing *ring = funcs->ring (agg, pads[p]);
      GstClockTime rt;

      if (ring == NULL || ring->aux)
        continue;
      rt = head_running_time (pads[p]);
      if (GST_CLOCK_TIME_IS_VALID (rt) && (!GST_CLOCK_TIME_IS_VALID
              (clock->t0) || rt < clock->t0))
        clock->t0 = rt;
    }
    drop_pads (stack, pads, n);
  }
  if (GST_CLOCK_TIME_IS_VALID (clock->t0))
    GST_DEBUG_OBJECT (agg, "windows start at %" GST_TIME_FORMAT,
        GST_TIME_ARGS (clock->t0));
  return GST_CLOCK_TIME_IS_VALID (clock->t0);
}

GstClockTime
gst_mmdnn_window_clock_next_time (GstMmdnnWindowClock *clock,
    GstAggregator *agg, const GstMmdnnWindowFuncs *funcs)
{
  if (!gst_mmdnn_window_clock_ensure_t0 (clock, agg, funcs, FALSE))
    return GST_CLOCK_TIME_NONE;
  return gst_mmdnn_window_clock_start (clock);
}

/* ----------------------------------------------------------- buffers */

static void
post_qos (GstAggregator *agg, GstAggregatorPad *pad, GstMmdnnWindowRing *ring,
    GstBuffer *buf, GstClockTime start, GstClockTime end, GstClockTime ws)
{
  GstClockTime stream_time;
  GstMessage *msg;
  gboolean live;

  GST_OBJECT_LOCK (pad);
  stream_time = gst_segment_to_stream_time (&pad->segment, GST_FORMAT_TIME,
      GST_BUFFER_PTS (buf));
  GST_OBJECT_UNLOCK (pad);
  live = GST_CLOCK_TIME_IS_VALID (gst_aggregator_get_latency (agg));
  msg = gst_message_new_qos (GST_OBJECT (agg), live, start, stream_time,
      GST_BUFFER_PTS (buf), GST_BUFFER_DURATION (buf));
  gst_message_set_qos_values (msg, GST_CLOCK_DIFF (end, ws), 1.0, 1000000);
  gst_message_set_qos_stats (msg, GST_FORMAT_BUFFERS, ring->processed,
      ring->dropped);
  gst_element_post_message (GST_ELEMENT (agg), msg);
}

/* One buffer from @pad into its ring (or dropped, late); *@end_out: its
 * end, NONE when it is dropped. */
static GstFlowReturn
take_buffer (GstAggregator *agg, const GstMmdnnWindowFuncs *funcs,
    GstAggregatorPad *pad, GstMmdnnWindowRing *ring, GstBuffer *buf,
    GstClockTime ws, GstClockTime *end_out)
{
  GstClockTime start, end, pts = GST_BUFFER_PTS (buf);
  gboolean gap = GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP)
      && gst_buffer_get_size (buf) == 0;
  GstMmdnnWindowSlot *slot;
  GstFlowReturn ret;

  *end_out = GST_CLOCK_TIME_NONE;
  if (!GST_CLOCK_TIME_IS_VALID (pts)) {
    GST_WARNING_OBJECT (pad, "dropping data without timestamp");
    return GST_FLOW_OK;
  }
  GST_OBJECT_LOCK (pad);
  if (pad->segment.format == GST_FORMAT_TIME) {
    start = gst_segment_to_running_time (&pad->segment, GST_FORMAT_TIME, pts);
    end = GST_BUFFER_DURATION_IS_VALID (buf)
        ? gst_segment_to_running_time (&pad->segment, GST_FORMAT_TIME,
        pts + GST_BUFFER_DURATION (buf)) : start;
  } else {
    start = end = GST_CLOCK_TIME_NONE;
  }
  GST_OBJECT_UNLOCK (pad);
  if (!GST_CLOCK_TIME_IS_VALID (start) || !GST_CLOCK_TIME_IS_VALID (end)) {
    GST_DEBUG_OBJECT (pad, "dropping data outside a TIME segment");
    return GST_FLOW_OK;
  }

  if (!GST_CLOCK_TIME_IS_VALID (ring->reached) || end > ring->reached)
    ring->reached = end;
  if (gap) {
    GST_LOG_OBJECT (pad, "gap up to %" GST_TIME_FORMAT, GST_TIME_ARGS (end));
    *end_out = end;
    return GST_FLOW_OK;
  }

  if (funcs->validate != NULL
      && (ret = funcs->validate (agg, pad, buf)) != GST_FLOW_OK)
    return ret;

  if (end > start ? end <= ws : start < ws) {
    ring->dropped++;
    GST_INFO_OBJECT (pad, "late data %" GST_TIME_FORMAT " – %"
        GST_TIME_FORMAT " before the window at %" GST_TIME_FORMAT,
        GST_TIME_ARGS (start), GST_TIME_ARGS (end), GST_TIME_ARGS (ws));
    post_qos (agg, pad, ring, buf, start, end, ws);
    return GST_FLOW_OK;
  }

  if (ring->count == GST_MMDNN_WINDOW_SLOTS) {
    if (!ring->warned_full)
      GST_WARNING_OBJECT (pad, "more than %d buffers waiting: dropping "
          "the oldest", GST_MMDNN_WINDOW_SLOTS);
    ring->warned_full = TRUE;
    drop_oldest (ring);
  }
  slot = slot_at (ring, ring->count);
  slot->start = start;
  slot->end = end;
  slot->n_real = 0;
  if ((ret = funcs->extract (agg, pad, buf, slot)) != GST_FLOW_OK)
    return ret;
  ring->count++;
  ring->processed++;
  *end_out = end;
  GST_LOG_OBJECT (pad, "data %" GST_TIME_FORMAT " – %" GST_TIME_FORMAT
      " (%" G_GINT64_FORMAT " real)", GST_TIME_ARGS (start),
      GST_TIME_ARGS (end), slot->n_real);
  return GST_FLOW_OK;
}

/* Copies @pad's queued buffers into its ring until its data reaches the
 * end @we of the window. The buffer that reaches it stays queued in the
 * pad (it is only peeked), so the pad counts as having data for the base
 * class until the windows move past it; what lies beyond stays queued
 * too, holding the pad's upstream back. */
static GstFlowReturn
fill (GstAggregator *agg, const GstMmdnnWindowFuncs *funcs,
    GstAggregatorPad *pad, GstMmdnnWindowRing *ring, GstClockTime ws,
    GstClockTime we)
{
  for (;;) {
    GstBuffer *buf = gst_aggregator_pad_peek_buffer (pad);

    if (buf == NULL)
      break;
    if (buf != ring->held) {
      GstClockTime end;
      GstFlowReturn ret = take_buffer (agg, funcs, pad, ring, buf, ws, &end);

      if (ret != GST_FLOW_OK) {
        gst_buffer_unref (buf);
        return ret;
      }
      gst_buffer_replace (&ring->held, buf);
      ring->held_end = end;
    }
    gst_buffer_unref (buf);
    if (GST_CLOCK_TIME_IS_VALID (ring->held_end) && ring->held_end >= we)
      break;
    gst_aggregator_pad_drop_buffer (pad);
    gst_buffer_replace (&ring->held, NULL);
    ring->held_end = GST_CLOCK_TIME_NONE;
  }
  return GST_FLOW_OK;
}

static gboolean
any_data_from (GstAggregator *agg, const GstMmdnnWindowFuncs *funcs,
    GstAggregatorPad **pads, guint n, GstClockTime ws)
{
  for (guint p = 0; p < n; p++) {
    GstMmdnnWindowRing *ring = funcs->ring (agg, pads[p]);

    if (ring == NULL || ring->aux)
      continue;
    for (guint i = 0; i < ring->count; i++) {
      const GstMmdnnWindowSlot *s = slot_at (ring, i);

      if (s->end > s->start ? s->end > ws : s->start >= ws)
        return TRUE;
    }
  }
  return FALSE;
}

GstFlowReturn
gst_mmdnn_window_aggregate (GstAggregator *agg, GstMmdnnWindowClock *clock,
    const GstMmdnnWindowFuncs *funcs, gboolean timeout)
{
  GstElement *element = GST_ELEMENT (agg);
  GstAggregatorPad *stack[STACK_PADS], **pads;
  GstFlowReturn ret = GST_AGGREGATOR_FLOW_NEED_DATA;
  guint32 cookie;
  guint n;

  debug_init ();
  if (!gst_mmdnn_window_clock_ensure_t0 (clock, agg, funcs, TRUE))
    clock->t0 = 0;
  n = take_pads (element, stack, &pads, &cookie);

  for (;;) {
    GstClockTime ws = gst_mmdnn_window_clock_start (clock);
    GstClockTime we = ws + clock->window;
    gboolean ready = TRUE, all_eos = TRUE, any_reached = FALSE;
    GstSegment *srcseg;
    GstFlowReturn fret;

    if (n == 0)
      break;
    for (guint p = 0; p < n; p++) {
      GstAggregatorPad *pad = pads[p];
      GstMmdnnWindowRing *ring = funcs->ring (agg, pad);
      gboolean eos;

      if (ring == NULL)
        continue;
      if (funcs->check_pad != NULL
          && (fret = funcs->check_pad (agg, pad)) != GST_FLOW_OK) {
        ret = fret;
        goto done;
      }
      if ((fret = fill (agg, funcs, pad, ring, ws, we)) != GST_FLOW_OK) {
        ret = fret;
        goto done;
      }
      prune (ring, ws);
      eos = gst_aggregator_pad_is_eos (pad);
      /* labels alone neither keep the element going nor move it on */
      if (!ring->aux)
        all_eos &= eos;
      if (GST_CLOCK_TIME_IS_VALID (ring->reached) && ring->reached >= we) {
        if (!ring->aux)
          any_reached = TRUE;
      } else if (!eos && !pad_muted (agg, funcs, pad)) {
        ready = FALSE;
      }
    }
    /* muted or EOS pads alone do not move the windows on */
    ready &= any_reached;

    if (all_eos) {
      if (!any_data_from (agg, funcs, pads, n, ws)) {
        GST_INFO_OBJECT (agg, "all pads EOS, no features left");
        ret = GST_FLOW_EOS;
        goto done;
      }
    } else if (!ready && !timeout) {
      GST_LOG_OBJECT (agg, "window %" GST_TIME_FORMAT " waits for data",
          GST_TIME_ARGS (ws));
      goto done;
    } else if (!ready) {
      GST_DEBUG_OBJECT (agg, "timeout: window %" GST_TIME_FORMAT
          " with what arrived", GST_TIME_ARGS (ws));
    }

    /* a pad requested or released meanwhile takes part from now on */
    if (pads_changed (element, cookie)) {
      GST_DEBUG_OBJECT (agg, "pads changed: window %" GST_TIME_FORMAT
          " again", GST_TIME_ARGS (ws));
      drop_pads (stack, pads, n);
      n = take_pads (element, stack, &pads, &cookie);
      continue;
    }

    ret = funcs->emit (agg, pads, n, ws, we);
    timeout = FALSE;
    clock->index++;
    GST_OBJECT_LOCK (agg);
    srcseg = &GST_AGGREGATOR_PAD (GST_AGGREGATOR_SRC_PAD (agg))->segment;
    srcseg->position = gst_segment_position_from_running_time (srcseg,
        GST_FORMAT_TIME, gst_mmdnn_window_clock_start (clock));
    GST_OBJECT_UNLOCK (agg);
    if (ret != GST_FLOW_OK)
      goto done;
  }

done:
  drop_pads (stack, pads, n);
  return ret;
}

/* -------------------------------------------------------------- output */

GstClockTime
gst_mmdnn_window_output_pts (GstAggregator *agg, GstClockTime rt)
{
  GstClockTime pts;

  GST_OBJECT_LOCK (agg);
  pts = gst_segment_position_from_running_time (&GST_AGGREGATOR_PAD
      (GST_AGGREGATOR_SRC_PAD (agg))->segment, GST_FORMAT_TIME, rt);
  GST_OBJECT_UNLOCK (agg);
  return GST_CLOCK_TIME_IS_VALID (pts) ? pts : rt;
}

GstFlowReturn
gst_mmdnn_window_push_gap (GstAggregator *agg, GstClockTime ws,
    GstClockTime dur)
{
  GstPad *srcpad = GST_AGGREGATOR_SRC_PAD (agg);
  GstEvent *seg = gst_pad_get_sticky_event (srcpad, GST_EVENT_SEGMENT, 0);

  debug_init ();
  GST_DEBUG_OBJECT (agg, "nothing present in the window at %"
      GST_TIME_FORMAT ": gap", GST_TIME_ARGS (ws));
  /* the base class sends the segment with the first buffer: a gap before
   * any result needs it first */
  if (seg == NULL) {
    GstSegment segment;

    GST_OBJECT_LOCK (agg);
    gst_segment_copy_into (&GST_AGGREGATOR_PAD (srcpad)->segment, &segment);
    GST_OBJECT_UNLOCK (agg);
    gst_pad_push_event (srcpad, gst_event_new_segment (&segment));
  } else {
    gst_event_unref (seg);
  }
  gst_pad_push_event (srcpad, gst_event_new_gap
      (gst_mmdnn_window_output_pts (agg, ws), dur));
  return GST_FLOW_OK;
}

static GstBuffer *
make_output (const MmdnnModelConfig *c, const MmdnnOutputs *out,
    gboolean out_text)
{
  GstBuffer *buf;

  if (out_text) {
    const float *p = out->probs[0];
    gint64 best = 0;
    gchar *line;

    for (gint64 k = 1; k < c->tasks[0].n_classes; k++)
      if (p[k] > p[best])
        best = k;
    line = g_strdup_printf ("%s %d%%", c->tasks[0].classes[best],
        (int) lround (p[best] * 100.0));
    buf = gst_buffer_new_wrapped (line, strlen (line));
  } else {
    gsize size = sizeof (float) * (gsize) c->fusion.dim;

    buf = gst_buffer_new_allocate (NULL, size, NULL);
    gst_buffer_fill (buf, 0, out->fused, size);
  }
  return buf;
}

/* The result of the fuse stage's output @out (sample 0) computed with
 * config @c of model version @version. */
static GstFlowReturn
finish_result (GstAggregator *agg, const MmdnnModelConfig *c, guint64 version, const MmdnnOutputs *out,
    const float *presence, const GstClockTime *age, GstClockTime ws,
    GstClockTime window, GstClockTime dur, gboolean out_text)
{
  GstMmdnnResultMeta *meta;
  GstStructure *s;
  GstBuffer *buf;
  gchar *json;

  debug_init ();
  buf = make_output (c, out, out_text);
  GST_BUFFER_PTS (buf) = gst_mmdnn_window_output_pts (agg, ws);
  GST_BUFFER_DURATION (buf) = dur;
  meta = gst_buffer_add_mmdnn_result_meta (buf, c, out, presence, 0);
  meta->running_time = ws;
  meta->duration = window;
  meta->model_version = version;
  memcpy (meta->age, age, sizeof (meta->age));

  json = gst_mmdnn_result_meta_to_json (meta);
  s = gst_structure_new ("mmdnn-result",
      "running-time", G_TYPE_UINT64, (guint64) ws,
      "duration", G_TYPE_UINT64, (guint64) window,
      "label", G_TYPE_STRING, g_quark_to_string (meta->tasks[0].label),
      "confidence", G_TYPE_DOUBLE, (gdouble) meta->tasks[0].confidence,
      "json", G_TYPE_STRING, json, NULL);
  g_free (json);
  GST_DEBUG_OBJECT (agg, "window %" GST_TIME_FORMAT ": %s %.3f",
      GST_TIME_ARGS (ws), g_quark_to_string (meta->tasks[0].label),
      meta->tasks[0].confidence);
  gst_element_post_message (GST_ELEMENT (agg),
      gst_message_new_element (GST_OBJECT (agg), s));

  gst_aggregator_selected_samples (agg, GST_BUFFER_PTS (buf),
      GST_CLOCK_TIME_NONE, dur, NULL);
  return gst_aggregator_finish_buffer (agg, buf);
}

GstFlowReturn
gst_mmdnn_window_classify (GstAggregator *agg, GstMmdnnModelEntry *entry,
    MmdnnFuseStage **stage, const GstMmdnnWindowTake *take,
    GstClockTime ws, GstClockTime window, GstClockTime dur,
    gboolean out_text, const gchar *model_name)
{
  GstMmdnnModelSnapshot *snap = gst_mmdnn_model_entry_snapshot (entry);
  GError *err = NULL;
  MmdnnOutputs out;
  GstFlowReturn ret;

  debug_init ();
  /* a published model may have other sizes than the one we started with */
  if (!mmdnn_fuse_stage_fits (*stage, snap->model)) {
    GST_INFO_OBJECT (agg, "model version %" G_GUINT64_FORMAT " has other "
        "sizes: new activations", snap->version);
    mmdnn_fuse_stage_free (*stage);
    *stage = mmdnn_fuse_stage_new (snap->model, 1, &err);
    if (*stage == NULL)
      goto failed;
  }
  if (!mmdnn_fuse_stage_run (*stage, snap->model, take->tokens, take->masks,
          take->presence, 1, &out, &err))
    goto failed;

  ret = finish_result (agg, snap->model->config,
      snap->version, &out, take->presence, take->age, ws, window, dur,
      out_text);
  gst_mmdnn_model_snapshot_unref (snap);
  return ret;

failed:
  gst_mmdnn_post_error (GST_ELEMENT (agg), err, model_name);
  g_clear_error (&err);
  gst_mmdnn_model_snapshot_unref (snap);
  return GST_FLOW_ERROR;
}

/* ---------------------------------------------------------- source caps */

GstFlowReturn
gst_mmdnn_window_update_src_caps (GstAggregator *agg,
    MmdnnModelConfig *const *config, GstCaps *downstream, GstCaps **ret)
{
  GstCaps *ours;

  debug_init ();
  GST_OBJECT_LOCK (agg);
  if (*config == NULL) {
    GST_OBJECT_UNLOCK (agg);
    return GST_FLOW_NOT_NEGOTIATED;
  }
  ours = gst_caps_new_simple ("text/x-raw", "format", G_TYPE_STRING, "utf8",
      NULL);
  gst_caps_append (ours, gst_mmdnn_features_caps_new
      (GST_MMDNN_MODALITY_FUSED, 1, (gint) (*config)->fusion.dim,
          (*config)->model_id));
  GST_OBJECT_UNLOCK (agg);

  *ret = gst_caps_intersect_full (downstream, ours, GST_CAPS_INTERSECT_FIRST);
  gst_caps_unref (ours);
  GST_DEBUG_OBJECT (agg, "downstream %" GST_PTR_FORMAT " → %" GST_PTR_FORMAT,
      downstream, *ret);
  if (gst_caps_is_empty (*ret)) {
    GST_WARNING_OBJECT (agg, "downstream takes neither text nor the fused "
        "features: %" GST_PTR_FORMAT, downstream);
    gst_caps_replace (ret, NULL);
    return GST_FLOW_NOT_NEGOTIATED;
  }
  return GST_FLOW_OK;
}

GstCaps *
gst_mmdnn_window_fixate_src_caps (GstAggregator *agg, GstCaps *caps)
{
  caps = gst_caps_truncate (caps);
  return gst_caps_fixate (caps);
}

gboolean
gst_mmdnn_window_caps_are_text (GstCaps *caps)
{
  return gst_structure_has_name (gst_caps_get_structure (caps, 0),
      "text/x-raw");
}
