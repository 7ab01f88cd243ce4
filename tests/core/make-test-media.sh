#!/bin/sh
# Makes the small media files test-media.c and tests/tools/test-cli.sh use,
# with gst-launch-1.0 (gstreamer1.0-tools) and elements from Debian 12's
# gstreamer1.0-plugins-base (videotestsrc, audiotestsrc, audioconvert,
# vorbisenc, subparse) and -good (jpegenc, matroskamux, wavenc).
# The outputs are committed (about 30 KB) so the tests need no GStreamer;
# rerun this after changing it:
#
#   tests/core/make-test-media.sh [OUTDIR]     (default: tests/core/media)
#
# What the tests rely on (keep in sync with test-media.c / test-cli.sh):
#   clip.mkv   2.0 s: video 64x48 MJPEG at 10 fps (20 frames, 75% SMPTE colour bars);
#              audio Vorbis 44100 Hz stereo, a 1000 Hz sine at amplitude
#              0.5 in both channels; subtitles from cues.srt (2 cues).
#   frames.mkv video only, 64x48 MJPEG at 10 fps, 15 frames from 0.5 s to
#              1.9 s (the first half second has no frame), a moving ball:
#              every frame differs, so test-dataset.c can tell which one the
#              loader took.
#   tone.wav   0.5 s: PCM s16le 8000 Hz mono, a 440 Hz sine (4000 samples).
#   cues.srt   the two cues (a source file, not generated; FFmpeg also reads
#              it directly as a subtitle-only input).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/media}
mkdir -p "$out"
srt=$here/media/cues.srt

gst-launch-1.0 -q matroskamux name=mux ! filesink location="$out/clip.mkv" \
  videotestsrc num-buffers=20 pattern=smpte75 \
    ! video/x-raw,width=64,height=48,framerate=10/1 \
    ! jpegenc quality=25 ! mux. \
  audiotestsrc num-buffers=20 samplesperbuffer=4410 freq=1000 wave=sine volume=0.5 \
    ! audio/x-raw,rate=44100,channels=2 ! audioconvert \
    ! vorbisenc quality=0.1 ! mux. \
  filesrc location="$srt" ! subparse ! mux.

gst-launch-1.0 -q videotestsrc num-buffers=15 pattern=ball \
    timestamp-offset=500000000 \
  ! video/x-raw,width=64,height=48,framerate=10/1 ! jpegenc quality=50 \
  ! matroskamux ! filesink location="$out/frames.mkv"

gst-launch-1.0 -q audiotestsrc num-buffers=1 samplesperbuffer=4000 freq=440 wave=sine volume=0.5 \
  ! audio/x-raw,format=S16LE,rate=8000,channels=1 ! wavenc \
  ! filesink location="$out/tone.wav"

if [ "$out" != "$here/media" ]; then cp "$srt" "$out/cues.srt"; fi
ls -l "$out"
