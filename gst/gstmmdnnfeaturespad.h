/* mmdnn — GstMmdnnFeaturesPad: the features sink pad of mmdnnfuse and
 * mmdnntrain (see the SECTION doc in gstmmdnnfeaturespad.c).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>
#include <gst/base/gstaggregator.h>
#include <mmdnn/mmdnn.h>

#include "gstmmdnnwindow.h"

G_BEGIN_DECLS

/* The instance struct is public (the elements read the negotiated format
 * in their streaming thread), so the type macros are written out, as
 * GstAggregatorPad's are: G_DECLARE_DERIVABLE_TYPE would hide the fields. */
#define GST_TYPE_MMDNN_FEATURES_PAD (gst_mmdnn_features_pad_get_type ())
#define GST_MMDNN_FEATURES_PAD(obj) (G_TYPE_CHECK_INSTANCE_CAST ((obj), \
        GST_TYPE_MMDNN_FEATURES_PAD, GstMmdnnFeaturesPad))
#define GST_MMDNN_FEATURES_PAD_CLASS(klass) (G_TYPE_CHECK_CLASS_CAST \
        ((klass), GST_TYPE_MMDNN_FEATURES_PAD, GstMmdnnFeaturesPadClass))
#define GST_MMDNN_FEATURES_PAD_GET_CLASS(obj) (G_TYPE_INSTANCE_GET_CLASS \
        ((obj), GST_TYPE_MMDNN_FEATURES_PAD, GstMmdnnFeaturesPadClass))
#define GST_IS_MMDNN_FEATURES_PAD(obj) (G_TYPE_CHECK_INSTANCE_TYPE ((obj), \
        GST_TYPE_MMDNN_FEATURES_PAD))
#define GST_IS_MMDNN_FEATURES_PAD_CLASS(klass) (G_TYPE_CHECK_CLASS_TYPE \
        ((klass), GST_TYPE_MMDNN_FEATURES_PAD))

typedef struct _GstMmdnnFeaturesPad GstMmdnnFeaturesPad;
typedef struct _GstMmdnnFeaturesPadClass GstMmdnnFeaturesPadClass;

/**
 * GstMmdnnFeaturesPad:
 * @modality: the #MmdnnModality of the caps, −1 before caps
 * @tokens: K of the caps
 * @dim: D of the caps
 * @refused: the last caps event was refused
 * @ring: what the pad received: per slot K × D float32 tokens, then
 *   the subclass's extra bytes (#GstMmdnnFeaturesPadClass.set_modality)
 *
 * All public fields belong to the aggregator's streaming thread (caps,
 * buffers and flushes are all handled there).
 */
struct _GstMmdnnFeaturesPad
{
  GstAggregatorPad parent;

  int modality;
  gint tokens, dim;
  gboolean refused;
  GstMmdnnWindowRing ring;

  /*< private >*/
  gsize extra;                  /* bytes per slot after the tokens */
  /* object lock */
  gboolean mute;
  GstCaps *refused_caps;        /* the last caps refused: reported once */
};

/**
 * GstMmdnnFeaturesPadClass:
 * @parent_class: the parent class
 * @set_modality: the pad now carries features of @modality on @element
 *   (streaming thread): set up what the subclass keeps for them and return
 *   how many bytes every ring slot holds after the tokens (NULL: none)
 * @refusal_text: the element's error text (translated, newly allocated)
 *   for caps refused on @pad, @why the reason (translated); required
 * @size_text: the element's error text (translated, newly allocated) for
 *   features on @pad whose size is not what the caps say; required
 *
 * The subclass of each element: mmdnnfuse's #GstMmdnnFusePad,
 * mmdnntrain's #GstMmdnnTrainPad. The error texts name the element.
 */
struct _GstMmdnnFeaturesPadClass
{
  GstAggregatorPadClass parent_class;

  gsize (*set_modality) (GstMmdnnFeaturesPad *pad, GstElement *element,
                         int modality);
  gchar *(*refusal_text) (GstMmdnnFeaturesPad *pad, const gchar *why);
  gchar *(*size_text) (GstMmdnnFeaturesPad *pad);
};

GType gst_mmdnn_features_pad_get_type (void);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstMmdnnFeaturesPad, gst_object_unref)

/* ------------------------------------------------------------- caps */

/* The element's GstAggregatorClass.sink_query for a features pad: answers
 * CAPS and ACCEPT_CAPS from the model config *@config (the element's,
 * read under @element's object lock; NULL before start: the template)
 * and returns TRUE; FALSE for any other query (chain up). Fixed caps that
 * do not fit are refused with the element's error, once per caps. */
gboolean gst_mmdnn_features_pad_sink_query (GstMmdnnFeaturesPad *pad,
    GstElement *element, MmdnnModelConfig *const *config, GstQuery *query);

/* In the streaming thread, for a CAPS event: checks @caps as accept-caps
 * does and sets the pad up for them (the ring emptied when the format
 * changes). FALSE when they are refused (the element's error is posted,
 * once per caps) or when there is no model yet. */
gboolean gst_mmdnn_features_pad_set_caps (GstMmdnnFeaturesPad *pad,
    GstElement *element, MmdnnModelConfig *const *config, GstCaps *caps);

/* --------------------------------------------------- window funcs */

/* The features pads' part of GstMmdnnWindowFuncs, to plug in as they are;
 * pads of any other type take no part, are never muted and always pass. */
GstMmdnnWindowRing *gst_mmdnn_features_pad_window_ring (GstAggregator *agg,
    GstAggregatorPad *pad);
/* GST_FLOW_NOT_NEGOTIATED after refused caps */
GstFlowReturn gst_mmdnn_features_pad_window_check (GstAggregator *agg,
    GstAggregatorPad *pad);
gboolean gst_mmdnn_features_pad_window_muted (GstAggregator *agg,
    GstAggregatorPad *pad);
/* caps before the buffer, and K × D float32 in it */
GstFlowReturn gst_mmdnn_features_pad_window_validate (GstAggregator *agg,
    GstAggregatorPad *pad, GstBuffer *buf);
/* the tokens into the slot and n_real (a text cue: its real tokens); the
 * subclass's extra bytes are the caller's */
GstFlowReturn gst_mmdnn_features_pad_window_extract (GstAggregator *agg,
    GstAggregatorPad *pad, GstBuffer *buf, GstMmdnnWindowSlot *slot);

/* For an element's emit: the slot @pad gives window [ws, we), NULL when
 * it is muted or has none; *@age: see gst_mmdnn_window_ring_age (). */
const GstMmdnnWindowSlot *gst_mmdnn_features_pad_select
    (GstMmdnnFeaturesPad *pad, GstClockTime ws, GstClockTime we,
    GstClockTime *age);

/* For an element's emit: fills @take with what window [ws, we) takes from
 * the features pads among @pads (pads of other types are skipped); a text
 * cue's mask goes to @mask (as many floats as the model's most tokens). */
void gst_mmdnn_features_pads_take (GstAggregatorPad **pads, guint n,
    GstClockTime ws, GstClockTime we, float *mask, GstMmdnnWindowTake *take);

/* ------------------------------------------------------ child proxy */

/* GstChildProxy over an element's sink pads, so that gst-launch can set
 * `sink_0::mute=true`: the interface init, and the element's
 * request_new_pad and release_pad chaining up to @parent_class and
 * announcing the child. */
void gst_mmdnn_child_proxy_sink_pads_init (gpointer g_iface,
    gpointer iface_data);
GstPad *gst_mmdnn_child_proxy_request_pad (GstElementClass *parent_class,
    GstElement *element, GstPadTemplate *templ, const gchar *name,
    const GstCaps *caps);
void gst_mmdnn_child_proxy_release_pad (GstElementClass *parent_class,
    GstElement *element, GstPad *pad);

G_END_DECLS
