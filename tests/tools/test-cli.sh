#!/bin/sh
# The `mmdnn` command-line tool, end to end: run the built binary on the
# committed test media (tests/core/media, see make-test-media.sh) and on bad
# input; check exit statuses AND what is printed or written. TAP output.
#
#   test-cli.sh MMDNN MEDIA_DIR
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u

MMDNN=$1
MEDIA=$2
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mmdnn-test-cli-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
n=0
failed=0

# run CMD...: runs it with stdout in $TMP/out, stderr in $TMP/err, status in $rc
run () {
  "$@" >"$TMP/out" 2>"$TMP/err"
  rc=$?
}

# check NAME: runs the shell function NAME; any `fail` in it fails the case
check () {
  n=$((n + 1))
  ok=1
  "$1"
  if [ $ok = 1 ]; then
    echo "ok $n - $1"
  else
    echo "not ok $n - $1"
    failed=$((failed + 1))
    sed 's/^/#   stdout: /' "$TMP/out" | head -n 20
    sed 's/^/#   stderr: /' "$TMP/err" | head -n 20
  fi
}

fail () {
  echo "#   $1"
  ok=0
}

expect_rc () {
  [ "$rc" = "$1" ] || fail "exit status $rc, expected $1"
}

# expect_err TEXT: stderr contains TEXT (fixed string)
expect_err () {
  grep -qF -- "$1" "$TMP/err" || fail "stderr lacks '$1'"
}

expect_out () {
  grep -qF -- "$1" "$TMP/out" || fail "stdout lacks '$1'"
}

expect_no_crash () {
  [ "$rc" -lt 128 ] || fail "killed by signal $((rc - 128))"
}

TAB=$(printf '\t')

# ---- positive ---------------------------------------------------------------

version () {
  run "$MMDNN" --version
  expect_rc 0
  grep -qE '^mmdnn [0-9]+\.[0-9]+\.[0-9]+$' "$TMP/out" || fail "bad version line"
}

help_lists_commands () {
  run "$MMDNN" help
  expect_rc 0
  expect_out "dump "
  run "$MMDNN" help dump
  expect_rc 0
  for k in text audio video subtitles; do expect_out "  $k "; done
  run "$MMDNN" dump audio --help
  expect_rc 0
  expect_out "mmdnn dump audio [OPTION"
  expect_out "--csv"
  expect_out "--pgm=OUT.pgm"
  run "$MMDNN" help dump video
  expect_rc 0
  expect_out "--out=DIR"
}

# the ids of test-text.c's "ascii/ascii" case
dump_text () {
  run "$MMDNN" dump text "Hello, world!"
  expect_rc 0
  printf 'hello\t31924 64431 40989 48579 52345 1985\nworld\t11296 14806 34480 3199 20986 53390\n' > "$TMP/want"
  cmp -s "$TMP/out" "$TMP/want" || fail "dump text output differs"
  # two cues, an empty line between; --ids 2 keeps the word id + one 3-gram
  run "$MMDNN" dump text --ids 2 cat "Don’t"
  expect_rc 0
  printf "cat\t59976 1664\n\ndon't\t27866 36225\n" > "$TMP/want"
  cmp -s "$TMP/out" "$TMP/want" || fail "dump text --ids 2 output differs"
  # "--" ends the options: a cue may start with '-'
  run "$MMDNN" dump text --ids 1 -- "-x y"
  expect_rc 0
  printf 'x\t8852\ny\t9255\n' > "$TMP/want"
  cmp -s "$TMP/out" "$TMP/want" || fail "dump text -- output differs"
}

# index of the Slaney mel band (default front end: 64 mels over 0-8000 Hz)
# whose centre is nearest to $1 Hz
nearest_mel () {
  awk -v f="$1" 'function mel(x) { return x < 1000 ? 3 * x / 200 : 15 + 27 * log(x / 1000) / log(6.4) }
    BEGIN { top = mel(8000); m = mel(f); best = 0; bd = 1e9
      for (i = 0; i < 64; i++) { c = top * (i + 1) / 65; d = (c - m) < 0 ? m - c : c - m; if (d < bd) { bd = d; best = i } }
      print best }'
}

# 2.0 s of a 1000 Hz tone: (32000 − 400)/160 + 1 = 198 frames (± 1), 65
# columns, 10 ms apart, the loudest band on average the one at 1000 Hz
dump_audio_csv () {
  run "$MMDNN" dump audio "$MEDIA/clip.mkv" --csv
  expect_rc 0
  head -n 1 "$TMP/out" | grep -q '^time_s,mel0,mel1,.*,mel63$' || fail "bad CSV header"
  awk -F, -v want="$(nearest_mel 1000)" '
    NR == 1 { next }
    NF != 65 { print "#   line " NR " has " NF " fields"; bad = 1 }
    { frames++; if (NR == 2) t0 = $1; if (NR == 3) t1 = $1
      for (i = 2; i <= NF; i++) s[i] += $i }
    END {
      if (frames < 197 || frames > 199) { print "#   " frames " frames"; bad = 1 }
      if (t0 != "0.000000" || t1 != "0.010000") { print "#   times " t0 ", " t1; bad = 1 }
      best = 2; for (i = 2; i <= 65; i++) if (s[i] > s[best]) best = i
      d = best - 2 - want; if (d < -1 || d > 1) { print "#   peak mel " best - 2 ", expected " want; bad = 1 }
      exit bad }' "$TMP/out" || fail "CSV content"
}

# [0.1, 0.3) of tone.wav: 3200 samples at 16 kHz → 18 frames from 0.100 s
dump_audio_window () {
  run "$MMDNN" dump audio "$MEDIA/tone.wav" --csv --start 0.1 --end 0.3
  expect_rc 0
  [ "$(($(wc -l < "$TMP/out") - 1))" = 18 ] || fail "expected 18 frames"
  [ "$(sed -n 2p "$TMP/out" | cut -d, -f1)" = "0.100000" ] || fail "first time"
  [ "$(sed -n 19p "$TMP/out" | cut -d, -f1)" = "0.270000" ] || fail "last time"
}

# tone.wav: 0.5 s at 16 kHz = 8000 samples → 48 frames → a 48×64 P5 image
dump_audio_pgm () {
  run "$MMDNN" dump audio "$MEDIA/tone.wav" --pgm "$TMP/t.pgm"
  expect_rc 0
  expect_out "48 frames x 64 mels"
  [ "$(head -c 2 "$TMP/t.pgm")" = "P5" ] || fail "not P5"
  [ "$(sed -n 3p "$TMP/t.pgm")" = "48 64" ] || fail "size line"
  [ "$(sed -n 4p "$TMP/t.pgm")" = "255" ] || fail "maxval line"
  hdr=$(head -n 4 "$TMP/t.pgm" | wc -c)
  [ "$(wc -c < "$TMP/t.pgm")" = $((hdr + 48 * 64)) ] || fail "file size"
  # 440 Hz is a low band: its row (from the bottom) is the brightest one;
  # the top row (7-8 kHz) of a pure tone is dark
  top=$(tail -c $((48 * 64)) "$TMP/t.pgm" | head -c 48 | od -An -tu1 -v | awk '{for(i=1;i<=NF;i++) s+=$i} END {print s/48}')
  awk -v t="$top" 'BEGIN { exit !(t < 64) }' || fail "top row too bright: $top"
}

dump_audio_summary () {
  run "$MMDNN" dump audio "$MEDIA/tone.wav"
  expect_rc 0
  expect_out "$MEDIA/tone.wav: 48 log-mel frames (64 mels"
  # the nearest band centre (±1: the Hann main lobe spans 4 FFT bins)
  got=$(sed -n 's/^  loudest  mel \([0-9]*\) .*/\1/p' "$TMP/out")
  want=$(nearest_mel 440)
  [ -n "$got" ] && [ $((got - want)) -ge -1 ] && [ $((got - want)) -le 1 ] \
    || fail "loudest mel '$got', expected $want ± 1"
}

ppm_ok () {
  [ "$(head -n 3 "$1" | tr '\n' ' ')" = "P6 64 64 255 " ] || fail "$1: header"
  [ "$(wc -c < "$1")" = $((13 + 64 * 64 * 3)) ] || fail "$1: size"
}

dump_video_frames () {
  run "$MMDNN" dump video "$MEDIA/clip.mkv" --frames 3 --out "$TMP/v"
  expect_rc 0
  [ "$(ls "$TMP/v" | tr '\n' ' ')" = "frame-00000000.ppm frame-00000100.ppm frame-00000200.ppm " ] \
    || fail "files: $(ls "$TMP/v" | tr '\n' ' ')"
  for f in "$TMP"/v/*.ppm; do ppm_ok "$f"; done
  expect_out "$TMP/v/frame-00000100.ppm${TAB}0.100"
  # first pixel of the first frame: the left bar, 75% grey (JPEG: ±40)
  px=$(tail -c $((64 * 64 * 3)) "$TMP/v/frame-00000000.ppm" | head -c 3 | od -An -tu1)
  echo "$px" | awk '{ for (i = 1; i <= 3; i++) if ($i < 151 || $i > 231) exit 1 }' || fail "pixel $px"
}

dump_video_every () {
  run "$MMDNN" dump video "$MEDIA/clip.mkv" --every 0.5 --out "$TMP/e/sub"
  expect_rc 0
  [ "$(ls "$TMP/e/sub" | tr '\n' ' ')" = "frame-00000000.ppm frame-00000500.ppm frame-00001000.ppm frame-00001500.ppm " ] \
    || fail "files: $(ls "$TMP/e/sub" | tr '\n' ' ')"
}

dump_subtitles () {
  run "$MMDNN" dump subtitles "$MEDIA/clip.mkv"
  expect_rc 0
  expect_out "0.200${TAB}0.900${TAB}Hello, world!"
  expect_out "  hello${TAB}31924 64431 40989 48579 52345 1985"
  expect_out "  don't${TAB}27866 36225 17753 23278 7373 63643"
  grep -q "^1.000${TAB}1.800${TAB}.*go!$" "$TMP/out" || fail "second cue"
  [ "$(grep -c "^[0-9]" "$TMP/out")" = 2 ] || fail "expected 2 cues"
}

# a file cut in half still dumps what is there
dump_truncated_body () {
  size=$(wc -c < "$MEDIA/clip.mkv")
  head -c $((size / 2)) "$MEDIA/clip.mkv" > "$TMP/half.mkv"
  run "$MMDNN" dump audio "$TMP/half.mkv" --csv
  expect_rc 0
  lines=$(wc -l < "$TMP/out")
  [ "$lines" -gt 1 ] && [ "$lines" -lt 190 ] || fail "$lines lines"
}

# ---- negative ---------------------------------------------------------------

no_arguments_n () {
  run "$MMDNN"
  expect_rc 2
  expect_err "Usage: mmdnn COMMAND"
  [ ! -s "$TMP/out" ] || fail "stdout not empty"
}

unknown_command_n () {
  run "$MMDNN" frobnicate
  expect_rc 2
  expect_err "mmdnn: unknown command 'frobnicate'"
  run "$MMDNN" help frobnicate
  expect_rc 2
  expect_err "unknown command 'frobnicate'"
  run "$MMDNN" --frobnicate
  expect_rc 2
  expect_err "unknown option '--frobnicate'"
}

unknown_kind_n () {
  run "$MMDNN" dump pictures x
  expect_rc 2
  expect_err "unknown KIND 'pictures'"
  run "$MMDNN" dump
  expect_rc 2
  expect_err "which KIND"
}

unknown_option_n () {
  run "$MMDNN" dump audio --loud "$MEDIA/tone.wav"
  expect_rc 2
  expect_err "mmdnn: dump audio: Unknown option --loud"
}

missing_file_n () {
  run "$MMDNN" dump audio "$TMP/nope.mkv" --csv
  expect_rc 1
  expect_err "mmdnn: $TMP/nope.mkv: cannot open: No such file or directory"
  [ ! -s "$TMP/out" ] || [ "$(wc -l < "$TMP/out")" -le 1 ] || fail "frames printed"
}

directory_n () {
  run "$MMDNN" dump video "$TMP" --out "$TMP/o"
  expect_rc 1
  expect_err "mmdnn: $TMP: cannot open: is a directory"
}

random_bytes_n () {
  # fixed pseudo-random bytes (1..255), the same every run
  LC_ALL=C awk 'BEGIN { srand(1234); for (i = 0; i < 20000; i++) printf "%c", 1 + int(rand() * 255) }' \
    > "$TMP/noise.mkv"
  [ "$(wc -c < "$TMP/noise.mkv")" -ge 20000 ] || fail "noise file too short"
  for kind in audio subtitles; do
    run "$MMDNN" dump $kind "$TMP/noise.mkv"
    expect_rc 1
    expect_no_crash
    expect_err "mmdnn: $TMP/noise.mkv: not a media file"
  done
}

truncated_header_n () {
  head -c 64 "$MEDIA/clip.mkv" > "$TMP/cut.mkv"
  run "$MMDNN" dump subtitles "$TMP/cut.mkv"
  expect_rc 1
  expect_err "mmdnn: $TMP/cut.mkv: not a media file"
}

csv_and_pgm_n () {
  run "$MMDNN" dump audio "$MEDIA/tone.wav" --csv --pgm "$TMP/x.pgm"
  expect_rc 2
  expect_err "--csv and --pgm are exclusive"
  [ ! -e "$TMP/x.pgm" ] || fail "wrote the PGM"
}

bad_window_n () {
  run "$MMDNN" dump audio "$MEDIA/tone.wav" --start 0.5 --end 0.1
  expect_rc 2
  expect_err "--end 0.1 must be after --start 0.5"
  run "$MMDNN" dump audio "$MEDIA/tone.wav" --start -1
  expect_rc 2
  expect_err "--start -1 must be >= 0"
  run "$MMDNN" dump audio "$MEDIA/tone.wav" --start abc
  expect_rc 2
  expect_err "abc"
}

pgm_unwritable_n () {
  run "$MMDNN" dump audio "$MEDIA/tone.wav" --pgm "$TMP/no/such/dir/t.pgm"
  expect_rc 1
  expect_err "$TMP/no/such/dir/t.pgm"
}

video_needs_out_n () {
  run "$MMDNN" dump video "$MEDIA/clip.mkv"
  expect_rc 2
  expect_err "--out DIR is required"
  run "$MMDNN" dump video "$MEDIA/clip.mkv" --out "$TMP/o" --frames -2
  expect_rc 2
  expect_err "--frames -2 must be >= 0"
}

video_out_is_file_n () {
  : > "$TMP/afile"
  run "$MMDNN" dump video "$MEDIA/clip.mkv" --out "$TMP/afile"
  expect_rc 1
  expect_err "$TMP/afile"
}

missing_streams_n () {
  run "$MMDNN" dump video "$MEDIA/tone.wav" --out "$TMP/o"
  expect_rc 1
  expect_err "mmdnn: $MEDIA/tone.wav: no video stream"
  [ ! -e "$TMP/o" ] || fail "made the output directory"
  run "$MMDNN" dump subtitles "$MEDIA/tone.wav"
  expect_rc 1
  expect_err "mmdnn: $MEDIA/tone.wav: no subtitle stream"
  run "$MMDNN" dump audio "$MEDIA/cues.srt"
  expect_rc 1
  expect_err "mmdnn: $MEDIA/cues.srt: no audio stream"
}

text_bad_utf8_n () {
  run "$MMDNN" dump text ok "$(printf 'caf\351')"
  expect_rc 1
  expect_err "mmdnn: cue 2: "
  expect_err "invalid UTF-8 at byte offset 3"
  expect_out "ok${TAB}"   # the good cue is still printed
}

text_bad_config_n () {
  run "$MMDNN" dump text --buckets 0 hello
  expect_rc 2
  expect_err "buckets"
  run "$MMDNN" dump text
  expect_rc 2
  expect_err "no CUE given"
}

extra_arguments_n () {
  run "$MMDNN" dump audio "$MEDIA/tone.wav" "$MEDIA/clip.mkv"
  expect_rc 2
  expect_err "one FILE only"
  run "$MMDNN" dump subtitles
  expect_rc 2
  expect_err "no FILE given"
}

tests="version help_lists_commands dump_text dump_audio_csv dump_audio_window
  dump_audio_pgm dump_audio_summary dump_video_frames dump_video_every
  dump_subtitles dump_truncated_body
  no_arguments_n unknown_command_n unknown_kind_n unknown_option_n
  missing_file_n directory_n random_bytes_n truncated_header_n
  csv_and_pgm_n bad_window_n pgm_unwritable_n video_needs_out_n
  video_out_is_file_n missing_streams_n text_bad_utf8_n
  text_bad_config_n extra_arguments_n"
echo "1..$(echo $tests | wc -w)"
for t in $tests; do
  check "$t"
done
[ $failed = 0 ]
