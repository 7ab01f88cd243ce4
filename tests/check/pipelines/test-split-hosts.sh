#!/bin/sh
# pipelines/split-hosts.sh run for real: the encoders in one process,
# mmdnnfuse in another, over GDP and TCP on 127.0.0.1, against the same
# pipeline in one process on the same file. TAP output.
#
#   test-split-hosts.sh MAKE_DATASET
#
# What must hold: the same `mmdnn-result` messages, whole, in the same
# order; every modality's caps as they left; every buffer with the PTS,
# duration, size, offsets and flags it left with, and the same events
# (segment, gaps) in between. What must fail, clearly and in bounded time:
# a fuse side that no sender reaches, a sender killed mid-stream, caps that
# are not features (or a modality twice), a closed port, a port in use,
# bad arguments, a missing file.
#
# The environment, the media and the gst-launch-1.0 wrapper: common.sh.
# Ports are never fixed: the fuse side listens on port 0 (any free one) and
# the test reads the ports from its -v output (current-port) before it
# starts a sender, so a sender never meets a port that is not yet open.
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u

. "${MMDNN_SOURCE_ROOT:?}/tests/check/pipelines/common.sh"

SPLIT=$SRC/pipelines/split-hosts.sh
# every buffer and event pushed, with its fields (GStreamer's log tracer)
TRACE='GST_TRACERS=log GST_DEBUG=GST_BUFFER:7,GST_EVENT:7 GST_DEBUG_NO_COLOR=1'

# in_bg OUT [VAR=VALUE...] CMD...: CMD in the background with the wrapper
# and the plugin, stdout in OUT.out, stderr in OUT.err; its pid in $bg.
# CMD is exec'ed down to gst-launch-1.0 itself, so $bg is that process.
in_bg () {
  out=$1
  shift
  PATH="$TMP/bin:$PATH" LAUNCH_VERBOSE=1 $WITH_PLUGIN "$@" > "$TMP/$out.out" 2> "$TMP/$out.err" &
  bg=$!
}

# finish PID: its exit status in $rc, after at most LIMIT s (then killed:
# 137, which expect_no_hang reports)
finish () {
  t=$((LIMIT * 10))
  while kill -0 "$1" 2>/dev/null && [ $t -gt 0 ]; do
    sleep 0.1
    t=$((t - 1))
  done
  kill -0 "$1" 2>/dev/null && kill -9 "$1"
  wait "$1"
  rc=$?
}

# wait_for FILE PID PATTERN: until PATTERN (grep -E) is in FILE; fails if
# PID ends first or LIMIT s pass
wait_for () {
  t=$((LIMIT * 10))
  until grep -qE "$3" "$1"; do
    kill -0 "$2" 2>/dev/null || { fail "ended before '$3' in $(basename "$1")"; return 1; }
    [ $t -gt 0 ] || { fail "no '$3' in $(basename "$1") after $LIMIT s"; return 1; }
    sleep 0.1
    t=$((t - 1))
  done
}

# start_fuse [VAR=VALUE...]: the fuse side on port 0 of 127.0.0.1 (output
# in fuse.out, fuse.err); once its three sources listen, their ports in
# VP, AP, TP and its pid in FUSE
start_fuse () {
  in_bg fuse "$@" "$SPLIT" fuse 127.0.0.1 0 0 0
  FUSE=$bg
  for m in video audio text; do
    wait_for "$TMP/fuse.out" "$FUSE" "${m}_in: current-port = [1-9]" || return 1
  done
  VP=$(listening video) AP=$(listening audio) TP=$(listening text)
}
listening () {
  sed -n "s/.*:$1_in: current-port = //p" "$TMP/fuse.out"
}

# stop PID: ends a process of ours that may still run
stop () {
  kill -9 "$1" 2>/dev/null
  wait "$1" 2>/dev/null
}

# caps_of FLOW: the caps of the caps events in FLOW (see flow), unescaped
caps_of () {
  sed -n 's/^event=caps event: .*, caps=(GstCaps)"\(.*\)";$/\1/p' "$1" | sed 's/\\//g'
}

# flow LOG PAD: what PAD pushed, from the log tracer, one line per buffer
# or event, without addresses, sequence numbers and times of day
flow () {
  sed -n "s/.*do_push_\\(buffer\\|event\\)_pre:<$2> [0-9:.]*, pad=<$2>, //p" "$1" \
    | sed -E 's/0x[0-9a-f]+//g; s/seq-num [0-9]+, //'
}

# a port nobody listens on: bound by the kernel, then closed
closed_port () {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---- the fixture: one process, then split and traced -----------------------

launch split-hosts.sh single "$F"
[ "$rc" = 0 ] || { cat "$TMP/err"; echo "Bail out! the single-process pipeline failed ($rc)"; exit 1; }
"$PY" "$HERE/results.py" --json < "$TMP/out" > "$TMP/single.json"
[ "$(wc -l < "$TMP/single.json")" = 6 ] \
  || { echo "Bail out! $(wc -l < "$TMP/single.json") results in one process, expected 6"; exit 1; }

split_run () {
  erc=- frc=-
  start_fuse $TRACE || return
  in_bg encode $TRACE timeout -k 5 $LIMIT "$SPLIT" encode "$F" 127.0.0.1 "$VP" "$AP" "$TP"
  finish $bg
  erc=$rc
  finish "$FUSE"
  frc=$rc
}
split_run
for m in video audio text; do
  flow "$TMP/encode.err" "$m:src" > "$TMP/sent.$m"
  flow "$TMP/fuse.err" "$m:src" > "$TMP/got.$m"
done

# ---- positive --------------------------------------------------------------

# the same results, whole (every task's probabilities, every modality's
# weight, presence and age, the window), in the same order: one per
# window of 1 s over the 6 s
split_results_equal_single () {
  rc=$erc
  expect_rc 0
  rc=$frc
  expect_no_hang
  expect_rc 0
  "$PY" "$HERE/results.py" --json < "$TMP/fuse.out" > "$TMP/split.json"
  [ "$(wc -l < "$TMP/split.json")" = 6 ] || fail "$(wc -l < "$TMP/split.json") results, expected 6"
  diff "$TMP/single.json" "$TMP/split.json" | sed 's/^/#   /' | cut -c1-200
  cmp -s "$TMP/single.json" "$TMP/split.json" || fail "results differ from one process"
  "$PY" "$HERE/results.py" < "$TMP/fuse.out" | awk '{ printf "%s ", $1 }' \
    | grep -qx '0 1000000000 2000000000 3000000000 4000000000 5000000000 ' \
    || fail "windows not at 0, 1, ..., 5 s"
}

# each modality's caps: as the encoder sent them = as gdpdepay gives them
# = as mmdnnfuse's pad took them (the caps events, from the tracer and
# the GST_EVENT log)
split_caps_survive () {
  p=0
  for m in video audio text; do
    sed -n "s/.*gst_pad_send_event_unchecked:<f:sink_$p> have event type \(caps event: .*\)/event=\1/p" \
      "$TMP/fuse.err" | sed -E 's/0x[0-9a-f]+//g; s/seq-num [0-9]+, //' > "$TMP/took.$m"
    p=$((p + 1))
    sent=$(caps_of "$TMP/sent.$m")
    echo "# $m: $sent"
    case $sent in
      "application/x-mmdnn-features, modality=(string)$m, tokens=(int)"*", dim=(int)128, model=(string)mmdnn-default") ;;
      *) fail "$m: sent '$sent', not $m features" ;;
    esac
    [ "$(caps_of "$TMP/got.$m")" = "$sent" ] || fail "$m: received '$(caps_of "$TMP/got.$m")'"
    [ "$(caps_of "$TMP/took.$m")" = "$sent" ] || fail "$m: mmdnnfuse took '$(caps_of "$TMP/took.$m")'"
  done
}

# every buffer (PTS, DTS, duration, size, offsets, flags) and event
# (stream-start, caps, segment, tags, gaps, EOS) of each modality as it
# left the encoder and as it left gdpdepay, in order. The one exception:
# stream-group-done (gdppay holds it, a sticky event, for a next buffer
# that never comes; mmdnnfuse does not use it).
split_flow_survives () {
  for m in video audio text; do
    grep -v '^event=stream-group-done' "$TMP/sent.$m" > "$TMP/sent-but.$m"
    nb=$(grep -c '^buffer=' "$TMP/sent-but.$m")
    echo "# $m: $nb buffers, $(grep -c '^event=' "$TMP/sent-but.$m") events"
    [ "$nb" -gt 0 ] || fail "$m: no buffer traced"
    grep -q '^event=segment event' "$TMP/sent-but.$m" || fail "$m: no segment traced"
    grep -q '^event=eos event' "$TMP/sent-but.$m" || fail "$m: no EOS traced"
    diff "$TMP/sent-but.$m" "$TMP/got.$m" | head -n 6 | cut -c1-200 | sed 's/^/#   /'
    cmp -s "$TMP/sent-but.$m" "$TMP/got.$m" || fail "$m: the stream changed on the way"
  done
  # 2 frames per second (max-rate=2) over 6 s
  [ "$(grep -c '^buffer=' "$TMP/got.video")" = 12 ] || fail "not 12 video features"
}

# local: both sides on 127.0.0.1 from one command, the same results
split_hosts_sh () {
  launch split-hosts.sh local "$F"
  expect_no_hang
  expect_rc 0
  "$PY" "$HERE/results.py" --json < "$TMP/out" > "$TMP/local.json"
  cmp -s "$TMP/single.json" "$TMP/local.json" || fail "results differ from one process"
  [ "$(grep -oE "($CLASSES) [0-9]{1,3}%" "$TMP/out" | wc -l)" = 6 ] || fail "not 6 labels on stdout"
}

# the modality travels in the caps, not in the port: video into the text
# port and text into the video port give the same results
ports_swapped () {
  start_fuse $TRACE || return
  in_bg encode timeout -k 5 $LIMIT "$SPLIT" encode "$F" 127.0.0.1 "$TP" "$AP" "$VP"
  finish $bg
  expect_rc 0
  finish "$FUSE"
  expect_no_hang
  expect_rc 0
  flow "$TMP/fuse.err" text:src > "$TMP/got.swapped"
  caps_of "$TMP/got.swapped" | grep -q '^application/x-mmdnn-features, modality=(string)video,' \
    || fail "video features did not arrive on the text port"
  "$PY" "$HERE/results.py" --json < "$TMP/fuse.out" > "$TMP/swapped.json"
  cmp -s "$TMP/single.json" "$TMP/swapped.json" || fail "results differ from one process"
}

# ---- negative --------------------------------------------------------------

# no sender: the watchdogs end the fuse side after WAIT s with an error
# naming the silent connection; no result
fuse_without_sender_n () {
  start_fuse WAIT=1 || return
  finish "$FUSE"
  expect_no_hang
  expect_rc 1
  grep -qE 'GstWatchdog:(video|audio|text)_idle: Watchdog triggered' "$TMP/fuse.err" \
    || fail "no watchdog error on stderr"
  [ "$("$PY" "$HERE/results.py" < "$TMP/fuse.out" | wc -l)" = 0 ] || fail "results without a sender"
}

# the sender killed (SIGKILL) once the first features arrived, sending at
# the media's pace (REALTIME=1: 6 s): its connections close, the fuse side
# ends (EOS) with the windows it could compute, fewer than 6
sender_killed_n () {
  start_fuse $TRACE || return
  in_bg encode REALTIME=1 "$SPLIT" encode "$F" 127.0.0.1 "$VP" "$AP" "$TP"
  sender=$bg
  wait_for "$TMP/fuse.err" "$FUSE" 'do_push_buffer_pre:<video:src>' || { stop $sender; stop "$FUSE"; return; }
  kill -9 $sender
  wait $sender 2>/dev/null
  finish "$FUSE"
  expect_no_hang
  [ "$rc" = 0 ] && grep -q 'Got EOS from element "pipeline0"' "$TMP/fuse.out" \
    || grep -q '^ERROR: ' "$TMP/fuse.err" || fail "neither EOS nor an error (exit status $rc)"
  nres=$("$PY" "$HERE/results.py" < "$TMP/fuse.out" | wc -l)
  echo "# $nres results before the end"
  [ "$nres" -lt 6 ] || fail "$nres results: the sender was not killed mid-stream"
}

# audio samples, not features, into the video port: mmdnnfuse refuses
# them with its not-negotiated error
not_features_n () {
  start_fuse || return
  in_bg sender timeout -k 5 $LIMIT gst-launch-1.0 audiotestsrc num-buffers=10 \
    ! gdppay ! tcpclientsink host=127.0.0.1 port="$VP" sync=false
  finish "$FUSE"
  expect_no_hang
  expect_rc 1
  grep -q 'Pad sink_0 of mmdnnfuse cannot take these features' "$TMP/fuse.err" \
    || fail "no refusal by mmdnnfuse on stderr"
  grep -q 'audio/x-raw' "$TMP/fuse.err" || fail "the refused caps are not named"
  finish $bg
}

# video features into the video and the audio port: the second pad of
# the same modality is refused
modality_twice_n () {
  start_fuse || return
  in_bg sender timeout -k 5 $LIMIT gst-launch-1.0 videotestsrc num-buffers=10 \
    ! video/x-raw,width=64,height=64 ! mmdnnvideoenc ! tee name=t \
    t. ! queue ! gdppay ! tcpclientsink host=127.0.0.1 port="$VP" sync=false \
    t. ! queue ! gdppay ! tcpclientsink host=127.0.0.1 port="$AP" sync=false
  finish "$FUSE"
  expect_no_hang
  expect_rc 1
  grep -qE 'Pad sink_[01] of mmdnnfuse cannot take these features' "$TMP/fuse.err" \
    || fail "no refusal by mmdnnfuse on stderr"
  finish $bg
}

# nobody listening: the encode side fails at once, naming host and port
closed_port_n () {
  p=$(closed_port)
  PATH="$TMP/bin:$PATH" run $WITH_PLUGIN timeout -k 5 $LIMIT "$SPLIT" encode "$F" 127.0.0.1 "$p" "$p" "$p"
  expect_no_hang
  [ "$rc" != 0 ] || fail "exit status 0"
  expect_err "Failed to connect to host '127.0.0.1:$p': Connection refused"
}

# a port something else listens on: the fuse side cannot bind it, and
# says which
port_in_use_n () {
  "$PY" -c 'import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
print(s.getsockname()[1], flush=True)
time.sleep(float(sys.argv[1]))' $LIMIT > "$TMP/listener" &
  listener=$!
  wait_for "$TMP/listener" $listener '^[1-9]' || { stop $listener; return; }
  p=$(cat "$TMP/listener")
  PATH="$TMP/bin:$PATH" run $WITH_PLUGIN timeout -k 5 $LIMIT "$SPLIT" fuse 127.0.0.1 0 "$p" 0
  stop $listener
  expect_no_hang
  [ "$rc" != 0 ] || fail "exit status 0"
  expect_err "Error binding to address 127.0.0.1:$p: Address already in use"
}

bad_arguments_n () {
  for args in "fuse 127.0.0.1 0 0" "encode $F 127.0.0.1 0 1 2" "fuse 127.0.0.1 0 x 0" \
      "fuse 127.0.0.1 0 0 65536" "local a b" "single a b" "" "serve"; do
    # shellcheck disable=SC2086
    run "$SPLIT" $args
    [ "$rc" = 2 ] || fail "'$args': exit status $rc, expected 2"
    grep -q '^usage: split-hosts.sh fuse HOST' "$TMP/err" || fail "'$args': no usage"
  done
  run env WAIT=soon "$SPLIT" fuse 127.0.0.1 0 0 0
  expect_rc 2
  expect_err "WAIT is not a number of seconds: 'soon'"
}

# local on a missing file: the encode side fails naming it, the fuse side
# is stopped, nothing hangs
local_missing_file_n () {
  launch split-hosts.sh local "$TMP/nonexistent.mkv"
  expect_no_hang
  [ "$rc" != 0 ] || fail "exit status 0 for a missing file"
  expect_err "nonexistent.mkv"
  [ "$(wc -l < "$TMP/res")" = 0 ] || fail "results for a missing file"
}

check split_results_equal_single
check split_caps_survive
check split_flow_survives
check split_hosts_sh
check ports_swapped
check fuse_without_sender_n
check sender_killed_n
check not_features_n
check modality_twice_n
check closed_port_n
check port_in_use_n
check bad_arguments_n
check local_missing_file_n
echo "1..$n"
[ $failed = 0 ]
