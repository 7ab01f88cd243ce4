#!/bin/sh
# Writes the GStreamer plugin registry every element, pipeline and train
# test reads (GST_REGISTRY with GST_REGISTRY_UPDATE=no, tests/check/
# meson.build): the plugin from the build tree plus the system's plugins,
# scanned once per build of the plugin instead of once per test.
#
# Why not let each test scan: under the sanitizers a test process that scans
# loads every system plugin into itself, and some of those leak by design or
# start threads at load time (e.g. openni2's device drivers); LeakSanitizer
# then fails the test for code that is not ours. Here the scan runs in
# gst-inspect-1.0 with leak detection off, and the plugin is checked to
# load. Under the sanitizers the plugin is instrumented and gst-inspect-1.0
# is not, so the ASan runtime is preloaded.
#
#   scan-registry.sh OUT PLUGIN_DIR
# SPDX-License-Identifier: LGPL-2.1-or-later
set -eu

OUT=$1
PLUGIN_DIR=$2
TMP_OUT=$OUT.tmp.$$
trap 'rm -f "$TMP_OUT"' EXIT

PRELOAD=
asan=$(ldd "$PLUGIN_DIR/libgstmmdnn.so" 2>/dev/null | awk '/libasan/ { print $3 }')
[ -z "$asan" ] || PRELOAD=$asan

rm -f "$TMP_OUT"
if ! env LD_PRELOAD="$PRELOAD" \
    ASAN_OPTIONS="detect_leaks=0:verify_asan_link_order=0" \
    GST_REGISTRY="$TMP_OUT" GST_REGISTRY_FORK=no GST_REGISTRY_UPDATE=yes \
    GST_PLUGIN_PATH_1_0="$PLUGIN_DIR" \
    gst-inspect-1.0 mmdnn > /dev/null; then
  echo "scan-registry.sh: the mmdnn plugin in $PLUGIN_DIR does not load:" >&2
  env LD_PRELOAD="$PRELOAD" ASAN_OPTIONS="detect_leaks=0:verify_asan_link_order=0" \
    GST_REGISTRY="$TMP_OUT" GST_REGISTRY_FORK=no GST_PLUGIN_PATH_1_0="$PLUGIN_DIR" \
    gst-inspect-1.0 "$PLUGIN_DIR/libgstmmdnn.so" >&2 || true
  exit 1
fi
[ -s "$TMP_OUT" ] || { echo "scan-registry.sh: no registry written" >&2; exit 1; }
mv -f "$TMP_OUT" "$OUT"
