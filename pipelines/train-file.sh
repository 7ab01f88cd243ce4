#!/bin/sh
# Train a model inside a pipeline on a data set file and its label track,
# then classify with the trained model.
#
# Shows: mmdnntrain taking the three encoders' features (with the encoder
# inputs they carry) and a label track (an SRT of labels through subparse)
# and training the whole model on two-second windows — one window per clip
# of the data set, the sample `mmdnn train` makes of it — in batches of 8.
# EPOCHS passes over the file: the first starts a fresh model of the
# default architecture, the others continue it exactly from its checkpoint
# (resume=true). Then the file is classified by mmdnnfuse and the encoders
# with the trained model, one line per window.
#
# Needs: a data set made with `tools/make-dataset DATASET --clips N --split
# train --seed S --concat all.mkv` (one Matroska file with video, audio and
# subtitles, clip i at [2i, 2i + 2) s, and its labels.csv); the label track
# DATASET/labels.srt is made from labels.csv with tools/labels-to-srt if it
# is missing. The plugin installed or on GST_PLUGIN_PATH_1_0.
#
# Expect: per pass, `mmdnn-train` lines (step, loss, training accuracy of
# the batches) every 4 steps and at the end; MODEL (default
# trained.safetensors) and MODEL.ckpt written; then one line per window,
# "START LABEL CONFIDENCE" (e.g. "0:00:02 Sneaker 0.41"). A fresh
# model learns little in a few passes over a few clips: for a model worth
# using train longer (EPOCHS=20) on more clips, or start from a model
# (START=model.safetensors fine-tunes it).
#
#   [EPOCHS=1] [START=model.safetensors] pipelines/train-file.sh DATASET [MODEL]
# SPDX-License-Identifier: LGPL-2.1-or-later
set -e
DATASET=${1:?usage: $0 DATASET [MODEL]}
MODEL=${2:-trained.safetensors}
EPOCHS=${EPOCHS:-1}
HERE=$(dirname "$0")
FILE=$DATASET/all.mkv
LABELS=$DATASET/labels.srt

[ -f "$LABELS" ] || "$HERE/../tools/labels-to-srt" "$DATASET" \
  --task class --task speaker_gender -o "$LABELS"
rm -f "$MODEL.ckpt"
START_PROP=
[ -z "${START:-}" ] || START_PROP="model=$START"

# one line per mmdnn-train message printed by gst-launch-1.0 -m
progress () {
  sed -nE 's/.*mmdnn-train, step=\(guint64\)([0-9]+).* loss=\(double\)([^,]+),.* accuracy=\(structure\)"accuracy[^(]*\(double\\\)([0-9.e+-]+|nan).* final=\(boolean\)([a-z]+).*/  step \1  loss \2  accuracy \3  final \4/p'
}

# Each 2-second window is trained on what `mmdnn train` takes from a clip:
# the frame on screen at its centre and the 1-s audio patch centred in it.
# The encoders encode only those (max-rate and phase; hop and phase) and
# drop everything else before any work. From the second pass on,
# resume=true continues from the checkpoint.
e=1
while [ "$e" -le "$EPOCHS" ]; do
  echo "pass $e of $EPOCHS"
  gst-launch-1.0 -e -m filesrc location="$FILE" ! decodebin name=d \
    d. ! video/x-raw ! queue ! videoconvert ! video/x-raw,format=RGB ! \
      mmdnnvideoenc max-rate=0.5 phase=1000000000 $START_PROP ! queue ! \
      t.sink_0 \
    d. ! audio/x-raw ! queue ! audioconvert ! audioresample ! \
      mmdnnaudioenc hop=2000000000 phase=500000000 $START_PROP ! queue ! \
      t.sink_1 \
    d. ! text/x-raw ! queue ! mmdnntextenc $START_PROP ! queue ! t.sink_2 \
    filesrc location="$LABELS" ! subparse ! queue ! t.label \
    mmdnntrain name=t $START_PROP window=2000000000 batch-size=8 \
      checkpoint="$MODEL.ckpt" out="$MODEL" resume=true \
      message-interval=4 publish-interval=0 ! fakesink > "$MODEL.log" 2>&1 \
    || { cat "$MODEL.log" >&2; exit 1; }
  progress < "$MODEL.log"
  e=$((e + 1))
done
rm -f "$MODEL.log"
echo "wrote $MODEL"

# classify the file with the trained model (every element uses it): one
# line per window
gst-launch-1.0 -m filesrc location="$FILE" ! decodebin name=d \
  d. ! video/x-raw ! queue ! videoconvert ! video/x-raw,format=RGB ! \
    mmdnnvideoenc model="$MODEL" ! f.sink_0 \
  d. ! audio/x-raw ! queue ! audioconvert ! audioresample ! \
    mmdnnaudioenc model="$MODEL" ! f.sink_1 \
  d. ! text/x-raw ! queue ! mmdnntextenc model="$MODEL" ! f.sink_2 \
  mmdnnfuse name=f model="$MODEL" window=2000000000 ! fakesink \
| sed -nE 's/.*mmdnn-result, running-time=\(guint64\)([0-9]+).* label=\(string\)"?([^,"]*)"?, confidence=\(double\)([0-9.e-]+).*/\1 \2 \3/p' \
| while read -r ns label conf; do
    printf '%d:%02d:%02d %s %.2f\n' $((ns / 3600000000000)) \
      $((ns / 60000000000 % 60)) $((ns / 1000000000 % 60)) \
      "$(echo "$label" | sed 's/\\//g')" "$conf"
  done
