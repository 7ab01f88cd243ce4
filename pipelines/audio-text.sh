#!/bin/sh
# Audio and subtitles only: a model with three modalities on two streams.
#
# Shows: mmdnnfuse classifies with the modalities it is given: only the
# audio and the subtitle streams of FILE are linked (decodebin's video pad
# stays unlinked), so the video is masked in every window (present false,
# weight 0) and the label comes from the speech and the text. With the
# default model the subtitles carry the garment and the voice the speaker's
# gender (see README.md, "The default model": "no video" does as well as
# all three).
#
# Needs: FILE with an audio and a subtitle stream (default: the demo clip
# of `make demo`); the plugin installed or on GST_PLUGIN_PATH_1_0.
#
# Expect: one label per window of 1 s on stdout, e.g. "Ankle boot 62%",
# one after the other (no line break), as fast as the file decodes (no
# clock: sync=false); for the 16-s demo clip 16 labels. Add -m to
# gst-launch-1.0 to see the `mmdnn-result` messages: video "present":false.
#
#   pipelines/audio-text.sh [FILE]
# SPDX-License-Identifier: LGPL-2.1-or-later
FILE=${1:-build/demo/avt-demo.mkv}
exec gst-launch-1.0 -q filesrc location="$FILE" ! decodebin name=d \
  d. ! audio/x-raw ! queue ! audioconvert ! audioresample ! mmdnnaudioenc ! f.sink_0 \
  d. ! text/x-raw ! queue ! mmdnntextenc ! f.sink_1 \
  mmdnnfuse name=f ! text/x-raw,format=utf8 ! fdsink fd=1 sync=false
