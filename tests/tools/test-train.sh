#!/bin/sh
# `mmdnn train` and `mmdnn eval` end to end on a tiny generated data set
# (40 clips of tools/make-dataset, seed 5) and a small config. TAP output.
#
#   test-train.sh MMDNN MAKE_DATASET
#
# Positive: training beats chance clearly on the training set (eval
# --json), the model loads with `mmdnn info`, --resume from the epoch-1
# checkpoint gives the uninterrupted run's model byte for byte, --plots
# writes three PNGs. Negative: missing data set, bad CSV (file and line
# named), corrupt model, --resume of a non-checkpoint, bad --tasks, an
# unwritable --out (no partial file), bad numbers (exit 2).
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u

MMDNN=$1
GEN=$2
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mmdnn-test-train-XXXXXX")
trap 'umount "$TMP/tmpfs" 2>/dev/null; chmod -R u+w "$TMP" 2>/dev/null; rm -rf "$TMP"' EXIT
PY=/usr/bin/python3

. "$(dirname "$0")/tap.sh"

DS=$TMP/ds
# the small config of the tools tests (also the base of tests/mpi's)
cp "$(dirname "$0")/tiny.json" "$TMP/tiny.json"
TRAIN="$MMDNN train $DS --config $TMP/tiny.json --batch 8 --seed 3"
# the first 8 clips alone, one batch, no validation: a run short enough to
# repeat 20 times under AddressSanitizer (small_ds makes it)
SMALL="$MMDNN train $TMP/small --config $TMP/tiny.json --batch 8 --seed 3 --val-fraction 0 --epochs 1"

# ---- positive ---------------------------------------------------------------

generate () {
  run "$GEN" "$DS" --clips 40 --split train --seed 5 --jobs 2
  expect_rc 0
  [ "$(wc -l <"$DS/labels.csv")" = 41 ] || fail "labels.csv is not 40 rows"
}

train_beats_chance () {
  run $TRAIN --epochs 20 --out "$TMP/m.safetensors" --plots "$TMP/plots"
  expect_rc 0
  expect_out "training on 36 clips, validating on 4"
  expect_out "epoch 20/20 step 100/100 loss"
  expect_out "wrote $TMP/m.safetensors"
  [ -s "$TMP/m.safetensors.ckpt" ] || fail "no checkpoint"
  run "$MMDNN" info "$TMP/m.safetensors"
  expect_rc 0
  expect_out "tiny-train-test"
  run "$MMDNN" eval "$TMP/m.safetensors" "$DS" --json
  expect_rc 0
  $PY - "$TMP/out" <<'PYEOF' >"$TMP/py" 2>&1 || { cat "$TMP/py"; fail "eval --json"; }
import json, sys
d = json.load(open(sys.argv[1]))
assert d["samples"] == 40, d["samples"]
assert set(d["tasks"]) == {"class", "speaker_gender"}
c = d["tasks"]["class"]
assert len(c["per_class"]) == 10 and "T-shirt/top" in c["per_class"]
assert c["accuracy"] >= 0.5, "class accuracy %s" % c["accuracy"]
assert set(d["ablation"]) == {"full", "video", "audio", "text", "no_video",
                              "no_audio", "no_text"}, d["ablation"].keys()
assert d["ablation"]["full"]["class"] == c["accuracy"]
assert sum(map(sum, c["confusion"])) == 40
print("# class accuracy on the training set: %.3f" % c["accuracy"])
PYEOF
  cat "$TMP/py"
}

eval_text () {
  run "$MMDNN" eval "$TMP/m.safetensors" "$DS"
  expect_rc 0
  expect_out "task class: accuracy"
  expect_out "true \\ predicted"
  expect_out "Ankle boot"
  for a in full video audio text no_video no_audio no_text; do
    grep -q "^  $a  *[0-9]" "$TMP/out" || fail "ablation row $a missing"
  done
}

plots_written () {
  for f in loss accuracy confusion-class confusion-speaker_gender; do
    [ -s "$TMP/plots/$f.png" ] || fail "$f.png missing or empty"
    [ "$(head -c 8 "$TMP/plots/$f.png" | od -An -tx1 | tr -d ' \n')" = \
      89504e470d0a1a0a ] || fail "$f.png lacks the PNG signature"
  done
}

# The schedule is part of the run: a config fixing optim.total_steps makes
# a 1-epoch run the first half of a 2-epoch one (without it, each run's
# cosine spans its own --epochs), so its checkpoint is the epoch-1 state.
resume_exact () {
  sed 's/"optim": {"lr": 0.01}/"optim": {"lr": 0.01, "total_steps": 10, "warmup_steps": 2}/' \
    "$TMP/tiny.json" >"$TMP/fixed.json"
  T="$MMDNN train $DS --config $TMP/fixed.json --batch 8 --seed 3"
  run $T --epochs 2 --out "$TMP/a.safetensors" --checkpoint "$TMP/a2.ckpt"
  expect_rc 0
  expect_out "schedule 10 steps (warm-up 2)"
  run $T --epochs 1 --out "$TMP/b1.safetensors" --checkpoint "$TMP/b.ckpt"
  expect_rc 0
  cmp -s "$TMP/a.safetensors" "$TMP/b1.safetensors" \
    && fail "1 and 2 epochs gave the same model"
  run $MMDNN train "$DS" --batch 8 --seed 3 --epochs 2 \
      --resume "$TMP/b.ckpt" --out "$TMP/b.safetensors" --checkpoint "$TMP/b.ckpt"
  expect_rc 0
  expect_out "resuming from $TMP/b.ckpt at epoch 1, step 5"
  cmp -s "$TMP/a.safetensors" "$TMP/b.safetensors" \
    || fail "resumed model differs from the uninterrupted run"
  cmp -s "$TMP/a2.ckpt" "$TMP/b.ckpt" \
    || fail "resumed checkpoint differs from the uninterrupted run"
}

# ---- negative ---------------------------------------------------------------

missing_dataset_n () {
  run "$MMDNN" train "$TMP/nope" --out "$TMP/x.safetensors"
  expect_rc 1
  expect_err "$TMP/nope/labels.csv"
  [ ! -e "$TMP/x.safetensors" ] || fail "wrote a model"
}

bad_csv_n () {
  mkdir -p "$TMP/bad"
  ln -s "$DS/clip-000000.mkv" "$TMP/bad/clip-000000.mkv"
  printf 'file,start_s,end_s,class,speaker_gender\nclip-000000.mkv,0,2,Sneaker,male\nclip-000000.mkv,2,1,Sneaker,male\n' \
    >"$TMP/bad/labels.csv"
  run "$MMDNN" train "$TMP/bad" --out "$TMP/x.safetensors"
  expect_rc 1
  expect_err "$TMP/bad/labels.csv:3"
  run "$MMDNN" eval "$TMP/m.safetensors" "$TMP/bad"
  expect_rc 1
  expect_err "$TMP/bad/labels.csv:3"
}

corrupt_model_eval_n () {
  head -c 300 "$TMP/m.safetensors" >"$TMP/cut.safetensors"
  run "$MMDNN" eval "$TMP/cut.safetensors" "$DS"
  expect_rc 1
  expect_err "$TMP/cut.safetensors"
  [ ! -s "$TMP/out" ] || fail "printed results"
  run "$MMDNN" eval "$TMP/missing.safetensors" "$DS" --json
  expect_rc 1
  expect_err "$TMP/missing.safetensors"
}

resume_not_checkpoint_n () {
  run "$MMDNN" train "$DS" --resume "$TMP/m.safetensors" --out "$TMP/x.safetensors"
  expect_rc 1
  expect_err "$TMP/m.safetensors"
  expect_err "not a checkpoint"
  [ ! -e "$TMP/x.safetensors" ] || fail "wrote a model"
}

bad_tasks_n () {
  run $TRAIN --epochs 1 --tasks class,colour --out "$TMP/x.safetensors"
  expect_rc 1
  expect_err "labels.csv"
  expect_err "no column 'colour'"
  run $TRAIN --epochs 1 --tasks "class,,voice" --out "$TMP/x.safetensors"
  expect_rc 1
  expect_err "--tasks"
  [ ! -e "$TMP/x.safetensors" ] || fail "wrote a model"
}

unwritable_out_n () {
  # a read-only folder stops everyone but root
  if [ "$(id -u)" != 0 ]; then
    mkdir -p "$TMP/ro"
    chmod a-w "$TMP/ro"
    run $TRAIN --epochs 1 --out "$TMP/ro/m.safetensors"
    expect_rc 1
    expect_err "$TMP/ro/m.safetensors"
    [ -z "$(ls -A "$TMP/ro")" ] || fail "left a file in the folder"
    chmod u+w "$TMP/ro"
  fi
  run $TRAIN --epochs 1 --out "$TMP/no/such/dir/m.safetensors"
  expect_rc 1
  expect_err "$TMP/no/such/dir/m.safetensors"
  run $TRAIN --epochs 1 --out "$TMP/tiny.json/m.safetensors"
  expect_rc 1
  expect_err "$TMP/tiny.json/m.safetensors"
  mkdir -p "$TMP/isdir"
  run $TRAIN --epochs 1 --out "$TMP/isdir"
  expect_rc 1
  expect_err "$TMP/isdir: is a directory"
  [ -z "$(ls -A "$TMP/isdir")" ] || fail "left a file in the folder"
  [ ! -e "$TMP/tiny.json.ckpt" ] || fail "left a checkpoint"
}

bad_numbers_n () {
  for args in "--epochs 0" "--epochs x" "--batch 0" "--batch 99999" \
              "--val-fraction 1" "--val-fraction nan" "--seed -1"; do
    run "$MMDNN" train "$DS" --out "$TMP/x.safetensors" $args
    [ "$rc" = 2 ] || fail "$args: exit $rc, expected 2"
  done
  run "$MMDNN" train "$DS"
  expect_rc 2
  expect_err "--out MODEL is required"
  run "$MMDNN" eval "$TMP/m.safetensors" "$DS" --batch 0
  expect_rc 2
  run "$MMDNN" eval "$TMP/m.safetensors"
  expect_rc 2
  [ ! -e "$TMP/x.safetensors" ] || fail "wrote a model"
}

# A diverging run: a learning rate of 1e38 overflows the updates (most of
# them; the cosine schedule lets one through, after which the forward
# itself is no longer finite). Each such step is skipped with a warning
# naming it, so is the validation of a model whose forward is not finite,
# the run ends normally saying how many steps were skipped, and the model
# holds finite weights only; `mmdnn eval` of it fails saying why.
diverging_run_n () {
  sed 's/"lr": 0.01/"lr": 1e38/' "$TMP/tiny.json" >"$TMP/huge-lr.json"
  grep -q '"lr": 1e38' "$TMP/huge-lr.json" || fail "no lr in tiny.json"
  run "$MMDNN" train "$DS" --config "$TMP/huge-lr.json" --batch 8 --seed 3 \
    --epochs 2 --out "$TMP/div.safetensors"
  expect_rc 0
  expect_err "warning: model:"
  expect_err "step skipped, weights unchanged"
  expect_err "is not finite"
  expect_err "warning: validation of epoch 2 skipped"
  expect_out "updates skipped for a non-finite forward or gradient"
  $PY - "$TMP/div.safetensors" <<'PYEOF' >"$TMP/py" 2>&1 || { cat "$TMP/py"; fail "weights not finite"; }
import json, struct, sys
import numpy as np
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
data = np.frombuffer(b[8 + n:], dtype="<f4")
assert len(data) > 1000, len(data)
assert np.isfinite(data).all(), "non-finite weights"
PYEOF
  run "$MMDNN" eval "$TMP/div.safetensors" "$DS"
  expect_rc 1
  expect_err "non-finite value"
}

# A full disk as a file size limit (ulimit -f: EFBIG, what a plain
# container allows; SIGXFSZ ignored, as it would kill the tool), and as a
# small tmpfs (ENOSPC) where mounting one is allowed: --out fails naming
# the file and the reason, the model written before is left byte for
# byte, and no temporary file remains.
# after a failed --out into DIR for REASON: the error names the file and
# the reason, the old model is left byte for byte, nothing else is there
small_ds () {
  [ -e "$TMP/small/labels.csv" ] && return
  mkdir -p "$TMP/small"
  head -n 9 "$DS/labels.csv" >"$TMP/small/labels.csv"
  for f in $(tail -n +2 "$TMP/small/labels.csv" | cut -d, -f1 | sort -u); do
    ln -s "$DS/$f" "$TMP/small/$f"
  done
}

expect_full_failed () {
  expect_rc 1
  expect_err "$1/m.safetensors"
  expect_err "$2"
  cmp -s "$TMP/m.safetensors" "$1/m.safetensors" \
    || fail "the previous model changed ($2)"
  [ "$(ls -A "$1")" = "m.safetensors" ] || fail "left a file: $(ls -A "$1")"
}

full_disk_out_n () {
  small_ds
  mkdir -p "$TMP/full"
  cp "$TMP/m.safetensors" "$TMP/full/m.safetensors"
  (trap '' XFSZ; ulimit -f 64; exec $SMALL \
     --out "$TMP/full/m.safetensors") >"$TMP/out" 2>"$TMP/err"
  rc=$?
  expect_full_failed "$TMP/full" "File too large"
  # a really full disk (ENOSPC) where mounting a tmpfs is allowed (root
  # outside an unprivileged container): room for the old model only
  mkdir -p "$TMP/tmpfs"
  kb=$(( $(wc -c <"$TMP/m.safetensors") / 1024 + 8 ))
  if mount -t tmpfs -o size=${kb}k tmpfs "$TMP/tmpfs" 2>/dev/null; then
    cp "$TMP/m.safetensors" "$TMP/tmpfs/m.safetensors"
    run $SMALL --out "$TMP/tmpfs/m.safetensors"
    expect_full_failed "$TMP/tmpfs" "No space left on device"
    umount "$TMP/tmpfs"
  else
    echo "# no tmpfs mount allowed here: the ENOSPC case is not run"
  fi
}

# kill -9 of `mmdnn train --out` at 10 random moments (seeded) between
# half and one and a half times an uninterrupted run's time, around where
# the checkpoint and the model are written (tests/core/test-crash-safety.c
# kills the writer itself 20 times; this is the tool end to end): the model file is always byte for byte the one
# there before or the one an uninterrupted run writes, the checkpoint
# absent or the uninterrupted run's, whole. Nothing is asserted on time.
kill_during_out_n () {
  small_ds
  mkdir -p "$TMP/kill"
  t0=$(date +%s.%N)
  run $SMALL --out "$TMP/kill/new.safetensors"
  t1=$(date +%s.%N)
  expect_rc 0
  olds=0; news=0
  for i in $(seq 10); do
    cp "$TMP/m.safetensors" "$TMP/kill/k.safetensors"
    $SMALL --out "$TMP/kill/k.safetensors" >/dev/null 2>&1 &
    pid=$!
    sleep "$($PY -c "import random; random.seed($i); t = $t1 - $t0; print('%.3f' % random.uniform(0.5 * t, 1.5 * t))")"
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    if cmp -s "$TMP/m.safetensors" "$TMP/kill/k.safetensors"; then
      olds=$((olds + 1))
    elif cmp -s "$TMP/kill/new.safetensors" "$TMP/kill/k.safetensors"; then
      news=$((news + 1))
    else
      fail "trial $i: the model is neither the old nor the new one"
    fi
    if [ -e "$TMP/kill/k.safetensors.ckpt" ]; then
      cmp -s "$TMP/kill/new.safetensors.ckpt" "$TMP/kill/k.safetensors.ckpt" \
        || fail "trial $i: the checkpoint is not the uninterrupted run's"
      rm -f "$TMP/kill/k.safetensors.ckpt"
    fi
    # the temporary file of an interrupted save, if any
    rm -f "$TMP/kill/k.safetensors."*tmp-*
  done
  echo "# kill -9 during mmdnn train --out: $olds kills left the old model, $news the new one"
}

echo "1..16"
check generate
check train_beats_chance
check eval_text
check plots_written
check resume_exact
check missing_dataset_n
check bad_csv_n
check corrupt_model_eval_n
check resume_not_checkpoint_n
check bad_tasks_n
check unwritable_out_n
check bad_numbers_n
check diverging_run_n
check full_disk_out_n
check kill_during_out_n
n=$((n + 1)); echo "ok $n - done ($failed failed)"
[ $failed = 0 ]
