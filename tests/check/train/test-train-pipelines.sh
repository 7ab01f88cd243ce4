#!/bin/sh
# mmdnntrain in real pipelines run by gst-launch-1.0, against `mmdnn train`
# (TAP):
#
#   test-train-pipelines.sh MMDNN MAKE_DATASET TRAIN_ORDER
#
# - cli_and_pipeline_equal: the same data set trained by `mmdnn train` and
#   by a pipeline (decodebin, the video, audio and text encoders, a label
#   track from labels.csv through tools/labels-to-srt and subparse,
#   mmdnntrain) with the same config, seed, batch size and steps. The data
#   set's rows are laid out so that the CLI's shuffled order (train-order)
#   is the order of the windows in the file, and each row is its clip's
#   own [2i, 2i + 2) s, the pipeline's window: both see identical samples
#   in identical batches, and both run OpenBLAS with one thread (its
#   threads sum in another order). The training accuracy must agree within
#   1 point — and the model files are compared byte for byte.
#   Identical samples: a window and a clip take the same frame, the one on
#   screen at the middle (1.0 s into the clip; the video encoder encodes
#   only that one, max-rate=0.5 phase=1 s), the same 1-s audio patch, the
#   one centred (from 0.5 s; the audio encoder encodes only that one,
#   hop=2 s phase=0.5 s), and the same cue (gst/gstmmdnnwindow.h, mmdnn_dataset_load ()); the
#   elements' preprocessing equals the CLI's bit for bit
#   (tests/check/pipelines/consistency.c) given the same decoded input. So
#   the video is PNG (make-dataset --video-codec png): FFmpeg's decoder and
#   GStreamer's pngdec give the same RGB pixels, where two JPEG decoders
#   differ by rounding.
# - the examples pipelines/train-file.sh and pipelines/train-live.sh;
# - kill -9 of a training gst-launch-1.0 mid-run, then resume=true: the
#   checkpoint always loads, training goes on from its step, and no
#   temporary file is left;
# - what must fail, clearly: a label track naming a class the model lacks,
#   a checkpoint folder that does not exist, a data set that does not
#   exist, labels-to-srt on bad input.
#
# The environment is meson's gst_test_env (tests/check/meson.build).
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u

MMDNN=$1
GEN=$2
ORDER=$3
SRC=${MMDNN_SOURCE_ROOT:?}
PY=/usr/bin/python3
L2S=$SRC/tools/labels-to-srt
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mmdnn-test-train-XXXXXX")
trap 'chmod -R u+w "$TMP" 2>/dev/null; rm -rf "$TMP"' EXIT

. "$SRC/tests/tools/tap.sh"

LIMIT=120
# Under the sanitizers the plugin is instrumented, gst-launch-1.0 is not:
# the ASan runtime is preloaded, leak detection off for it (the element
# tests check our leaks).
WITH_PLUGIN=env
asan=$(ldd "${GST_PLUGIN_PATH_1_0:?}/libgstmmdnn.so" 2>/dev/null | awk '/libasan/ { print $3 }')
if [ -n "$asan" ]; then
  WITH_PLUGIN="env LD_PRELOAD=$asan ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0:verify_asan_link_order=0"
  LIMIT=400
fi
LAUNCH="$WITH_PLUGIN OPENBLAS_NUM_THREADS=1 timeout -k 5 $LIMIT gst-launch-1.0"

if ! "$GEN" --help 2>/dev/null | grep -q -- --concat; then
  echo "1..0 # SKIP tools/make-dataset has no --concat"
  exit 0
fi

# the data set: 16 clips back to back in one file
DS=$TMP/ds
N=16
"$GEN" "$DS" --clips $N --split train --seed 5 --jobs 2 --concat all.mkv \
  --video-codec png \
  > "$TMP/gen.log" 2>&1 || { cat "$TMP/gen.log"; echo "Bail out! make-dataset failed"; exit 1; }

# a small model of the three modalities, its schedule fixed (so that the
# CLI does not size it to its run)
cat > "$TMP/tiny.json" <<'JSON'
{"model_id": "tiny-train-pipeline",
 "modalities": ["video", "audio", "text"],
 "preprocessing": {"video": {"height": 32, "width": 32},
                   "text": {"buckets": 4096}},
 "encoders": {
   "video": {"ae_width": 4, "ae_latent": 8, "ms_width": 4, "ms_width2": 8,
             "ms_width3": 8, "use_sal": false},
   "audio": {"ae_width": 4, "ae_latent": 8, "ms_width": 4, "ms_width2": 8,
             "ms_width3": 8, "use_sal": false},
   "text": {"embed": 16, "ae_latent": 8, "ms_width": 8, "ms_width2": 8,
            "use_sal": false}},
 "fusion": {"dim": 32, "attn_hidden": 16},
 "loss": {"disc_hidden": 16},
 "optim": {"lr": 0.01, "warmup_steps": 1, "total_steps": 40}}
JSON

# mmdnn-train fields of the final message in a gst-launch -m log
final_field () {
  grep 'mmdnn-train, ' "$1" | grep 'final=(boolean)true' | tail -n 1 \
    | sed -nE "s/.*[ ,]$2=\\(guint64\\)([0-9]+).*/\\1/p"
}
final_accuracy () {
  grep 'mmdnn-train, ' "$1" | grep 'final=(boolean)true' | tail -n 1 \
    | sed -nE 's/.* accuracy-total=\(structure\)"accuracy[^(]*\(double\\\)([0-9.e+-]+|nan).*/\1/p'
}

# train_pipeline LOG MODEL PROPS...: the video + audio + text training
# pipeline over the data set, with the tiny config
# (the kill test runs it with LAUNCH=exec ... in the background)
train_pipeline () {
  tp_log=$1
  tp_model=$2
  shift 2
  $LAUNCH -e -m filesrc location="$DS/all.mkv" ! decodebin name=d \
    d. ! audio/x-raw ! queue ! audioconvert ! audioresample ! \
      mmdnnaudioenc model="$tp_model" hop=2000000000 phase=500000000 ! \
      queue ! t.sink_0 \
    d. ! text/x-raw ! queue ! mmdnntextenc model="$tp_model" ! queue ! t.sink_1 \
    d. ! video/x-raw ! queue ! videoconvert ! video/x-raw,format=RGB ! \
      mmdnnvideoenc model="$tp_model" max-rate=0.5 phase=1000000000 ! \
      queue ! t.sink_2 \
    filesrc location="$DS/labels.srt" ! subparse ! queue ! t.label \
    mmdnntrain name=t config="$TMP/tiny.json" publish-to="$tp_model" \
      window=2000000000 batch-size=4 seed=3 publish-interval=0 "$@" \
    ! fakesink > "$tp_log" 2>&1
}

# expect_failed: an error exit, neither success, a timeout nor a signal
# (gst-launch-1.0 exits with 1 or 255 on errors)
expect_failed () {
  case $rc in
    0) fail "exit status 0" ;;
    124|137) fail "timed out" ;;
    129|13[0-9]|1[4-8][0-9]|19[0-2]) fail "killed by signal $((rc - 128))" ;;
  esac
}

# expect_said TEXT: stdout or stderr has TEXT (gst-launch-1.0 prints
# errors on stderr, messages on stdout)
expect_said () {
  grep -qF -- "$1" "$TMP/out" "$TMP/err" || fail "no '$1' in the output"
}

# ---- positive --------------------------------------------------------------

cli_and_pipeline_equal () {
  # the CLI's visiting order, and the rows laid out so that clip i of the
  # file (time [2i, 2i+2)) is the i-th the CLI visits
  "$ORDER" 3 $N > "$TMP/order" || { fail "train-order failed"; return; }
  cp "$DS/labels.csv" "$TMP/labels-by-time.csv"
  $PY - "$TMP/labels-by-time.csv" "$TMP/order" "$DS/labels.csv" <<'PYEOF' || { fail "reordering labels.csv"; return; }
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
header, rows = rows[0], rows[1:]
order = [int(l) for l in open(sys.argv[2])]
out = [None] * len(rows)
for slot, row_index in enumerate(order):
    out[row_index] = rows[slot]         # the CLI visits row order[slot] at step slot
with open(sys.argv[3], "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(header)
    w.writerows(out)
PYEOF
  run "$L2S" "$DS" --task class --task speaker_gender -o "$DS/labels.srt"
  expect_rc 0

  run env OPENBLAS_NUM_THREADS=1 "$MMDNN" train "$DS" --config "$TMP/tiny.json" \
    --batch 4 --seed 3 --epochs 1 --val-fraction 0 --out "$TMP/cli.safetensors"
  expect_rc 0
  expect_out "schedule 40 steps"
  cli_acc=$(sed -nE 's/^epoch 1\/1 step [0-9]+\/[0-9]+ loss [0-9.]+ acc ([0-9.]+) val_acc.*/\1/p' "$TMP/out")
  [ -n "$cli_acc" ] || { fail "no accuracy from mmdnn train"; return; }

  # the pipeline: the encoders with the CLI's model file (its architecture;
  # the inputs do not depend on the weights), a fresh model of the config
  train_pipeline "$TMP/pipe.log" "$TMP/cli.safetensors" \
    out="$TMP/pipe.safetensors" message-interval=0
  rc=$?
  cp "$TMP/pipe.log" "$TMP/out"
  expect_rc 0
  [ "$(final_field "$TMP/pipe.log" samples)" = $N ] \
    || fail "trained on $(final_field "$TMP/pipe.log" samples) samples, not $N"
  [ "$(final_field "$TMP/pipe.log" step)" = $((N / 4)) ] \
    || fail "$(final_field "$TMP/pipe.log" step) steps, not $((N / 4))"
  pipe_acc=$(final_accuracy "$TMP/pipe.log")
  echo "# training accuracy: mmdnn train $cli_acc, pipeline $pipe_acc"
  $PY -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); sys.exit(abs(a - b) > 0.01)" \
    "$cli_acc" "$pipe_acc" || fail "accuracy $pipe_acc in the pipeline, $cli_acc by mmdnn train"
  cmp -s "$TMP/cli.safetensors" "$TMP/pipe.safetensors" \
    || fail "the pipeline's model differs from mmdnn train's"
}

# the examples (short): a data set of 2 clips, 2 passes; 5 s live
train_file_sh () {
  "$GEN" "$TMP/small" --clips 2 --split train --seed 9 --jobs 2 \
    --concat all.mkv > "$TMP/gen2.log" 2>&1 || { fail "make-dataset"; return; }
  run $WITH_PLUGIN timeout -k 5 $LIMIT env EPOCHS=2 "$SRC/pipelines/train-file.sh" \
    "$TMP/small" "$TMP/small.safetensors"
  expect_rc 0
  expect_out "pass 2 of 2"
  expect_out "wrote $TMP/small.safetensors"
  [ "$(grep -c 'final true' "$TMP/out")" = 2 ] || fail "not 2 final messages"
  # one step per pass (2 windows, batches of 8), the second resumed
  grep -q '^  step 2 .*final true' "$TMP/out" || fail "the second pass did not resume"
  [ "$(grep -cE '^0:00:0[02] ' "$TMP/out")" = 2 ] || fail "not 2 classified windows"
  [ -f "$TMP/small/labels.srt" ] || fail "no label track made"
  run "$MMDNN" info "$TMP/small.safetensors.ckpt"
  expect_out "mmdnn checkpoint, version 1, step 2"
}

train_live_sh () {
  run $WITH_PLUGIN timeout -k 5 $LIMIT env DURATION=5 "$SRC/pipelines/train-live.sh"
  expect_rc 0
  expect_out "final true"
  # a result per second of the 5, and a few more: the live sources start
  # late by their latency, and the subtitles, not live, reach further
  results=$(grep -cE '^[0-9]+ [A-Z][A-Za-z/ -]* [0-9.]+$' "$TMP/out")
  [ "$results" -ge 5 ] && [ "$results" -le 10 ] \
    || fail "$results results, expected 5 to 10"
}

# kill -9 at some moment of a run checkpointing every step; then resume.
# gst-launch-1.0 itself is killed (no timeout in between: it would
# survive), with a watchdog of its own.
kill_and_resume () {
  km=$TMP/cli.safetensors
  [ -f "$km" ] || { fail "needs cli_and_pipeline_equal's model"; return; }
  mkdir -p "$TMP/kill"
  ck=$TMP/kill/k.ckpt
  (LAUNCH="exec $WITH_PLUGIN gst-launch-1.0"
   train_pipeline "$TMP/kill.log" "$km" checkpoint="$ck" \
     checkpoint-interval=1 batch-size=2 message-interval=1 \
     step-delay=100000000) &
  pid=$!
  (i=0; while kill -0 $pid 2>/dev/null && [ $i -lt $LIMIT ]; do
     sleep 1; i=$((i + 1)); done; kill -9 $pid 2>/dev/null) >/dev/null 2>&1 &
  dog=$!
  waited=0
  while [ ! -f "$ck" ] && [ $waited -lt 600 ]; do sleep 0.1; waited=$((waited + 1)); done
  sleep 0.3
  kill -9 $pid 2>/dev/null
  wait $pid 2>/dev/null
  wait $dog 2>/dev/null
  [ -f "$ck" ] || { fail "no checkpoint written"; return; }
  run "$MMDNN" info "$ck"
  expect_rc 0
  step=$(sed -nE 's/.*mmdnn checkpoint, version 1, step ([0-9]+).*/\1/p' "$TMP/out")
  [ -n "$step" ] && [ "$step" -ge 1 ] || { fail "checkpoint step '$step'"; return; }
  [ "$step" -lt $((N / 2)) ] || fail "the run was over before the kill (step $step)"
  echo "# killed after step $step"

  train_pipeline "$TMP/resume.log" "$km" checkpoint="$ck" resume=true \
    batch-size=2 message-interval=0
  rc=$?
  cp "$TMP/resume.log" "$TMP/out"
  expect_rc 0
  [ "$(final_field "$TMP/resume.log" step)" = $((step + N / 2)) ] \
    || fail "resumed run ended at step $(final_field "$TMP/resume.log" step), not $((step + N / 2))"
  run "$MMDNN" info "$ck"
  expect_out "step $((step + N / 2))"
  [ -f "$TMP/kill/k" ] || fail "no final model next to the checkpoint"
  left=$(ls "$TMP/kill" | grep -c tmp)
  [ "$left" = 0 ] || fail "$left temporary files left"
}

# ---- negative --------------------------------------------------------------

label_not_a_class_n () {
  printf '1\n00:00:00,000 --> 00:00:02,000\nclass=Hat\n\n' > "$TMP/hat.srt"
  run $LAUNCH filesrc location="$DS/all.mkv" ! decodebin name=d \
    d. ! text/x-raw ! queue ! mmdnntextenc model="$TMP/cli.safetensors" ! t.sink_0 \
    filesrc location="$TMP/hat.srt" ! subparse ! queue ! t.label \
    mmdnntrain name=t config="$TMP/tiny.json" publish-to="$TMP/cli.safetensors" \
      window=2000000000 ! fakesink
  expect_failed
  expect_said '"Hat" is not a class of the task "class"'
}

checkpoint_folder_missing_n () {
  run $LAUNCH audiotestsrc num-buffers=10 ! mmdnnaudioenc ! t.sink_0 \
    mmdnntrain name=t checkpoint="$TMP/no/such/folder/m.ckpt" label=Bag ! fakesink
  expect_failed
  expect_said "Could not write the checkpoint"
}

train_file_no_dataset_n () {
  run timeout -k 5 $LIMIT "$SRC/pipelines/train-file.sh" "$TMP/no-such-dataset"
  expect_failed
}

labels_to_srt_bad_task_n () {
  run "$L2S" "$DS" --task colour
  expect_rc 2
  expect_err "no column 'colour'"
}

labels_to_srt_many_files_n () {
  mkdir -p "$TMP/two"
  printf 'file,start_s,end_s,class\na.mkv,0,2,Bag\nb.mkv,0,2,Coat\n' > "$TMP/two/labels.csv"
  run "$L2S" "$TMP/two"
  expect_rc 2
  expect_err "names 2 media files"
  run "$L2S" "$TMP/two" --file b.mkv
  expect_rc 0
  expect_out "class=Coat"
}

echo "1..9"
check cli_and_pipeline_equal
check train_file_sh
check train_live_sh
check kill_and_resume
check label_not_a_class_n
check checkpoint_folder_missing_n
check train_file_no_dataset_n
check labels_to_srt_bad_task_n
check labels_to_srt_many_files_n
[ $failed = 0 ]
