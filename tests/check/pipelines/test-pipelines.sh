#!/bin/sh
# Every example in pipelines/ run for real, short, with the plugin from the
# build tree: the right number of `mmdnn-result` messages, output files of
# the right duration, the live example going on without the audio it lost,
# classify.py's lines; and the ways they must fail (clearly, never hanging).
# TAP output.
#
#   test-pipelines.sh MAKE_DATASET
#
# The environment, the media and the gst-launch-1.0 wrapper that shows the
# bus: common.sh. results.py turns the printed `mmdnn-result` messages into
# one line each. Every run has a timeout: a hang fails the case (exit
# status 124).
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u

. "${MMDNN_SOURCE_ROOT:?}/tests/check/pipelines/common.sh"

# duration_of FILE: the container's duration in seconds (ffprobe)
duration_of () {
  ffprobe -v error -show_entries format=duration -of csv=p=0 "$1"
}
frames_of () {
  ffprobe -v error -select_streams v:0 -count_packets \
    -show_entries stream=nb_read_packets -of csv=p=0 "$1"
}

# about A B [TOL]: |A − B| ≤ TOL (default 0.15)
about () {
  awk -v a="$1" -v b="$2" -v t="${3:-0.15}" 'BEGIN { d = a - b; exit !(d <= t && -d <= t) }'
}

# ---- positive --------------------------------------------------------------

# every runnable file of pipelines/ has a case below (by its name), or,
# for the training examples, in tests/check/train/test-train-pipelines.sh,
# or for split-hosts.sh in test-split-hosts.sh
every_example_is_tested () {
  for f in "$SRC"/pipelines/*; do
    name=$(basename "$f")
    case $name in README.md) continue ;; esac
    grep -q "^check $(echo "$name" | tr '.-' '__')\$" "$0" "$HERE/test-split-hosts.sh" \
        "$SRC/tests/check/train/test-train-pipelines.sh" \
      || fail "pipelines/$name has no test case in $(basename "$0")"
    head -n 12 "$f" | grep -q '^# ' || fail "pipelines/$name: no comment header"
  done
}

# file → decodebin → 3 encoders → fuse → textoverlay → MJPEG Matroska:
# 6 results (1-s windows over 6 s), all three modalities present somewhere,
# the output as long as the input with all 60 frames
file_annotate_sh () {
  launch file-annotate.sh "$F" "$TMP/annotated.mkv"
  expect_no_hang
  expect_rc 0
  [ "$(wc -l < "$TMP/res")" = 6 ] || fail "$(wc -l < "$TMP/res") results, expected 6"
  awk '{ print $1 }' "$TMP/res" | tr '\n' ' ' | grep -qx '0 1000000000 2000000000 3000000000 4000000000 5000000000 ' \
    || fail "windows not at 0, 1, ..., 5 s: $(awk '{ print $1 }' "$TMP/res" | tr '\n' ' ')"
  # audio in every window but maybe the last: a 1-s audio window needs
  # 15 ms of samples past its end (the last log-mel frame's length)
  awk '$3 != "true" || ($5 != "true" && $1 < 5000000000) { print "#   " $0; bad = 1 } END { exit bad }' "$TMP/res" \
    || fail "video or audio missing in a window"
  grep -q ' true [0-9.]*$' "$TMP/res" || fail "text present in no window"
  [ -s "$TMP/annotated.mkv" ] || { fail "no output file"; return; }
  d=$(duration_of "$TMP/annotated.mkv")
  about "$d" 6.0 || fail "output lasts $d s, expected 6"
  [ "$(frames_of "$TMP/annotated.mkv")" = 60 ] || fail "$(frames_of "$TMP/annotated.mkv") frames, expected 60"
}

# audio + subtitles only: video masked in every window, one label per line
audio_text_sh () {
  launch audio-text.sh "$F"
  expect_no_hang
  expect_rc 0
  [ "$(wc -l < "$TMP/res")" = 6 ] || fail "$(wc -l < "$TMP/res") results, expected 6"
  awk '$3 != "false" || $4 != 0 || (($5 != "true" || $6 <= 0) && $1 < 5000000000) { print "#   " $0; bad = 1 } END { exit bad }' "$TMP/res" \
    || fail "video not masked, or audio not used"
  # stdout also has the fuse's text output (fdsink), "Label NN%" per window
  grep -oE "($CLASSES) [0-9]{1,3}%" "$TMP/out" > "$TMP/labels"
  [ "$(wc -l < "$TMP/labels")" = 6 ] \
    || fail "expected 6 labels on stdout, got: $(tr '\n' '|' < "$TMP/labels")"
}

# live, audio cut after half the time (NUM_BUFFERS=50: video 5 s, audio
# 2.5 s): audio present in window 0, masked (present false, weight 0) in
# windows 3 and 4 while the video is still used. Live sources stamp their
# buffers with the clock, a few ms late, so the windows at the edges (1, 2,
# 5) may hold a sliver of the stopped stream: not checked. The last cue
# ends at 8 s: windows 0-7 (those after the sources stop come at once). A
# slow start (a loaded machine, the sanitizers) may lose the first
# window's late features (dropped with a QoS message) and so the window:
# 7 or 8 results, audio present in window 0 or 1.
live_cut_sh () {
  t0=$(date +%s)
  NUM_BUFFERS=50 launch live-cut.sh
  t1=$(date +%s)
  expect_no_hang
  expect_rc 0
  nres=$(wc -l < "$TMP/res")
  [ "$nres" -ge 7 ] && [ "$nres" -le 8 ] || fail "$nres results, expected 8 (windows 0-7 s)"
  [ $((t1 - t0)) -ge 4 ] || fail "5 s of live sources took $((t1 - t0)) s: not live?"
  awk '$1 < 2000000000 && $5 == "true" && $6 > 0 { before++ }
       END { exit !before }' "$TMP/res" || fail "audio in neither window 0 nor 1"
  awk '$1 == 0 && ($5 != "true" || $6 <= 0 || $3 != "true") { print "#   before the cut: " $0; bad = 1 }
       $1 == 3000000000 || $1 == 4000000000 { after++
         if ($5 != "false" || $6 != 0 || $3 != "true" || $4 <= 0) { print "#   after the cut: " $0; bad = 1 } }
       $1 >= 6000000000 && ($3 != "false" || $5 != "false" || $7 != "true") { print "#   after the end: " $0; bad = 1 }
       END { if (after != 2) { print "#   " after + 0 " of windows 3, 4"; bad = 1 }; exit bad }' "$TMP/res" \
    || fail "audio not masked after its cut, or results stopped"
}

# classify.py: one parsable line per window whose label is a class name,
# the annotated file, and the accuracy line against labels.csv
classify_py () {
  run $WITH_PLUGIN timeout -k 5 $LIMIT "$PY" "$SRC/pipelines/classify.py" "$F" \
    --out "$TMP/classified.mkv" --truth "$LABELS"
  expect_no_hang
  expect_rc 0
  grep -v '^accuracy' "$TMP/out" > "$TMP/lines"
  [ "$(wc -l < "$TMP/lines")" = 6 ] || fail "$(wc -l < "$TMP/lines") lines, expected 6"
  M='(video|audio|text) (0\.[0-9]{2}|1\.00| -  )'
  grep -vE "^0:00:0[0-5]\.000  ($CLASSES) +[01]\.[0-9]{2}  (male|female) +[01]\.[0-9]{2}  $M  $M  $M  (ok|\(truth: ($CLASSES)\))\$" \
    "$TMP/lines" | sed 's/^/#   bad line: /' > "$TMP/bad"
  [ -s "$TMP/bad" ] && { cat "$TMP/bad"; fail "lines not in the documented format"; }
  grep -qE '^accuracy over 6 windows: class [0-6]/6 = [0-9.]+ %, speaker_gender [0-6]/6' "$TMP/out" \
    || fail "no accuracy line"
  d=$(duration_of "$TMP/classified.mkv")
  about "$d" 6.0 || fail "annotated file lasts $d s, expected 6"
}

# --json: one JSON object per window, each with every task and modality;
# 2-s windows give 3 results; weights sum to 1
classify_py_json () {
  run $WITH_PLUGIN timeout -k 5 $LIMIT "$PY" "$SRC/pipelines/classify.py" "$F" --json --window 2
  expect_no_hang
  expect_rc 0
  "$PY" - "$TMP/out" <<'EOF' || fail "bad JSON results"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 3, "%d results, expected 3" % len(rows)
for i, r in enumerate(rows):
    assert r["running_time"] == i * 2000000000 and r["duration"] == 2000000000, r
    assert set(r["tasks"]) == {"class", "speaker_gender"}, r["tasks"].keys()
    c = r["tasks"]["class"]
    assert c["label"] in c["probabilities"] and len(c["probabilities"]) == 10
    assert abs(sum(c["probabilities"].values()) - 1) < 1e-3
    w = sum(m["weight"] for m in r["modalities"].values())
    assert abs(w - 1) < 1e-3, w
EOF
}

# a file without subtitles: classify.py links what there is; text is
# missing ("-") in every line
classify_py_no_subtitles () {
  ffmpeg -v error -i "$F" -map 0:v -map 0:a -c copy "$TMP/nosub.mkv" || { fail "ffmpeg"; return; }
  run $WITH_PLUGIN timeout -k 5 $LIMIT "$PY" "$SRC/pipelines/classify.py" "$TMP/nosub.mkv"
  expect_no_hang
  expect_rc 0
  [ "$(wc -l < "$TMP/out")" = 6 ] || fail "$(wc -l < "$TMP/out") lines, expected 6"
  grep -v 'text  -  $' "$TMP/out" | sed 's/^/#   /'
  [ "$(grep -c 'text  -  $' "$TMP/out")" = 6 ] || fail "text not missing in every window"
}

# ---- negative --------------------------------------------------------------

classify_missing_file_n () {
  run $WITH_PLUGIN timeout -k 5 $LIMIT "$PY" "$SRC/pipelines/classify.py" "$TMP/nonexistent.mkv"
  expect_rc 1
  expect_err "nonexistent.mkv: no such file"
}

# not a media file: decodebin cannot type it; an error, exit 1
classify_not_media_n () {
  head -c 4096 /dev/urandom > "$TMP/noise.bin"
  run $WITH_PLUGIN timeout -k 5 $LIMIT "$PY" "$SRC/pipelines/classify.py" "$TMP/noise.bin"
  expect_no_hang
  expect_rc 1
  expect_err "classify.py: "
}

classify_empty_file_n () {
  : > "$TMP/empty.mkv"
  run $WITH_PLUGIN timeout -k 5 $LIMIT "$PY" "$SRC/pipelines/classify.py" "$TMP/empty.mkv"
  expect_no_hang
  expect_rc 1
  expect_err "classify.py: "
}

# a file without media data: a WAV that is only a header (its stream has
# no sample, so no window): exit 1 saying so
classify_no_media_data_n () {
  printf 'RIFF\044\000\000\000WAVEfmt \020\000\000\000\001\000\001\000\200\076\000\000\000\175\000\000\002\000\020\000data\000\000\000\000' \
    > "$TMP/header-only.wav"
  run $WITH_PLUGIN timeout -k 5 $LIMIT "$PY" "$SRC/pipelines/classify.py" "$TMP/header-only.wav"
  expect_no_hang
  expect_rc 1
  expect_err "no window classified"
}

classify_missing_model_n () {
  run $WITH_PLUGIN timeout -k 5 $LIMIT "$PY" "$SRC/pipelines/classify.py" "$F" --model "$TMP/no-such-model.safetensors"
  expect_no_hang
  expect_rc 1
  expect_err "no-such-model.safetensors"
}

classify_corrupt_model_n () {
  head -c 100000 /dev/urandom > "$TMP/corrupt.safetensors"
  run $WITH_PLUGIN timeout -k 5 $LIMIT "$PY" "$SRC/pipelines/classify.py" "$F" --model "$TMP/corrupt.safetensors"
  expect_no_hang
  expect_rc 1
  expect_err "corrupt.safetensors"
}

classify_bad_window_n () {
  run $WITH_PLUGIN "$PY" "$SRC/pipelines/classify.py" "$F" --window 0
  expect_rc 2
  expect_err "--window must be positive"
}

classify_truth_without_rows_n () {
  printf 'file,start_s,end_s,class\nother.mkv,0,2,Bag\n' > "$TMP/other.csv"
  run $WITH_PLUGIN timeout -k 5 $LIMIT "$PY" "$SRC/pipelines/classify.py" "$F" --truth "$TMP/other.csv"
  expect_rc 1
  expect_err "has no row for avt.mkv"
}

launch_missing_file_n () {
  launch file-annotate.sh "$TMP/nonexistent.mkv" "$TMP/never.mkv"
  expect_no_hang
  [ "$rc" != 0 ] || fail "exit status 0 for a missing file"
  grep -q 'nonexistent.mkv' "$TMP/out" "$TMP/err" || fail "the error does not name the file"
  [ "$(wc -l < "$TMP/res")" = 0 ] || fail "results for a missing file"
}

# the default model replaced by garbage: the pipeline fails at start with
# the model's path in the error
launch_corrupt_default_model_n () {
  head -c 100000 /dev/urandom > "$TMP/garbage.safetensors"
  MMDNN_DEFAULT_MODEL=$TMP/garbage.safetensors launch audio-text.sh "$F"
  expect_no_hang
  [ "$rc" != 0 ] || fail "exit status 0 with a corrupt model"
  grep -q 'garbage.safetensors' "$TMP/out" "$TMP/err" || fail "the error does not name the model"
  [ "$(wc -l < "$TMP/res")" = 0 ] || fail "results from a corrupt model"
}

live_cut_missing_model_n () {
  MMDNN_DEFAULT_MODEL=$TMP/no-such-model.safetensors NUM_BUFFERS=10 launch live-cut.sh
  expect_no_hang
  [ "$rc" != 0 ] || fail "exit status 0 without a model"
  grep -q 'no-such-model.safetensors' "$TMP/out" "$TMP/err" || fail "the error does not name the model"
}

check every_example_is_tested
check file_annotate_sh
check audio_text_sh
check live_cut_sh
check classify_py
check classify_py_json
check classify_py_no_subtitles
check classify_missing_file_n
check classify_not_media_n
check classify_empty_file_n
check classify_no_media_data_n
check classify_missing_model_n
check classify_corrupt_model_n
check classify_bad_window_n
check classify_truth_without_rows_n
check launch_missing_file_n
check launch_corrupt_default_model_n
check live_cut_missing_model_n
echo "1..$n"
[ $failed = 0 ]
