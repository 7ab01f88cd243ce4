#!/bin/sh
# Live sources, with one modality cut mid-stream.
#
# Shows: mmdnnfuse in a live pipeline never waits for a modality that
# stopped. A live test picture (10 fps) and a live test tone (16 kHz mono)
# are classified in windows of 1 s together with two subtitle cues (an SRT
# text piped in through fdsrc and subparse). The tone stops after half the
# time (its num-buffers is half the picture's): its pad goes EOS, and from
# then on every window is fused from video and text alone, the audio masked
# (present false, weight 0). The last cue ends at 8 s; windows after it have
# no text either.
#
# Needs: the plugin installed or on GST_PLUGIN_PATH_1_0.
#
# Expect: one label per window of 1 s on stdout, in real time (a live
# pipeline runs at the clock's pace), e.g. "Sneaker 41%", printed one after
# the other (mmdnnfuse's text has no line break); NUM_BUFFERS/10 of them
# (default 100 frames: 10 s, 10 labels). A test picture is no garment: the
# labels mean little; what matters is that results keep coming after the
# cut. Add -m to gst-launch-1.0 to see the `mmdnn-result` messages with the
# per-modality weights: audio "present":false, "weight":0.0 after the cut.
#
#   NUM_BUFFERS=100 pipelines/live-cut.sh
# SPDX-License-Identifier: LGPL-2.1-or-later
N=${NUM_BUFFERS:-100}
printf '1\n00:00:00,500 --> 00:00:03,000\nThis is a sneaker.\n\n2\n00:00:05,000 --> 00:00:08,000\nNew <i>trainers</i> in stock!\n' |
gst-launch-1.0 -q \
  videotestsrc is-live=true num-buffers="$N" pattern=ball \
    ! video/x-raw,width=320,height=240,framerate=10/1 ! queue ! mmdnnvideoenc ! f.sink_0 \
  audiotestsrc is-live=true num-buffers="$((N / 2))" samplesperbuffer=1600 wave=pink-noise volume=0.3 \
    ! audio/x-raw,format=S16LE,rate=16000,channels=1 ! queue ! mmdnnaudioenc ! f.sink_1 \
  fdsrc fd=0 ! subparse ! queue ! mmdnntextenc ! f.sink_2 \
  mmdnnfuse name=f ! text/x-raw,format=utf8 ! fdsink fd=1
