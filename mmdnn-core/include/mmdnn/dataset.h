/* mmdnn — data sets: a folder of media files plus labels.csv, ingested
 * through the same preprocessing as the GStreamer elements.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <mmdnn/error.h>
#include <mmdnn/model.h>

G_BEGIN_DECLS

/*
 * A data set is a folder holding media files (any container FFmpeg reads,
 * with video, audio and/or subtitle streams) and DIR/labels.csv:
 *
 *   file,start_s,end_s,class,speaker_gender
 *   clip-0000.mkv,0,2,Sneaker,female
 *   "long, name.mkv",2.5,4.5,"T-shirt/top",
 *
 * CSV rules (RFC 4180, made forgiving where hand editing needs it):
 * - UTF-8; a leading byte-order mark is skipped. Line ends LF, CRLF or a
 *   lone CR, freely mixed; lines are counted the same way, from 1.
 * - Fields are separated by ','. A field in double quotes may hold ',',
 *   line breaks and "" (one quote); spaces or tabs around a quoted field
 *   are ignored, text after its closing quote is an error. An unquoted
 *   field is trimmed of leading and trailing spaces and tabs (so
 *   "a.mkv, 0, 2" works); a quote inside it is kept as a character.
 * - Blank (or whitespace-only) lines are skipped anywhere.
 * - The header (the first non-blank line) starts with exactly file,
 *   start_s, end_s; every task of the config must have a column named as
 *   the task, in any order. Other columns are ignored (their names may be
 *   empty or repeated); a repeated task column is an error.
 * - Every row has as many fields as the header. file is a path RELATIVE to
 *   the folder ('/' separated, ".." allowed, absolute paths refused) of an
 *   existing regular file; start_s and end_s are decimal seconds with
 *   0 ≤ start_s < end_s; a task cell is one of the task's class names,
 *   exactly (case-sensitive), or empty for an unknown label (−1).
 * A row's line number is the line where it starts (a quoted field may
 * span lines).
 */

typedef struct {
  char    *file;                        /* relative to the folder, as in the CSV */
  double   start_s, end_s;              /* the window [start_s, end_s)           */
  int32_t  labels[MMDNN_MAX_TASKS];     /* per config task: class index, −1 unknown */
  int64_t  line;                        /* line of labels.csv the row starts on  */
} MmdnnClip;

typedef struct {
  char    *dir;                         /* the folder, as given                  */
  int      n_tasks;                     /* = the config's                        */
  char    *task_names[MMDNN_MAX_TASKS]; /* the config's task names, in its order */
  GArray  *clips;                       /* MmdnnClip, in file order              */
} MmdnnDataset;

/* Parses DIR/labels.csv against the tasks of @c (validated with
 * mmdnn_model_config_check). Returns: (transfer full): free with
 * mmdnn_dataset_free.
 * Errors, each naming labels.csv's path and the line:
 *   NULL @dir or @c, a bad config          → INVALID_ARGUMENT
 *   labels.csv missing or unreadable       → IO
 *   no header, a header not starting with file,start_s,end_s, a config
 *   task without a column (or with two), a header that is not UTF-8 or
 *   not valid CSV                          → FORMAT
 *   bad rows, no rows at all               → DATA
 * Bad rows are all collected into ONE message, so a hand-edited file can
 * be fixed in one go: a summary line, then one line per bad row
 * "PATH:LINE: problem; problem" (the first 20 rows, then "and N more bad
 * rows"), then for every task that had unknown class names the list of
 * its allowed names. Problems: wrong field count, unterminated quote or
 * text after a closing quote, invalid UTF-8, empty/absolute/missing/
 * non-regular file, a time that is empty, not a decimal number, or not
 * finite, start_s < 0, end_s ≤ start_s, an unknown class name (with a
 * "did you mean" hint when only the case differs). */
MMDNN_API MmdnnDataset *mmdnn_dataset_open (const char *dir,
                                            const MmdnnModelConfig *c,
                                            GError **error);
/* NULL is a no-op. */
MMDNN_API void mmdnn_dataset_free (MmdnnDataset *ds);

/* Decodes clip @index's file (mmdnn_media_decode) and writes sample @slot
 * of @b (made by mmdnn_batch_new for @c) with the core preprocessing the
 * elements use:
 *   video: the frame on screen at the middle of the window: of the decoded
 *     frames overlapping [start_s, end_s) (a frame shows from its
 *     timestamp until the next frame's; the last one for as long as the
 *     one before it), the latest whose timestamp is at or before the
 *     middle, else (the video starts after the middle) the earliest; of
 *     equal timestamps the later decoded. Times are compared in whole
 *     nanoseconds. A window of mmdnnfuse/mmdnntrain takes the same frame
 *     (gst/gstmmdnnwindow.h, GST_MMDNN_WINDOW_RULE_SCREEN). Through
 *     mmdnn_video_prep_frame (c->video_prep, MMDNN_PIXEL_RGB). Present if
 *     such a frame exists.
 *   audio: the first audio stream as mono at c->logmel.sample_rate (16 kHz
 *     by default), a NaN or infinite sample taken as 0 (silence, as
 *     mmdnnaudioenc does; a warning through the log hook counts them);
 *     the n samples with time in [start_s, end_s) are framed
 *     from the window's first sample (as an element that started there
 *     would) and the audio_patch_frames (P) consecutive frames whose
 *     nominal span, P·hop_length samples, is centred in the window are
 *     taken: from frame (n − P·hop_length) / 2 / hop_length, rounded to a
 *     whole frame, the earlier on a tie (frame 50 of a 2-s window: 0.5 s,
 *     as a 2-s window of mmdnnfuse takes), through
 *     mmdnn_logmel_push_f32/_pull (c->logmel), laid out (1, n_mels, P).
 *     That first frame is negative when the window is shorter than the
 *     patch: its frames then sit in the patch's middle. A frame of the
 *     patch whose samples are not all in the window, or were not all
 *     decoded (the stream starts late or ends early), is padding: ln
 *     (log_floor), exactly what the front end gives for silence. Present
 *     if at least one frame is real.
 *   text: the text of every cue overlapping [start_s, end_s) (a cue
 *     [s, e) with s < end_s and e > start_s; one without duration if
 *     start_s ≤ s < end_s), in file order, joined with one space, through
 *     mmdnn_text_tokenize (c->text_prep). Present if that gives ≥ 1 token.
 *   presence: 1 per modality present as above (0 for one @c lacks), labels
 *     from the clip.
 * The slot is written only on success. Errors: bad arguments (@index or
 * @slot out of range, @c's tasks not the data set's, @b lacking an array
 * @c needs) → INVALID_ARGUMENT; the file cannot be decoded → its
 * mmdnn_media_decode error; a cue that is not UTF-8 → DATA; nothing of
 * the config's modalities in the window → DATA (the window is probably
 * past the end of the file). Errors about the clip's data start with
 * "<dir>/labels.csv:LINE: " and name the media file. Writes nothing but
 * slot @slot of @b, so different slots or batches may be loaded from
 * different threads. */
MMDNN_API gboolean mmdnn_dataset_load (const MmdnnDataset *ds, int64_t index,
                                       const MmdnnModelConfig *c,
                                       MmdnnBatch *b, int64_t slot,
                                       GError **error);

/* Every clip into one new batch of ds->clips->len samples (sample i =
 * clip i), as mmdnn_dataset_load would write them, decoding each media
 * file once however many clips it holds (training caches the decoded set
 * in memory). *@out is set only on success (transfer full,
 * mmdnn_batch_free). Errors as mmdnn_dataset_load; the first failing clip
 * stops the load. */
MMDNN_API gboolean mmdnn_dataset_load_all (const MmdnnDataset *ds,
                                           const MmdnnModelConfig *c,
                                           MmdnnBatch **out, GError **error);

G_END_DECLS
