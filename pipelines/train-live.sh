#!/bin/sh
# Train and classify in one live pipeline: the accuracy rising as it plays.
#
# Shows: live sources (a test picture and a test tone, is-live=true, in
# real time) and a subtitle stream whose words tell what is shown, teed
# into mmdnntrain and mmdnnfuse. mmdnntrain trains a fresh model of the
# default architecture on one-second windows labelled by a label track
# (class=Bag or class=Sneaker, alternating every second), in batches of 2,
# and publishes its weights every 2 steps: the encoders and mmdnnfuse of
# the same pipeline use the default model's registry entry, so they switch
# to the new weights at their next buffer, and the labels mmdnnfuse prints
# follow the subtitles more and more often. A live pipeline never waits
# for training: when the trainer falls behind (leaky=auto drops in live
# pipelines) windows are dropped and counted. The subtitles ("a leather
# bag", "white sneakers", ...) and the label track are SRT files this
# script writes, read through subparse, as the label track of a camera
# would come from an application.
#
# Needs: the plugin installed or on GST_PLUGIN_PATH_1_0 (only test sources:
# no data set).
#
# Expect: in real time, DURATION seconds (default 40): every 4 steps a
# line "step N  loss L  accuracy A  dropped D  final false" from the
# `mmdnn-train` messages, the training accuracy of the class task rising
# from about 0.5 to 1 within the first half minute (steps of 2 windows);
# then "final true"; and the labels mmdnnfuse gave, one per second, from
# `mmdnn-result` ("12 Sneaker 0.61"), matching the subtitles by the end.
#
#   [DURATION=40] pipelines/train-live.sh
# SPDX-License-Identifier: LGPL-2.1-or-later
set -e
N=${DURATION:-40}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mmdnn-train-live-XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# second i: what is said (the subtitle) and what it is (the label)
i=0
while [ "$i" -lt "$N" ]; do
  case $((i % 6)) in
    0) said="a leather bag"; label=Bag ;;
    1) said="white sneakers"; label=Sneaker ;;
    2) said="she carries her bag"; label=Bag ;;
    3) said="running shoes, sneakers"; label=Sneaker ;;
    4) said="a bag for the beach"; label=Bag ;;
    *) said="new sneakers on sale"; label=Sneaker ;;
  esac
  t0=$(printf '%02d:%02d:%02d,000' $((i / 3600)) $((i / 60 % 60)) $((i % 60)))
  j=$((i + 1))
  t1=$(printf '%02d:%02d:%02d,000' $((j / 3600)) $((j / 60 % 60)) $((j % 60)))
  printf '%d\n%s --> %s\n%s\n\n' "$j" "$t0" "$t1" "$said" >> "$TMP/said.srt"
  printf '%d\n%s --> %s\nclass=%s\n\n' "$j" "$t0" "$t1" "$label" >> "$TMP/labels.srt"
  i=$j
done

gst-launch-1.0 -e -m \
  videotestsrc is-live=true num-buffers=$((N * 10)) ! \
    video/x-raw,format=RGB,width=64,height=64,framerate=10/1 ! \
    mmdnnvideoenc ! tee name=v \
  audiotestsrc is-live=true num-buffers=$((N * 10)) samplesperbuffer=1600 ! \
    audio/x-raw,rate=16000,channels=1 ! mmdnnaudioenc ! tee name=a \
  filesrc location="$TMP/said.srt" ! subparse ! mmdnntextenc ! tee name=x \
  filesrc location="$TMP/labels.srt" ! subparse ! queue ! t.label \
  v. ! queue ! t.sink_0  a. ! queue ! t.sink_1  x. ! queue ! t.sink_2 \
  v. ! queue ! f.sink_0  a. ! queue ! f.sink_1  x. ! queue ! f.sink_2 \
  mmdnntrain name=t batch-size=2 learning-rate=0.003 total-steps=100 \
    publish-interval=2 message-interval=4 ! fakesink \
  mmdnnfuse name=f ! fakesink > "$TMP/log" 2>&1 \
  || { cat "$TMP/log" >&2; exit 1; }

sed -nE 's/.*mmdnn-train, step=\(guint64\)([0-9]+).* loss=\(double\)([^,]+),.* accuracy=\(structure\)"accuracy[^(]*\(double\\\)([0-9.e+-]+|nan).* dropped=\(guint64\)([0-9]+).* final=\(boolean\)([a-z]+).*/step \1  loss \2  accuracy \3  dropped \4  final \5/p' "$TMP/log"
grep 'from element "f"' "$TMP/log" \
  | sed -nE 's/.*mmdnn-result, running-time=\(guint64\)([0-9]+),.* label=\(string\)([^,]*), confidence=\(double\)([0-9.e-]+).*/\1 \2 \3/p' \
  | while read -r ns label conf; do
      printf '%d %s %.2f\n' $((ns / 1000000000)) "$label" "$conf"
    done
