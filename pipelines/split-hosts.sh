#!/bin/sh
# The encoders in one process, mmdnnfuse in another: features over TCP.
#
# Shows: a pipeline split across hosts with GStreamer's own transport. The
# `encode` side decodes FILE and runs the three encoders; each features
# stream goes through gdppay into its own TCP connection (tcpclientsink).
# The `fuse` side listens on three ports (tcpserversrc), gdpdepay turns each
# connection back into the same stream, and mmdnnfuse classifies it. The
# results are those of the same pipeline in one process (`single`).
#
# Why GDP over TCP: gdppay (the GStreamer Data Protocol) writes every
# buffer with its PTS, DTS, duration, offsets and flags, the caps and the
# serialized events (stream-start, segment, tags, gap) as they come, and
# gdpdepay replays them; so the features arrive with the caps
# (application/x-mmdnn-features, modality, tokens, dim, model), the
# timestamps and the segment they left with, and mmdnnfuse windows them by
# the same running time. TCP loses and reorders nothing (a lost buffer
# would be a modality missing from a window). RTP (rtpgstpay) carries caps
# too, but turns PTS into a 90-kHz RTP time that the receiver rebases on
# arrival, and drops durations and the segment: the windows would move.
# No standard muxer takes caps it does not know, hence one connection per
# modality. The fuse side listens and the encoders connect, so nothing is
# sent before the receiver is there: start `fuse` first. GDP carries no
# metas: the results are computed on the fuse side, and mmdnntrain (which
# needs the encoders' input meta) cannot be put there.
#
# Limits of the transport: an EOS is not serialized, it arrives as the end
# of the connection when the encode side stops, so all streams of FILE
# should end together (they do in a recording); gdppay holds the events
# after a sticky one until the next buffer, so the gaps of a subtitle
# stream before its first cue arrive with that cue (in a file only a
# delay); stream-group-done is not carried (mmdnnfuse ignores it). A
# `watchdog` on each connection makes WAIT seconds (default 60; 0: no
# limit) without data an error ("Watchdog triggered", naming the
# modality): no sender, or one gone without closing its connection.
#
# Needs: GStreamer's tcp (-base) and gdp and debugutilsbad (-bad: Debian's
# gstreamer1.0-plugins-bad) plugins; FILE with a video, an audio and a
# subtitle stream (default: the demo clip of `make demo`); the plugin
# installed or on GST_PLUGIN_PATH_1_0, on both sides.
#
# Expect: `fuse` prints (gst-launch-1.0 -v) the port each source listens
# on ("video_in: current-port = 5000"; port 0 takes any free one), then,
# as the encode side connects, each stream's caps as received, then one
# label per window of 1 s ("Ankle boot 62%", one after the other), and
# exits when the encode side has finished. `encode` prints nothing, as
# fast as FILE decodes (REALTIME=1: at the media's own pace, as a camera
# would send). `local` runs both on 127.0.0.1 and then shows the fuse
# side's output: for the 16-s demo clip 16 labels, those `single` prints.
#
#   pipelines/split-hosts.sh fuse HOST VIDEO_PORT AUDIO_PORT TEXT_PORT
#   pipelines/split-hosts.sh encode FILE HOST VIDEO_PORT AUDIO_PORT TEXT_PORT
#   pipelines/split-hosts.sh local [FILE]
#   pipelines/split-hosts.sh single [FILE]
# SPDX-License-Identifier: LGPL-2.1-or-later
# (the pipeline's pieces below are split into words on purpose)
# shellcheck disable=SC2046,SC2086
ME=split-hosts.sh
DEMO=build/demo/avt-demo.mkv
WAIT=${WAIT:-60}

usage () {
  [ $# = 0 ] || echo "$ME: $*" >&2
  sed -n 's/^#   pipelines\/split-hosts.sh /usage: split-hosts.sh /p' "$0" >&2
  exit 2
}

# ports MIN PORT...: each a number from MIN to 65535
ports () {
  min=$1
  shift
  for p do
    case $p in
      '' | *[!0-9]*) usage "not a port: '$p'" ;;
    esac
    if [ "$p" -lt "$min" ] || [ "$p" -gt 65535 ]; then
      usage "port out of range: $p"
    fi
  done
}

# The encoder branches, one per modality, after `decodebin name=d`: the
# same in `single` and `encode`. Each encoder is named after its modality,
# as is each gdpdepay on the fuse side.
VIDEO='d. ! video/x-raw ! queue ! videoconvert ! mmdnnvideoenc name=video max-rate=2'
AUDIO='d. ! audio/x-raw ! queue ! audioconvert ! audioresample ! mmdnnaudioenc name=audio'
TEXT='d. ! text/x-raw ! queue ! mmdnntextenc name=text'
FUSE='mmdnnfuse name=f ! text/x-raw,format=utf8 ! fdsink fd=1 sync=false'

# receive MODALITY PORT: a connection's source, up to mmdnnfuse's pad
receive () {
  echo "tcpserversrc name=$1_in host=$HOST port=$2" \
    "! watchdog name=$1_idle timeout=$((WAIT * 1000)) ! gdpdepay name=$1"
}

# send PORT: a features stream into a connection
send () {
  if [ "${REALTIME:-0}" = 1 ]; then
    # each sink paced by the clock, none waiting to preroll (gdppay holds
    # a subtitle stream back until its first cue)
    sync='sync=true async=false'
  else
    sync='sync=false'
  fi
  echo "! gdppay ! tcpclientsink host=$HOST port=$1 $sync"
}

case $WAIT in '' | *[!0-9]*) usage "WAIT is not a number of seconds: '$WAIT'" ;; esac
role=$1
[ $# -ge 1 ] && shift
case $role in
  fuse)
    [ $# = 4 ] || usage "fuse takes HOST and three ports"
    HOST=$1
    ports 0 "$2" "$3" "$4"
    exec gst-launch-1.0 -v \
      $(receive video "$2") ! f.sink_0 \
      $(receive audio "$3") ! f.sink_1 \
      $(receive text "$4") ! f.sink_2 \
      $FUSE
    ;;
  encode)
    [ $# = 5 ] || usage "encode takes FILE, HOST and three ports"
    FILE=$1
    HOST=$2
    ports 1 "$3" "$4" "$5"
    exec gst-launch-1.0 -q filesrc location="$FILE" ! decodebin name=d \
      $VIDEO $(send "$3") \
      $AUDIO $(send "$4") \
      $TEXT $(send "$5")
    ;;
  single)
    [ $# -le 1 ] || usage "single takes at most FILE"
    exec gst-launch-1.0 -q filesrc location="${1:-$DEMO}" ! decodebin name=d \
      $VIDEO ! f.sink_0 \
      $AUDIO ! f.sink_1 \
      $TEXT ! f.sink_2 \
      $FUSE
    ;;
  local)
    [ $# -le 1 ] || usage "local takes at most FILE"
    ;;
  *)
    usage
    ;;
esac

# local: the fuse side on free ports of 127.0.0.1 in the background; once
# its three sources listen, the encode side; then the fuse side's output
FILE=${1:-$DEMO}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/split-hosts-XXXXXX") || exit 1
FUSE_PID=
trap '[ -z "$FUSE_PID" ] || kill "$FUSE_PID" 2>/dev/null; rm -rf "$DIR"' EXIT
trap 'exit 130' INT TERM
"$0" fuse 127.0.0.1 0 0 0 > "$DIR/fuse" &
FUSE_PID=$!

# port MODALITY: the port its source listens on, once bound
port () {
  sed -n "s/.*:$1_in: current-port = \([1-9][0-9]*\)\$/\1/p" "$DIR/fuse"
}
tries=$((WAIT * 10))
while [ -z "$(port video)" ] || [ -z "$(port audio)" ] || [ -z "$(port text)" ]; do
  if ! kill -0 "$FUSE_PID" 2>/dev/null; then
    cat "$DIR/fuse"
    wait "$FUSE_PID"
    rc=$?
    FUSE_PID=
    echo "$ME: the fuse side ended before it listened" >&2
    exit $((rc ? rc : 1))
  fi
  tries=$((tries - 1))
  [ "$tries" != 0 ] || { echo "$ME: the fuse side is not listening after $WAIT s" >&2; exit 1; }
  sleep 0.1
done

"$0" encode "$FILE" 127.0.0.1 "$(port video)" "$(port audio)" "$(port text)"
rc=$?
# a failed encode side may not have connected everywhere: stop the fuse side
[ $rc = 0 ] || kill "$FUSE_PID" 2>/dev/null
wait "$FUSE_PID"
frc=$?
FUSE_PID=
cat "$DIR/fuse"
[ $rc = 0 ] || exit $rc
exit $frc
