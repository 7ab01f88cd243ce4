/* mmdnn — mmdnntextenc: subtitle cues → text features.
 * SPDX-License-Identifier: LGPL-2.1-or-later */

/**
 * SECTION:element-mmdnntextenc
 * @title: mmdnntextenc
 * @see_also: mmdnnvideoenc, mmdnnaudioenc, mmdnnfuse, subparse
 *
 * Encodes subtitle cues with the text encoder of an mmdnn model: each cue
 * becomes K feature tokens of width D (for the default model 32 × 128, one
 * token per word position; the rows after the cue's last word are padding,
 * all zeros), ready for mmdnnfuse.
 *
 * The cue goes through the model's own tokenizer, the code the `mmdnn`
 * command-line tool uses for training: SRT/HTML/pango tags, WebVTT
 * timestamps and ASS override blocks are stripped, the XML entities
 * (&amp;amp; &amp;lt; &amp;gt; &amp;quot; &amp;apos; and numeric ones) are
 * decoded, the text is NFKC-normalised and case-folded, and its words
 * hashed. So pango-markup from subparse and the same text as plain UTF-8
 * give the same features. Trailing NUL bytes of a buffer are ignored; after
 * the model's token limit (32 words by default) the rest of a cue is.
 *
 * ## Caps
 *
 * * Sink: `text/x-raw, format={ utf8, pango-markup }` (what subparse and
 *   the subtitle decoders give; the format field is required).
 * * Source: `application/x-mmdnn-features, modality=text, tokens=K, dim=D,
 *   model=<the model id>`; each buffer holds K × D float32, token-major.
 *
 * ## Timestamps and cues without words
 *
 * The output keeps the cue's PTS and duration (DTS and offsets are unset).
 * A cue that yields no word (empty, only white space, only markup) gives no
 * buffer: a GAP event for its span goes downstream instead, so an
 * aggregator such as mmdnnfuse does not wait for it. A cue that is not
 * valid UTF-8 is reported with a warning message and replaced by a GAP
 * event the same way; the stream goes on. A cue without a PTS is dropped
 * with a warning message.
 *
 * ## Properties
 *
 * * #GstMmdnnEncoder:model (from the base class #GstMmdnnEncoder): the
 *   model file whose tokenizer and text encoder are used (default: the
 *   model installed with the plugin).
 *
 * ## Bus messages
 *
 * No element messages. Warnings (`GST_STREAM_ERROR_DECODE` for a cue that is
 * not UTF-8, `GST_STREAM_ERROR_FORMAT` for a cue without a timestamp).
 * Errors:
 * * `GST_RESOURCE_ERROR_OPEN_READ`: the model file cannot be opened;
 * * `GST_RESOURCE_ERROR_READ`: the file is not an mmdnn model;
 * * `GST_STREAM_ERROR_WRONG_TYPE`: the model has no text encoder.
 * Model errors are posted on the READY → PAUSED change, which then fails.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=subs.srt ! subparse ! mmdnntextenc ! fakesink
 * ]| Encodes every cue of an SRT file with the default model.
 * |[
 * gst-launch-1.0 -v filesrc location=subs.srt ! subparse ! mmdnntextenc ! fakesink silent=false
 * ]| The same, showing the features caps and one line per feature buffer
 * (and per GAP event of an empty cue).
 *
 * Since: 0.1
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <glib/gi18n-lib.h>

#include "gstmmdnnelements.h"
#include "gstmmdnntextenc.h"
#include "gstmmdnnutils.h"

GST_DEBUG_CATEGORY_STATIC (mmdnn_text_enc_debug);
#define GST_CAT_DEFAULT mmdnn_text_enc_debug

#define SINK_CAPS "text/x-raw, format=(string){ utf8, pango-markup }"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (SINK_CAPS));

struct _GstMmdnnTextEnc
{
  GstMmdnnEncoder parent;

  /* from start () to stop () (open/close) */
  MmdnnTextConfig text_prep;
  int32_t *ids;                 /* (max_tokens, max_ids_per_token): the
                                 * queued cue's, from submit to transform */
};

#define gst_mmdnn_text_enc_parent_class parent_class
G_DEFINE_TYPE (GstMmdnnTextEnc, gst_mmdnn_text_enc, GST_TYPE_MMDNN_ENCODER);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (mmdnntextenc, "mmdnntextenc",
    GST_RANK_NONE, GST_TYPE_MMDNN_TEXT_ENC, mmdnn_element_init (plugin));

static gboolean gst_mmdnn_text_enc_open (GstMmdnnEncoder *enc,
    const MmdnnModel *model, GError **error);
static void gst_mmdnn_text_enc_close (GstMmdnnEncoder *enc);
static gboolean gst_mmdnn_text_enc_set_caps (GstBaseTransform *trans,
    GstCaps *incaps, GstCaps *outcaps);
static GstFlowReturn gst_mmdnn_text_enc_submit_input_buffer (GstBaseTransform
    *trans, gboolean is_discont, GstBuffer *input);
static GstFlowReturn gst_mmdnn_text_enc_transform (GstBaseTransform *trans,
    GstBuffer *inbuf, GstBuffer *outbuf);

static void
gst_mmdnn_text_enc_class_init (GstMmdnnTextEncClass *klass)
{
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstMmdnnEncoderClass *enc_class = GST_MMDNN_ENCODER_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (mmdnn_text_enc_debug, "mmdnntextenc", 0,
      "mmdnn text encoder");

  gst_element_class_set_static_metadata (element_class,
      "mmdnn text encoder", "Filter/Analyzer/Text",
      "Encodes subtitle cues into mmdnn feature tokens",
      "mmdnn developers <dev@mmdnn.invalid>");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_mmdnn_encoder_class_set_modality (enc_class, MMDNN_MODALITY_TEXT);

  trans_class->set_caps = GST_DEBUG_FUNCPTR (gst_mmdnn_text_enc_set_caps);
  trans_class->submit_input_buffer =
      GST_DEBUG_FUNCPTR (gst_mmdnn_text_enc_submit_input_buffer);
  trans_class->transform = GST_DEBUG_FUNCPTR (gst_mmdnn_text_enc_transform);

  enc_class->open = GST_DEBUG_FUNCPTR (gst_mmdnn_text_enc_open);
  enc_class->close = GST_DEBUG_FUNCPTR (gst_mmdnn_text_enc_close);
}

static void
gst_mmdnn_text_enc_init (GstMmdnnTextEnc *self)
{
}

/* ------------------------------------------------------------ start/stop */

static gboolean
gst_mmdnn_text_enc_open (GstMmdnnEncoder *enc, const MmdnnModel *model,
    GError **error)
{
  GstMmdnnTextEnc *self = GST_MMDNN_TEXT_ENC (enc);
  const MmdnnModelConfig *c = model->config;
  int64_t n_in;

  if (!mmdnn_text_config_check (&c->text_prep, error))
    return FALSE;
  n_in = mmdnn_model_config_input_size (c, MMDNN_MODALITY_TEXT);
  if (n_in != c->text_prep.max_tokens * c->text_prep.max_ids_per_token) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_MISMATCH,
        "the text encoder of \"%s\" takes %" G_GINT64_FORMAT " ids, its "
        "tokenizer gives another number", GST_STR_NULL (c->model_id), n_in);
    return FALSE;
  }
  self->text_prep = c->text_prep;
  self->ids = g_try_new (int32_t, n_in);
  if (self->ids == NULL) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_NO_MEMORY,
        "no memory for %" G_GINT64_FORMAT " token ids", n_in);
    return FALSE;
  }
  return TRUE;
}

static void
gst_mmdnn_text_enc_close (GstMmdnnEncoder *enc)
{
  GstMmdnnTextEnc *self = GST_MMDNN_TEXT_ENC (enc);

  g_clear_pointer (&self->ids, g_free);
}

/* ---------------------------------------------------------- negotiation */

static gboolean
gst_mmdnn_text_enc_set_caps (GstBaseTransform *trans, GstCaps *incaps,
    GstCaps *outcaps)
{
  GstMmdnnTextEnc *self = GST_MMDNN_TEXT_ENC (trans);
  const GstStructure *s = gst_caps_get_structure (incaps, 0);
  const gchar *format = gst_structure_get_string (s, "format");

  /* markup is handled by the tokenizer whatever the format says; the field
   * is still required, so that text of unknown kind is refused */
  if (!gst_structure_has_name (s, "text/x-raw") || format == NULL
      || (!g_str_equal (format, "utf8")
          && !g_str_equal (format, "pango-markup"))) {
    GST_WARNING_OBJECT (self, "unsupported %" GST_PTR_FORMAT, incaps);
    return FALSE;
  }
  /* the features side */
  return GST_BASE_TRANSFORM_CLASS (parent_class)->set_caps (trans, incaps,
      outcaps);
}

/* ------------------------------------------------------------- streaming */

static void
push_gap (GstMmdnnTextEnc *self, GstBuffer *cue)
{
  GstEvent *gap = gst_event_new_gap (GST_BUFFER_PTS (cue),
      GST_BUFFER_DURATION (cue));

  GST_DEBUG_OBJECT (self, "no features for the cue at %" GST_TIME_FORMAT
      " (%" GST_TIME_FORMAT "): GAP", GST_TIME_ARGS (GST_BUFFER_PTS (cue)),
      GST_TIME_ARGS (GST_BUFFER_DURATION (cue)));
  if (!gst_pad_push_event (GST_BASE_TRANSFORM_SRC_PAD (self), gap))
    GST_DEBUG_OBJECT (self, "the GAP event was not handled downstream");
}

/* Tokenizes the cue the base class has just queued, into self->ids for
 * transform (). A cue that gives no features leaves the queue empty, so
 * nothing is allocated or pushed for it but a GAP event (or nothing at all
 * for a cue without a timestamp). */
static GstFlowReturn
gst_mmdnn_text_enc_submit_input_buffer (GstBaseTransform *trans,
    gboolean is_discont, GstBuffer *input)
{
  GstMmdnnTextEnc *self = GST_MMDNN_TEXT_ENC (trans);
  GError *error = NULL;
  GstFlowReturn ret;
  GstBuffer *cue;
  GstMapInfo map;
  int64_t n_tokens = 0;
  gsize len;
  gboolean ok;

  ret = GST_BASE_TRANSFORM_CLASS (parent_class)->submit_input_buffer (trans,
      is_discont, input);
  if (ret != GST_FLOW_OK || trans->queued_buf == NULL)
    return ret;
  cue = trans->queued_buf;

  if (!GST_BUFFER_PTS_IS_VALID (cue)) {
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        (_("A subtitle cue without a timestamp was dropped.")),
        ("a cue of %" G_GSIZE_FORMAT " bytes has no PTS",
            gst_buffer_get_size (cue)));
    goto drop;
  }
  if (!gst_buffer_map (cue, &map, GST_MAP_READ)) {
    GST_ELEMENT_ERROR (self, RESOURCE, READ, (NULL),
        ("could not map a cue of %" G_GSIZE_FORMAT " bytes",
            gst_buffer_get_size (cue)));
    ret = GST_FLOW_ERROR;
    goto drop;
  }
  /* some producers count the C string's terminator */
  len = map.size;
  while (len > 0 && map.data[len - 1] == '\0')
    len--;
  /* (a buffer without memory maps to NULL) */
  ok = mmdnn_text_tokenize (&self->text_prep, map.data != NULL
      ? (const char *) map.data : "", (gssize) len, self->ids, &n_tokens,
      &error);
  gst_buffer_unmap (cue, &map);

  if (!ok) {
    if (error->domain == MMDNN_ERROR && error->code == MMDNN_ERROR_DATA) {
      /* one bad cue must not stop a live pipeline */
      GST_ELEMENT_WARNING (self, STREAM, DECODE,
          (_("A subtitle cue that is not valid UTF-8 text was skipped.")),
          ("cue at %" GST_TIME_FORMAT ": %s",
              GST_TIME_ARGS (GST_BUFFER_PTS (cue)), error->message));
      g_clear_error (&error);
      push_gap (self, cue);
      goto drop;
    }
    gst_mmdnn_encoder_post_error (GST_MMDNN_ENCODER (self), error);
    g_clear_error (&error);
    ret = GST_FLOW_ERROR;
    goto drop;
  }
  if (n_tokens == 0) {
    push_gap (self, cue);
    goto drop;
  }
  GST_LOG_OBJECT (self, "cue at %" GST_TIME_FORMAT ": %" G_GINT64_FORMAT
      " tokens", GST_TIME_ARGS (GST_BUFFER_PTS (cue)), n_tokens);
  return GST_FLOW_OK;

drop:
  trans->queued_buf = NULL;
  gst_buffer_unref (cue);
  return ret;
}

static GstFlowReturn
gst_mmdnn_text_enc_transform (GstBaseTransform *trans, GstBuffer *inbuf,
    GstBuffer *outbuf)
{
  GstMmdnnTextEnc *self = GST_MMDNN_TEXT_ENC (trans);

  /* PTS and duration are the cue's (copy_metadata) */
  return gst_mmdnn_encoder_encode (GST_MMDNN_ENCODER (self), self->ids,
      outbuf);
}
