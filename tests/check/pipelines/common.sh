# shellcheck shell=sh
# What the pipeline tests (test-pipelines.sh, test-split-hosts.sh) share,
# sourced after `set -u` by a test whose first argument is
# tools/make-dataset:
#
#   SRC, HERE     the source tree, this folder
#   TMP           a scratch folder, removed at exit; the TAP harness
#                 (tests/tools/tap.sh) loaded
#   WITH_PLUGIN   the command prefix for anything that loads the plugin
#   LIMIT         seconds any one run may take (a hang: exit status 124)
#   launch SCRIPT ARGS...  a pipelines/ example run with a gst-launch-1.0
#                 wrapper first on PATH that shows the bus (-m instead of
#                 -q; also -v with LAUNCH_VERBOSE=1), with the timeout;
#                 its results (results.py) in $TMP/res
#   F, LABELS     the media: 3 held-out AVT-Fashion test clips back to back
#                 (6 s, video, audio, subtitles) and their labels.csv, made
#                 by tools/make-dataset --concat
#
# The environment is meson's gst_test_env (tests/check/meson.build): the
# plugin on GST_PLUGIN_PATH_1_0, MMDNN_SOURCE_ROOT, MMDNN_DEFAULT_MODEL.
# SPDX-License-Identifier: LGPL-2.1-or-later

GEN=$1
SRC=${MMDNN_SOURCE_ROOT:?}
HERE=$SRC/tests/check/pipelines
PY=/usr/bin/python3
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mmdnn-$(basename "$0" .sh)-XXXXXX")
trap 'rm -rf "$TMP"' EXIT

. "$SRC/tests/tools/tap.sh"

CLASSES='T-shirt/top|Trouser|Pullover|Dress|Coat|Sandal|Shirt|Sneaker|Bag|Ankle boot'
LIMIT=60            # seconds any one run may take

# Under the sanitizers (make check-asan) the plugin is instrumented but
# gst-launch-1.0 and python3 are not: the ASan runtime must come first, so
# the commands that load the plugin run with it preloaded; leak detection
# is off for them (the interpreter's own allocations; the element tests
# check our leaks), everything else (UBSan, ASan errors) stays on.
WITH_PLUGIN=env
asan=$(ldd "${GST_PLUGIN_PATH_1_0:?}/libgstmmdnn.so" 2>/dev/null | awk '/libasan/ { print $3 }')
if [ -n "$asan" ]; then
  WITH_PLUGIN="env LD_PRELOAD=$asan ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0:verify_asan_link_order=0"
  LIMIT=180
fi

# the gst-launch-1.0 wrapper: -m instead of -q
REAL_LAUNCH=$(command -v gst-launch-1.0)
mkdir -p "$TMP/bin"
cat > "$TMP/bin/gst-launch-1.0" <<EOF
#!/bin/sh
for a do shift; [ "\$a" = -q ] || set -- "\$@" "\$a"; done
exec "$REAL_LAUNCH" -m \${LAUNCH_VERBOSE:+-v} "\$@"
EOF
chmod +x "$TMP/bin/gst-launch-1.0"

# launch SCRIPT ARGS...: runs a pipelines/ example with the wrapper, with a
# timeout; results (results.py) in $TMP/res, one line per window:
#   START_NS LABEL_PERCENT V_PRESENT V_WEIGHT A_PRESENT A_WEIGHT T_PRESENT T_WEIGHT
launch () {
  script=$1
  shift
  PATH="$TMP/bin:$PATH" run $WITH_PLUGIN timeout -k 5 $LIMIT "$SRC/pipelines/$script" "$@"
  "$PY" "$HERE/results.py" < "$TMP/out" > "$TMP/res"
}

expect_no_hang () {
  [ "$rc" != 124 ] && [ "$rc" != 137 ] || fail "hung: killed after $LIMIT s"
}

# ---- the media -------------------------------------------------------------

"$GEN" "$TMP/media" --clips 3 --split test --seed 5 --voices heldout --jobs 2 \
  --concat avt.mkv > "$TMP/gen.log" 2>&1 || { cat "$TMP/gen.log"; echo "Bail out! make-dataset failed"; exit 1; }
F=$TMP/media/avt.mkv
LABELS=$TMP/media/labels.csv
