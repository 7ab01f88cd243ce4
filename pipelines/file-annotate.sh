#!/bin/sh
# File → decodebin → the three encoders → mmdnnfuse → textoverlay → file.
#
# Shows: a recorded file classified in windows of 1 s, the label drawn on
# the video and the result written as a new file. decodebin decodes the
# video, audio and subtitle streams; each goes through a queue (mmdnnfuse
# holds one pad's data while it waits for the others, and all three come
# from one demuxer thread) into its encoder, and the encoders into the
# request pads of mmdnnfuse. mmdnnfuse's text output, "Sneaker 93%" per
# window, is textoverlay's text; textoverlay waits for the label of each
# frame's window, so the video reaching it is queued without limit.
# mmdnnvideoenc encodes two frames per second (max-rate=2), enough for
# windows of 1 s (the frame at the window's centre).
#
# Needs: FILE with a video, an audio and a subtitle stream (every stream
# linked here must exist, or the pipeline waits for it): by default the
# demo clip that `make demo` makes. The plugin must be installed or on
# GST_PLUGIN_PATH_1_0 (e.g. GST_PLUGIN_PATH_1_0=build/gst).
#
# Expect: nothing on the terminal; OUT (default annotated.mkv): MJPEG video
# in Matroska, as long as FILE's video, with the window's label and its
# confidence in the top left corner (play it with `ffplay OUT` or
# `gst-play-1.0 OUT`).
#
#   pipelines/file-annotate.sh [FILE [OUT]]
# SPDX-License-Identifier: LGPL-2.1-or-later
FILE=${1:-build/demo/avt-demo.mkv}
OUT=${2:-annotated.mkv}
exec gst-launch-1.0 -q filesrc location="$FILE" ! decodebin name=d \
  d. ! video/x-raw ! queue ! tee name=t \
    t. ! queue ! videoconvert ! mmdnnvideoenc max-rate=2 ! f.sink_0 \
    t. ! queue max-size-buffers=0 max-size-bytes=0 max-size-time=0 ! videoconvert ! o.video_sink \
  d. ! audio/x-raw ! queue ! audioconvert ! audioresample ! mmdnnaudioenc ! f.sink_1 \
  d. ! text/x-raw ! queue ! mmdnntextenc ! f.sink_2 \
  mmdnnfuse name=f ! text/x-raw,format=utf8 ! o.text_sink \
  textoverlay name=o valignment=top halignment=left font-desc="Sans 14" \
    ! videoconvert ! jpegenc ! matroskamux ! filesink location="$OUT"
