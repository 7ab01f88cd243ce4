#!/usr/bin/env bash
# `make demo`: the classification pipeline on the default model, end to end.
#
#   tools/demo.sh            (BUILD=build by default; make demo runs it)
#
# 1. installs what is missing (tools/install-deps.sh: as root on Debian 12),
# 2. configures and compiles $BUILD like `make check` does,
# 3. makes the demo clip if it is not there yet: $BUILD/demo/avt-demo.mkv,
#    8 held-out AVT-Fashion test clips (test images, voices never used in
#    training; the first 8 clips of README.md's data/test-heldout) back to
#    back, 16 s, with $BUILD/demo/labels.csv (the truth),
# 4. runs pipelines/classify.py on it with the plugin from the build tree
#    (GST_PLUGIN_PATH_1_0=$BUILD/gst, not installed) and the default model:
#    one line per window (time, label, confidence, speaker gender, modality
#    weights, and whether the label is right), the annotated video in
#    $BUILD/demo/avt-demo-annotated.mkv, and a last line with the accuracy
#    over the windows. Windows of 2 s, one per clip: each window then sees
#    what `mmdnn eval` sees of its clip but for JPEG decoding (classify.py's
#    docstring says how), so the accuracy is the model's (README.md, "The
#    default model"; on these 8 clips `mmdnn eval` agrees on every class and
#    every gender).
# Quiet apart from the results: the output of the build and of the clip
# generator shows only when they fail. About 5 s after the build.
# SPDX-License-Identifier: LGPL-2.1-or-later
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
demo=$BUILD/demo
log=$(mktemp "${TMPDIR:-/tmp}/mmdnn-demo-XXXXXX")
trap 'rm -f "$log"' EXIT

# quietly CMD...: runs CMD with its output in $log, shown only on failure
quietly () {
  if ! "$@" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "demo.sh: failed: $*" >&2
    exit 1
  fi
}

tools/install-deps.sh                  # prints only when it installs
if [ ! -f "$BUILD/build.ninja" ]; then
  echo "demo.sh: configuring and building $BUILD/ (once: a few minutes)" >&2
  quietly meson setup "$BUILD"
fi
# shellcheck disable=SC2086  # MESON_COMPILE_ARGS: "" or "-j N"
quietly meson compile -C "$BUILD" ${MESON_COMPILE_ARGS:-}

if [ ! -f "$demo/avt-demo.mkv" ] || [ ! -f "$demo/labels.csv" ]; then
  quietly tools/make-dataset "$demo" --clips 8 --split test --seed 3 \
    --voices heldout --concat avt-demo.mkv
fi

# The plugin from the build tree; its own registry cache so that an
# installed copy of the plugin (or a stale cache) cannot get in the way.
build_abs=$(cd "$BUILD" && pwd)
export GST_PLUGIN_PATH_1_0=$build_abs/gst
export GST_REGISTRY_1_0=$build_abs/demo/registry.bin
echo "$demo/avt-demo.mkv: 8 clips of 2 s, held-out voices; one line per 2-s window (= clip)"
echo "start        class         p     gender  p     fusion weight of each modality     truth"
/usr/bin/python3 pipelines/classify.py "$demo/avt-demo.mkv" \
  --window 2 --out "$demo/avt-demo-annotated.mkv" --truth "$demo/labels.csv"
echo "annotated video: $demo/avt-demo-annotated.mkv"
