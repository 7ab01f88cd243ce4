#!/bin/sh
# Data-parallel `mmdnn train` under mpirun on a tiny generated data set
# (16 clips of tools/make-dataset, seed 5; 12 train, 4 validation) and a
# small config without the terms that couple the samples of a batch
# (InfoNCE, virtual data), so N processes must give one process's model.
# TAP output.
#
#   test-mpi.sh MMDNN MAKE_DATASET MPIRUN COMPARE_MODELS
#
# Positive: 2 ranks with global batch 7 (slices 4+3, 3+2) give the weights
# of 1 process after 10 steps (max abs diff <= 1e-5), and so do 3; 1 rank
# under mpirun is byte-identical to the plain binary; the shards of each
# step are the 1-process batch cut in contiguous slices and cover the
# training clips exactly once per epoch; a checkpoint resumes with another
# number of processes, and with virtual data on a run resumed with the
# same number is byte-identical to an uninterrupted one. Negative: a rank killed with SIGKILL ends the run
# (non-zero exit, no hang, the failure named) with the checkpoint intact;
# a global batch smaller than the run; an error one rank alone sees (an
# unwritable --out); a diverging run (every process skips the same steps);
# a missing data set; an unwritable --trace-clips.
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u

MMDNN=$1
GEN=$2
MPIRUN=$3
COMPARE=$4
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mmdnn-test-mpi-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
PY=/usr/bin/python3

# Open MPI as root in a container: the test says so itself
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
# one BLAS thread per rank: 2 cores for up to 3 ranks
export OPENBLAS_NUM_THREADS=1
# Under AddressSanitizer (make check-asan sets ASAN_OPTIONS) every process
# is checked for memory errors, but LeakSanitizer's check at exit
# symbolizes each of the thousands of allocations Open MPI keeps from its
# start (tests/lsan.supp), over a minute a process on 2 cores: it runs on
# the 2-rank training (two_ranks_same_weights) only.
LEAKS=
if [ -n "${ASAN_OPTIONS:-}" ]; then
  LEAKS="env ASAN_OPTIONS=$ASAN_OPTIONS"
  export ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0"
fi

. "$(dirname "$0")/../tools/tap.sh"

DS=$TMP/ds
# tests/tools' small config without InfoNCE and virtual data, at the
# default learning rate, the schedule fixed to 10 steps
$PY - "$(dirname "$0")/../tools/tiny.json" >"$TMP/exact.json" <<'PYEOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["model_id"] = "tiny-mpi-test"
c["loss"]["w_nce"] = 0
c["virtual_data"] = {"mixup_alpha": 0, "p_recombine": 0,
                     "p_modality_dropout": 0, "p_latent": 0}
c["optim"] = {"total_steps": 10, "warmup_steps": 1}
json.dump(c, sys.stdout, indent=1)
PYEOF
# 12 training clips in batches of 7: 2 steps an epoch, 10 in 5 epochs
TRAIN="train $DS --config $TMP/exact.json --batch 7 --seed 3 --val-fraction 0.25"
MPI="timeout 300 $MPIRUN --oversubscribe"

close () {     # close A B: the models agree within 1e-5
  $PY "$COMPARE" "$1" "$2" 1e-5 >"$TMP/cmp" 2>&1 || { cat "$TMP/cmp"; fail "$1 and $2 differ"; }
  sed 's/^/# /' "$TMP/cmp"
}

# ---- positive ---------------------------------------------------------------

generate () {
  run "$GEN" "$DS" --clips 16 --split train --seed 5 --jobs 2
  expect_rc 0
  [ "$(wc -l <"$DS/labels.csv")" = 17 ] || fail "labels.csv is not 16 rows"
  run "$MMDNN" $TRAIN --epochs 5 --out "$TMP/one.safetensors" \
      --trace-clips "$TMP/trace1"
  expect_rc 0
  expect_out "epoch 5/5 step 10/10"
  cp "$TMP/out" "$TMP/one.out"
}

two_ranks_same_weights () {
  run $LEAKS $MPI -np 2 "$MMDNN" $TRAIN --epochs 5 --out "$TMP/two.safetensors"
  expect_rc 0
  expect_out "2 processes (MPI), each training on a slice of up to 4 samples"
  expect_out "epoch 5/5 step 10/10"
  # rank 0 alone speaks: one line per epoch, not two
  [ "$(grep -c '^epoch 5/5 step 10/10' "$TMP/out")" = 1 ] \
    || fail "more than one rank printed the log"
  [ ! -s "$TMP/err" ] || fail "stderr not empty"
  # validation counts are summed over the ranks: the 1-process numbers
  grep '^  validation' "$TMP/one.out" >"$TMP/v1"
  grep '^  validation' "$TMP/out" >"$TMP/v2"
  cmp -s "$TMP/v1" "$TMP/v2" || fail "validation lines differ from 1 process"
  close "$TMP/one.safetensors" "$TMP/two.safetensors"
  run $MPI -np 3 "$MMDNN" $TRAIN --epochs 5 --out "$TMP/three.safetensors" \
      --trace-clips "$TMP/trace3"
  expect_rc 0
  close "$TMP/one.safetensors" "$TMP/three.safetensors"
}

one_rank_bit_identical () {
  run $MPI -np 1 "$MMDNN" $TRAIN --epochs 5 --out "$TMP/mpi1.safetensors"
  expect_rc 0
  cmp -s "$TMP/one.safetensors" "$TMP/mpi1.safetensors" \
    || fail "1 rank under mpirun differs from the plain binary"
  cmp -s "$TMP/one.safetensors.ckpt" "$TMP/mpi1.safetensors.ckpt" \
    || fail "checkpoints differ"
}

# Each step's slices, rank after rank, are the 1-process batch; each epoch
# covers the 12 training clips once; slices differ in size by at most one.
shards_cover () {
  $PY - "$TMP/trace1" "$TMP/trace3" <<'PYEOF' >"$TMP/py" 2>&1 || { cat "$TMP/py"; fail "shards"; }
import glob, os, sys
def read(d):
    steps = {}
    for f in sorted(glob.glob(os.path.join(d, "rank-*.tsv"))):
        for line in open(f):
            e, s, r, *clips = line.split("\t")
            steps.setdefault((int(e), int(s)), {})[int(r)] = [int(c) for c in clips]
    return steps
one, three = read(sys.argv[1]), read(sys.argv[2])
assert sorted(one) == sorted(three) and len(one) == 10, (sorted(one), sorted(three))
epochs = {}
for key in sorted(one):
    s = three[key]
    assert sorted(s) == [0, 1, 2], s
    sizes = [len(s[r]) for r in range(3)]
    assert max(sizes) - min(sizes) <= 1, (key, sizes)
    assert s[0] + s[1] + s[2] == one[key][0], (key, s, one[key])
    epochs.setdefault(key[0], []).extend(one[key][0])
for e, clips in epochs.items():
    assert len(clips) == 12 and len(set(clips)) == 12, (e, clips)
    assert all(0 <= c < 16 for c in clips), clips
assert len(set(tuple(c) for c in epochs.values())) > 1, "every epoch the same order"
print("# 10 steps, 5 epochs of 12 clips; slices", sorted(len(v) for v in three[(1, 1)].values()))
PYEOF
  cat "$TMP/py"
}

# 2 epochs on 2 ranks, then 1 process to 5; 2 epochs on 1, then 2 ranks
resume_other_n () {
  run $MPI -np 2 "$MMDNN" $TRAIN --epochs 2 --out "$TMP/r2.safetensors" \
      --checkpoint "$TMP/r2.ckpt"
  expect_rc 0
  run "$MMDNN" train "$DS" --batch 7 --seed 3 --val-fraction 0.25 --epochs 5 \
      --resume "$TMP/r2.ckpt" --out "$TMP/r21.safetensors" --checkpoint "$TMP/r21.ckpt"
  expect_rc 0
  expect_out "resuming from $TMP/r2.ckpt at epoch 2, step 4"
  close "$TMP/one.safetensors" "$TMP/r21.safetensors"
  run "$MMDNN" $TRAIN --epochs 2 --out "$TMP/r1.safetensors" --checkpoint "$TMP/r1.ckpt"
  expect_rc 0
  run $MPI -np 2 "$MMDNN" train "$DS" --batch 7 --seed 3 --val-fraction 0.25 \
      --epochs 5 --resume "$TMP/r1.ckpt" --out "$TMP/r12.safetensors" \
      --checkpoint "$TMP/r12.ckpt"
  expect_rc 0
  expect_out "resuming from $TMP/r1.ckpt at epoch 2, step 4"
  close "$TMP/one.safetensors" "$TMP/r12.safetensors"
}

# Virtual data and InfoNCE on: N ranks draw from streams derived from
# rank 0's RNG, which every step carries to all, so a run resumed with the
# same N is byte-identical to an uninterrupted one.
resume_same_n_virtual_data () {
  $PY -c 'import json, sys
c = json.load(open(sys.argv[1]))
del c["loss"]["w_nce"], c["virtual_data"]      # the defaults: on
json.dump(c, sys.stdout)' "$TMP/exact.json" >"$TMP/virtual.json"
  V="train $DS --config $TMP/virtual.json --batch 7 --seed 3 --val-fraction 0.25"
  run $MPI -np 2 "$MMDNN" $V --epochs 2 --out "$TMP/v.safetensors"
  expect_rc 0
  run $MPI -np 2 "$MMDNN" $V --epochs 1 --out "$TMP/v1.safetensors" --checkpoint "$TMP/v1.ckpt"
  expect_rc 0
  run $MPI -np 2 "$MMDNN" train "$DS" --batch 7 --seed 3 --val-fraction 0.25 \
      --epochs 2 --resume "$TMP/v1.ckpt" --out "$TMP/v2.safetensors"
  expect_rc 0
  cmp -s "$TMP/v.safetensors" "$TMP/v2.safetensors" \
    || fail "2 ranks resumed differ from 2 ranks uninterrupted"
  cmp -s "$TMP/v.safetensors" "$TMP/v1.safetensors" \
    && fail "1 and 2 epochs gave the same model"
}

# ---- negative ---------------------------------------------------------------

# SIGKILL to rank 1 once the first checkpoint is there: the run ends
# (bounded), says why, and the checkpoint loads and resumes.
kill_rank_n () {
  K=$TMP/kill
  mkdir -p "$K"
  timeout 60 $MPIRUN --oversubscribe -np 2 sh -c \
    'echo $$ > "$0/pid.$OMPI_COMM_WORLD_RANK"; exec "$@"' "$K" \
    "$MMDNN" $TRAIN --epochs 100000 --out "$K/m.safetensors" \
    --checkpoint "$K/m.ckpt" >"$TMP/out" 2>"$TMP/err" &
  job=$!
  i=0
  while [ ! -s "$K/m.ckpt" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
  [ -s "$K/m.ckpt" ] || fail "no checkpoint after 60 s"
  [ -s "$K/pid.1" ] && kill -9 "$(cat "$K/pid.1")"
  wait $job
  rc=$?
  [ $rc != 124 ] || fail "the run hung after rank 1 died (timeout)"
  [ $rc != 0 ] || fail "exit status 0 after rank 1 died"
  expect_err "rank 1"
  grep -qE "Killed|signal 9" "$TMP/err" || fail "stderr does not name the death"
  expect_err "mmdnn: rank 0: stopped by the MPI launcher"
  [ ! -e "$K/m.safetensors" ] || fail "wrote a model"
  run "$MMDNN" info "$K/m.ckpt"
  expect_rc 0
  expect_out "mmdnn checkpoint"
  step=$(sed -n 's/.*checkpoint, version 1, step \([0-9]*\).*/\1/p' "$TMP/out")
  [ -n "$step" ] && [ $((step % 2)) = 0 ] || fail "checkpoint step '$step' is not an epoch's end"
  run "$MMDNN" train "$DS" --batch 7 --seed 3 --val-fraction 0.25 \
      --epochs $((step / 2 + 1)) --resume "$K/m.ckpt" --out "$K/r.safetensors"
  expect_rc 0
}

batch_below_ranks_n () {
  run $MPI -np 3 "$MMDNN" $TRAIN --epochs 1 --batch 2 --out "$TMP/x.safetensors"
  expect_rc 2
  expect_err "rank 0: train: --batch 2 is the global batch"
  expect_err "rank 2: train: --batch 2"
  [ ! -e "$TMP/x.safetensors" ] || fail "wrote a model"
}

# rank 0 alone checks the outputs: its error ends the others too
error_on_rank0_only_n () {
  run $MPI -np 2 "$MMDNN" $TRAIN --epochs 1 --out "$TMP/no/such/m.safetensors"
  expect_rc 1
  expect_err "rank 0: $TMP/no/such/m.safetensors: cannot write"
  [ $rc != 124 ] || fail "hung"
}

# A diverging run (learning rate 1e38): the overflowing updates, the
# non-finite forwards and the validations of the diverged model are
# skipped in every process alike (one process's non-finite forward tells
# them all), so 2 ranks end normally like 1 process, skipping as many
# steps, each said once (by rank 0), with finite weights.
diverging_n () {
  $PY - "$TMP/exact.json" >"$TMP/huge-lr.json" <<'PYEOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["optim"]["lr"] = 1e38
json.dump(c, sys.stdout)
PYEOF
  DIV="train $DS --config $TMP/huge-lr.json --batch 7 --seed 3 --val-fraction 0.25 --epochs 5"
  run "$MMDNN" $DIV --out "$TMP/div1.safetensors"
  expect_rc 0
  grep -o '[0-9]* updates skipped' "$TMP/out" >"$TMP/div1.skipped" \
    || fail "1 process: no count of skipped updates"
  run $MPI -np 2 "$MMDNN" $DIV --out "$TMP/div2.safetensors"
  expect_rc 0
  expect_err "step skipped, weights unchanged"
  grep -o '[0-9]* updates skipped' "$TMP/out" >"$TMP/div2.skipped" \
    || fail "2 processes: no count of skipped updates"
  cmp -s "$TMP/div1.skipped" "$TMP/div2.skipped" \
    || fail "$(cat "$TMP/div2.skipped") with 2 processes, $(cat "$TMP/div1.skipped") with 1"
  [ -z "$(grep 'warning:' "$TMP/err" | sort | uniq -d)" ] \
    || fail "a warning said more than once"
  $PY - "$TMP/div2.safetensors" <<'PYEOF' >"$TMP/py" 2>&1 || { cat "$TMP/py"; fail "weights not finite"; }
import json, struct, sys
import numpy as np
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
assert np.isfinite(np.frombuffer(b[8 + n:], dtype="<f4")).all()
PYEOF
}

missing_dataset_n () {
  run $MPI -np 2 "$MMDNN" train "$TMP/nope" --out "$TMP/x.safetensors"
  expect_rc 1
  expect_err "rank 0: $TMP/nope/labels.csv"
  expect_err "rank 1: $TMP/nope/labels.csv"
  [ ! -e "$TMP/x.safetensors" ] || fail "wrote a model"
}

bad_trace_dir_n () {
  run $MPI -np 2 "$MMDNN" $TRAIN --epochs 1 --out "$TMP/x.safetensors" \
      --trace-clips "$TMP/exact.json"
  expect_rc 1
  expect_err "$TMP/exact.json/rank-"
  [ ! -e "$TMP/x.safetensors" ] || fail "wrote a model"
}

echo "1..13"
check generate
check two_ranks_same_weights
check one_rank_bit_identical
check shards_cover
check resume_other_n
check resume_same_n_virtual_data
check kill_rank_n
check batch_below_ranks_n
check error_on_rank0_only_n
check diverging_n
check missing_dataset_n
check bad_trace_dir_n
n=$((n + 1)); echo "ok $n - done ($failed failed)"
[ $failed = 0 ]
