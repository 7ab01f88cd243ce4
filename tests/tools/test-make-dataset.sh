#!/bin/sh
# tools/make-dataset (the AVT-Fashion generator), end to end: generate tiny
# data sets and look at them through the built `mmdnn dump`, which decodes
# with the same code the data set loader uses. TAP output.
#
#   test-make-dataset.sh MMDNN MAKE_DATASET
#
# Needs what tools/install-deps.sh installs (Debian's python3-numpy,
# dataset-fashion-mnist, flite, festival + voices, espeak-ng, ffmpeg); a
# missing one fails the test with the generator's message.
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u

MMDNN=$1
GEN=$2
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mmdnn-test-make-dataset-XXXXXX")
trap 'rm -rf "$TMP"' EXIT

. "$(dirname "$0")/tap.sh"

HEADER='file,start_s,end_s,class,speaker_gender,voice,spoken,subtitle,snr_db,occluded,image'
CLASSES='T-shirt/top|Trouser|Pullover|Dress|Coat|Sandal|Shirt|Sneaker|Bag|Ankle boot'
TRAIN_VOICES='awb|kal16|slt|pc_diphone|lp_diphone|czech_dita|en-us\+m3|en-us\+f3'
HELDOUT_VOICES='rms|en\+m1|en\+f2|en-us\+f4'

# fingerprint DIR: what mmdnn sees in every clip of DIR (audio log-mel CSV,
# subtitle cues, or the error when a clip has none), one file
fingerprint () {
  for f in "$1"/clip-*.mkv; do
    echo "== $(basename "$f")"
    "$MMDNN" dump audio "$f" --csv 2>&1
    "$MMDNN" dump subtitles "$f" 2>&1 | sed "s|$1/||"
  done
}

# ---- positive ---------------------------------------------------------------

# the same seed twice (with a different --jobs) → the same labels, the same
# decoded audio and subtitles, and byte-identical files
deterministic_for_a_seed () {
  run "$GEN" "$TMP/a" --clips 6 --split train --seed 11 --jobs 2
  expect_rc 0
  run "$GEN" "$TMP/b" --clips 6 --split train --seed 11 --jobs 1
  expect_rc 0
  cmp -s "$TMP/a/labels.csv" "$TMP/b/labels.csv" || fail "labels.csv differs"
  fingerprint "$TMP/a" > "$TMP/fa"
  fingerprint "$TMP/b" > "$TMP/fb"
  [ "$(grep -c '^== ' "$TMP/fa")" = 6 ] || fail "expected 6 clips"
  cmp -s "$TMP/fa" "$TMP/fb" || fail "decoded audio/subtitles differ"
  for f in "$TMP"/a/clip-*.mkv; do
    cmp -s "$f" "$TMP/b/$(basename "$f")" || fail "$(basename "$f") bytes differ"
  done
}

another_seed_differs () {
  run "$GEN" "$TMP/c" --clips 6 --split train --seed 12 --jobs 2
  expect_rc 0
  cmp -s "$TMP/a/labels.csv" "$TMP/c/labels.csv" && fail "labels.csv equal for seeds 11 and 12"
  # not even the first clip's audio may repeat
  "$MMDNN" dump audio "$TMP/a/clip-000000.mkv" --csv > "$TMP/a0"
  "$MMDNN" dump audio "$TMP/c/clip-000000.mkv" --csv > "$TMP/c0"
  cmp -s "$TMP/a0" "$TMP/c0" && fail "clip 0 audio equal for seeds 11 and 12"
}

# labels.csv: the documented header, one row per clip, known values
labels_format () {
  [ "$(head -n 1 "$TMP/a/labels.csv")" = "$HEADER" ] || fail "bad header"
  [ "$(wc -l < "$TMP/a/labels.csv")" = 7 ] || fail "expected 6 rows"
  tail -n +2 "$TMP/a/labels.csv" > "$TMP/rows"
  grep -vE "^clip-0000[0-9]{2}\.mkv,0\.000,2\.000,($CLASSES),(male|female),($TRAIN_VOICES),[a-zA-Z -]+,(cue|unrelated|none),-?[0-9]+\.[0-9]{2},[01],train:[0-9]+\$" \
    "$TMP/rows" | sed 's/^/#   bad row: /' > "$TMP/bad"
  [ -s "$TMP/bad" ] && { cat "$TMP/bad"; fail "rows not in the documented format"; }
  # six consecutive clips from one block of 10: six different classes
  [ "$(cut -d, -f4 "$TMP/rows" | sort -u | wc -l)" = 6 ] || fail "classes not balanced"
  # SNR within [-5, 20]; the gender is the voice's
  awk -F, '$9 < -5 || $9 > 20 { print "#   SNR " $9; bad = 1 }
    ($6 ~ /^(awb|kal16|pc_diphone|en-us\+m3)$/ && $5 != "male") ||
    ($6 ~ /^(slt|lp_diphone|czech_dita|en-us\+f3)$/ && $5 != "female") { print "#   gender " $0; bad = 1 }
    END { exit bad }' "$TMP/rows" || fail "bad SNR or gender"
}

# every clip: 2 s of 16 kHz audio, 20 video frames, and a subtitle stream
# exactly when labels.csv says "cue" or "unrelated"
streams_present () {
  tail -n +2 "$TMP/a/labels.csv" | while IFS=, read -r file s e cls g voice spoken sub rest; do
    f="$TMP/a/$file"
    [ -f "$f" ] || { echo "#   $file missing"; echo x >> "$TMP/streams-bad"; continue; }
    "$MMDNN" dump audio "$f" > "$TMP/au" 2>&1 || { echo "#   $file: no audio"; echo x >> "$TMP/streams-bad"; }
    grep -qE '^.*: 19[89] log-mel frames' "$TMP/au" || { echo "#   $file: audio not 2 s"; echo x >> "$TMP/streams-bad"; }
    rm -rf "$TMP/frames"
    nf=$("$MMDNN" dump video "$f" --out "$TMP/frames" 2>/dev/null | wc -l)
    [ "$nf" = 20 ] || { echo "#   $file: $nf video frames, expected 20"; echo x >> "$TMP/streams-bad"; }
    if "$MMDNN" dump subtitles "$f" > "$TMP/sub" 2>&1; then
      [ "$sub" != none ] || { echo "#   $file: subtitle stream though labels say none"; echo x >> "$TMP/streams-bad"; }
      # one cue inside the clip: "start<TAB>end<TAB>text"
      awk -F'\t' 'NR == 1 && !($1 >= 0 && $2 > $1 && $2 <= 2.0 && length($3) > 0) { exit 1 }' "$TMP/sub" \
        || { echo "#   $file: bad cue: $(head -n 1 "$TMP/sub")"; echo x >> "$TMP/streams-bad"; }
    else
      [ "$sub" = none ] || { echo "#   $file: no subtitle stream though labels say $sub"; echo x >> "$TMP/streams-bad"; }
      grep -q 'no subtitle stream' "$TMP/sub" || { echo "#   $file: $(cat "$TMP/sub")"; echo x >> "$TMP/streams-bad"; }
    fi
  done
  [ -s "$TMP/streams-bad" ] && fail "streams not as labelled"
  rm -f "$TMP/streams-bad"
}

# --voices heldout uses only the held-out voices; --split test the test images
heldout_and_test_split () {
  run "$GEN" "$TMP/h" --clips 4 --split test --seed 5 --voices heldout --jobs 2
  expect_rc 0
  tail -n +2 "$TMP/h/labels.csv" | cut -d, -f6 | grep -vqE "^($HELDOUT_VOICES)\$" && fail "a non-held-out voice"
  tail -n +2 "$TMP/h/labels.csv" | cut -d, -f11 | grep -vq '^test:' && fail "an image not from the test split"
  [ "$(ls "$TMP/h"/clip-*.mkv | wc -l)" = 4 ] || fail "expected 4 clips"
}

# --concat: the same clips back to back in one file. labels.csv rows name it
# with clip i at [2i, 2i+2) and otherwise equal the per-clip rows; 12 s of
# audio and 120 frames; one cue per clip labelled cue/unrelated, inside its
# clip's span; each span's audio equals that clip's own; byte-identical
# with another --jobs.
concat_one_file () {
  run "$GEN" "$TMP/k" --clips 6 --split train --seed 11 --jobs 2 --concat all.mkv
  expect_rc 0
  [ -f "$TMP/k/all.mkv" ] || fail "all.mkv missing"
  ls "$TMP/k" | grep -q '^clip-' && fail "per-clip files written with --concat"
  [ "$(head -n 1 "$TMP/k/labels.csv")" = "$HEADER" ] || fail "bad header"
  tail -n +2 "$TMP/k/labels.csv" | awk -F, '{ want = sprintf ("all.mkv,%.3f,%.3f", 2 * (NR - 1), 2 * NR)
      if ($1 "," $2 "," $3 != want) { print "#   row " NR ": " $1 "," $2 "," $3 ", expected " want; bad = 1 } }
    END { if (NR != 6) { print "#   " NR " rows"; bad = 1 }; exit bad }' || fail "rows' times"
  cut -d, -f4- "$TMP/k/labels.csv" > "$TMP/k-rest"
  cut -d, -f4- "$TMP/a/labels.csv" > "$TMP/a-rest"
  cmp -s "$TMP/k-rest" "$TMP/a-rest" || fail "labels differ from the per-clip run"
  "$MMDNN" dump audio "$TMP/k/all.mkv" > "$TMP/au" 2>&1
  grep -qE ': 119[89] log-mel frames' "$TMP/au" || fail "audio not 12 s: $(head -n 1 "$TMP/au")"
  rm -rf "$TMP/frames"
  nf=$("$MMDNN" dump video "$TMP/k/all.mkv" --out "$TMP/frames" 2>/dev/null | wc -l)
  [ "$nf" = 120 ] || fail "$nf video frames, expected 120"
  "$MMDNN" dump subtitles "$TMP/k/all.mkv" 2>&1 | grep -P '^[0-9.]+\t' > "$TMP/cues"
  want=$(tail -n +2 "$TMP/k/labels.csv" | cut -d, -f8 | grep -cv none)
  [ "$(wc -l < "$TMP/cues")" = "$want" ] || fail "$(wc -l < "$TMP/cues") cues, expected $want"
  # each cue inside the span of a clip whose row says cue/unrelated
  tail -n +2 "$TMP/k/labels.csv" | cut -d, -f2,3,8 > "$TMP/spans"
  awk -F'\t' 'NR == FNR { split ($0, f, ","); s[NR] = f[1]; e[NR] = f[2]; m[NR] = f[3]; n = NR; next }
    { ok = 0; for (i = 1; i <= n; i++) if ($1 >= s[i] && $2 <= e[i] && m[i] != "none") ok = 1
      if (!ok) { print "#   cue " $1 "-" $2 " in no subtitled clip"; bad = 1 } }
    END { exit bad }' "$TMP/spans" "$TMP/cues" || fail "cues outside their clip"
  for i in 0 3 5; do
    "$MMDNN" dump audio "$TMP/k/all.mkv" --start $((2 * i)) --end $((2 * i + 2)) --csv | cut -d, -f2- > "$TMP/ka"
    "$MMDNN" dump audio "$TMP/a/clip-00000$i.mkv" --csv | cut -d, -f2- > "$TMP/ca"
    cmp -s "$TMP/ka" "$TMP/ca" || fail "clip $i's audio differs in the concatenation"
  done
  run "$GEN" "$TMP/k2" --clips 6 --split train --seed 11 --jobs 1 --concat all.mkv
  expect_rc 0
  cmp -s "$TMP/k/all.mkv" "$TMP/k2/all.mkv" || fail "all.mkv bytes differ between runs"
  cmp -s "$TMP/k/labels.csv" "$TMP/k2/labels.csv" || fail "labels.csv differs between runs"
}

# --video-codec png: lossless PNG frames; everything else (labels, audio,
# subtitles, the frames' count) as with the default MJPEG
png_video () {
  run "$GEN" "$TMP/p" --clips 2 --split train --seed 11 --jobs 2 --video-codec png
  expect_rc 0
  codec=$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_name \
    -of default=noprint_wrappers=1:nokey=1 "$TMP/p/clip-000000.mkv")
  [ "$codec" = png ] || fail "video codec '$codec', not png"
  head -n 3 "$TMP/a/labels.csv" | cmp -s - "$TMP/p/labels.csv" || fail "labels differ from the MJPEG run"
  fingerprint "$TMP/p" > "$TMP/fp"
  fingerprint "$TMP/a" | awk '/^== clip-000002/ { exit } { print }' > "$TMP/fa2"
  cmp -s "$TMP/fp" "$TMP/fa2" || fail "audio or subtitles differ from the MJPEG run"
  rm -rf "$TMP/pframes"
  nf=$("$MMDNN" dump video "$TMP/p/clip-000000.mkv" --out "$TMP/pframes" 2>/dev/null | wc -l)
  [ "$nf" = 20 ] || fail "$nf video frames, expected 20"
}

# ---- negative ---------------------------------------------------------------

# bad_args WANT_IN_STDERR ARGS...: exit 2, a message, no labels.csv written
bad_args () {
  want=$1
  shift
  run "$GEN" "$@"
  expect_rc 2
  expect_err "$want"
  [ -e "$TMP/never/labels.csv" ] && fail "labels.csv written for bad arguments: $*"
}

no_out_dir_n () { bad_args "OUT_DIR is required" --clips 2 --split train --seed 1; }
no_split_n () { bad_args "--split is required" "$TMP/never" --clips 2 --seed 1; }
no_seed_n () { bad_args "--seed is required" "$TMP/never" --clips 2 --split train; }
no_clips_n () { bad_args "--clips is required" "$TMP/never" --split train --seed 1; }
zero_clips_n () { bad_args "--clips must be at least 1" "$TMP/never" --clips 0 --split train --seed 1; }
bad_split_n () { bad_args "invalid choice: 'val'" "$TMP/never" --clips 2 --split val --seed 1; }
bad_voices_n () { bad_args "invalid choice: 'all'" "$TMP/never" --clips 2 --split train --seed 1 --voices all; }
bad_number_n () { bad_args "invalid int value: 'two'" "$TMP/never" --clips two --split train --seed 1; }
negative_seed_n () { bad_args "--seed must be in" "$TMP/never" --clips 2 --split train --seed -1; }
zero_jobs_n () { bad_args "--jobs must be in" "$TMP/never" --clips 2 --split train --seed 1 --jobs 0; }
concat_path_n () { bad_args "--concat takes a file name inside OUT_DIR" "$TMP/never" --clips 2 --split train --seed 1 --concat sub/x.mkv; }
concat_labels_n () { bad_args "--concat takes a file name inside OUT_DIR" "$TMP/never" --clips 2 --split train --seed 1 --concat labels.csv; }
bad_video_codec_n () { bad_args "invalid choice: 'h264'" "$TMP/never" --clips 2 --split train --seed 1 --video-codec h264; }
unknown_option_n () { bad_args "unrecognized arguments: --frobnicate" "$TMP/never" --clips 2 --split train --seed 1 --frobnicate; }

# OUT_DIR an existing regular file: exit 1 naming it
out_dir_is_a_file_n () {
  : > "$TMP/plainfile"
  run "$GEN" "$TMP/plainfile" --clips 1 --split train --seed 1
  expect_rc 1
  expect_err "plainfile"
}

check deterministic_for_a_seed
check another_seed_differs
check labels_format
check streams_present
check heldout_and_test_split
check concat_one_file
check png_video
check no_out_dir_n
check no_split_n
check no_seed_n
check no_clips_n
check zero_clips_n
check bad_split_n
check bad_voices_n
check bad_number_n
check negative_seed_n
check zero_jobs_n
check concat_path_n
check concat_labels_n
check bad_video_codec_n
check unknown_option_n
check out_dir_is_a_file_n
echo "1..$n"
[ $failed = 0 ]
