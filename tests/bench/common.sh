# mmdnn — what the benchmark scripts share (sourced, not run).
# SPDX-License-Identifier: LGPL-2.1-or-later

# bench_dataset ROOT DIR CLIPS MAKE_DATASET_ARGS...: DIR holds CLIPS
# AVT-Fashion clips made by tools/make-dataset with those arguments, made
# once (again when the count differs); the generator's output is shown only
# when it fails.
bench_dataset () {
  local root=$1 dir=$2 clips=$3
  shift 3
  if [ -f "$dir/labels.csv" ] \
      && [ "$(($(wc -l < "$dir/labels.csv") - 1))" = "$clips" ]; then
    return 0
  fi
  rm -rf "$dir"
  "$root/tools/make-dataset" "$dir" --clips "$clips" "$@" > "$dir.log" 2>&1 \
    || { cat "$dir.log" >&2; exit 1; }
  rm -f "$dir.log"
}
