#!/bin/sh
# The `mmdnn` command-line tool, end to end: run the built binary on the
# committed test media (tests/core/media, see make-test-media.sh) and on bad
# input; check exit statuses AND what is printed or written. TAP output.
#
#   test-cli.sh MMDNN MEDIA_DIR MAKE_TINY_MODEL
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u

MMDNN=$1
MEDIA=$2
MAKE_TINY=$3
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mmdnn-test-cli-XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# The `mmdnn info`/`bench` tests read the JSON with Debian's python3 when the
# machine has it, else fall back to grep on json-glib's pretty output.
PY=
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import json' 2>/dev/null && PY=/usr/bin/python3

# The tiny model files (see make-tiny-model.c) and the parameter count the
# helper computed from the model's own parameter set.
TINY=$TMP/tiny
mkdir -p "$TINY"
"$MAKE_TINY" "$TINY" > "$TMP/tiny.txt" || echo "# make-tiny-model failed"
TINY_PARAMS=$(sed -n 's/^params //p' "$TMP/tiny.txt")
TINY_TENSORS=$(sed -n 's/^tensors //p' "$TMP/tiny.txt")

. "$(dirname "$0")/tap.sh"

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

# ---- info and bench: positive -------------------------------------------------

# the element count of every tensor of a safetensors file, from its header
# (8-byte little-endian length, then JSON): independent of mmdnn's reader;
# with $2 = "params" the optimiser slabs of a checkpoint are left out
safetensors_numel () {
  $PY - "$1" "${2:-all}" <<'PYEOF'
import json, struct, sys
with open(sys.argv[1], 'rb') as f:
    n, = struct.unpack('<Q', f.read(8))
    h = json.loads(f.read(n))
total = 0
for name, t in h.items():
    if name == '__metadata__' or (sys.argv[2] == 'params' and name.startswith('optim.')):
        continue
    k = 1
    for d in t['shape']:
        k *= d
    total += k
print(total)
PYEOF
}

help_info_bench () {
  run "$MMDNN" help
  expect_rc 0
  expect_out "  info "
  expect_out "  bench "
  run "$MMDNN" help info
  expect_rc 0
  expect_out "mmdnn info [OPTION"
  expect_out "--json"
  run "$MMDNN" bench --help
  expect_rc 0
  expect_out "mmdnn bench [OPTION"
  for o in "--config=FILE.json" "--batch=N" "--threads=T" "--seconds=S" "--json"; do
    expect_out "$o"
  done
}

info_text () {
  [ -n "$TINY_PARAMS" ] || fail "make-tiny-model printed no parameter count"
  run "$MMDNN" info "$TINY/tiny.safetensors"
  expect_rc 0
  grep -qx "File  *$TINY/tiny.safetensors" "$TMP/out" || fail "File line"
  grep -qx "Model id  *tiny-test" "$TMP/out" || fail "Model id line"
  grep -qx "Format  *mmdnn model, version 1" "$TMP/out" || fail "Format line"
  grep -qx "Modalities  *video, audio, text" "$TMP/out" || fail "Modalities line"
  grep -qx "Tasks  *2" "$TMP/out" || fail "Tasks line"
  grep -qx "  garment  *3 classes, weight 1" "$TMP/out" || fail "garment line"
  grep -qx '  *"T-shirt/top", "Bag, small", "Say \\"hi\\""' "$TMP/out" || fail "garment classes"
  grep -qx "  speaker_gender  *2 classes, weight 0.5" "$TMP/out" || fail "speaker_gender line"
  grep -qx '  *"female", "male"' "$TMP/out" || fail "speaker_gender classes"
  grep -q "^Parameters  *$TINY_PARAMS (.*) in $TINY_TENSORS tensors" "$TMP/out" \
    || fail "Parameters line: want $TINY_PARAMS in $TINY_TENSORS tensors"
  # the seven groups, in order, add up to the total
  sum=$(awk '/^  (video|audio|text|fusion|heads|aux|disc) +[0-9]+ +[0-9.]+%$/ { s += $2; k++ }
             END { print k ":" s }' "$TMP/out")
  [ "$sum" = "7:$TINY_PARAMS" ] || fail "groups (count:sum) $sum"
  grep -qx "  video  *16x16 grey, (v/255 - 0.5) / 0.25" "$TMP/out" || fail "video preprocessing"
  grep -q "^  audio  *16000 Hz, window 400, hop 160, FFT 512$" "$TMP/out" || fail "audio preprocessing"
  grep -q "^  *16 Slaney mels 0-8000 Hz" "$TMP/out" || fail "mel line"
  grep -qx "  text  *97 hash buckets, 4 tokens x 3 ids per cue" "$TMP/out" || fail "text preprocessing"
  grep -qx "  dim  *8" "$TMP/out" || fail "dim line"
  grep -A1 "^  video encoder" "$TMP/out" | tr -s ' ' > "$TMP/enc"
  printf ' video encoder 1x16x16 -> 2x2 = 4 tokens\n AE 2/4 latent 3, MS 3x2/4/5, SAL 3\n' > "$TMP/want"
  cmp -s "$TMP/enc" "$TMP/want" || fail "video encoder lines: $(cat "$TMP/enc")"
  grep -q "^  discriminator  *hidden 4," "$TMP/out" || fail "discriminator line"
}

info_json () {
  run "$MMDNN" info "$TINY/tiny.safetensors" --json
  expect_rc 0
  if [ -n "$PY" ]; then
    want=$(safetensors_numel "$TINY/tiny.safetensors")
    [ "$want" = "$TINY_PARAMS" ] || fail "header count $want != helper's $TINY_PARAMS"
    $PY - "$TMP/out" "$TINY_PARAMS" "$TINY_TENSORS" "$TINY/tiny.safetensors" <<'PYEOF' || fail "JSON content"
import json, sys
j = json.load(open(sys.argv[1]))        # one object, nothing after it
def want(cond, what):
    if not cond:
        print('#   ' + what); sys.exit(1)
p = j['parameters']
want(p['total'] == int(sys.argv[2]), 'total %r' % p['total'])
want(p['tensors'] == int(sys.argv[3]), 'tensors %r' % p['tensors'])
groups = ['video', 'audio', 'text', 'fusion', 'heads', 'aux', 'disc']
want(sorted(k for k in p if k not in ('total', 'tensors')) == sorted(groups), 'groups %r' % list(p))
want(sum(p[g] for g in groups) == p['total'] and all(p[g] > 0 for g in groups), 'group sum')
want(j['file'] == sys.argv[4], 'file')
want(j['model_id'] == 'tiny-test' and j['format_version'] == 1, 'id/version')
want(j['kind'] == 'model' and j['step'] is None, 'kind/step')
want(j['modalities'] == ['video', 'audio', 'text'], 'modalities')
want([t['name'] for t in j['tasks']] == ['garment', 'speaker_gender'], 'task names')
want(j['tasks'][0]['classes'] == ['T-shirt/top', 'Bag, small', 'Say "hi"'], 'classes 0')
want(j['tasks'][1]['classes'] == ['female', 'male'] and j['tasks'][1]['weight'] == 0.5, 'task 1')
want(j['tasks'][0]['n_classes'] == 3, 'n_classes')
want(j['preprocessing']['video']['height'] == 16 and j['preprocessing']['text']['buckets'] == 97, 'preprocessing')
want(j['preprocessing']['audio']['patch_frames'] == 16, 'patch_frames')
a = j['architecture']
want(a['dim'] == 8 and a['encoders']['video']['tokens'] == 4 and a['encoders']['audio']['tokens'] == 2, 'architecture')
want(a['encoders']['text']['tokens'] == 4 and a['heads'] == {'garment': 3, 'speaker_gender': 2}, 'heads')
want(a['disc_hidden'] == 4 and a['aux_heads'] is True, 'aux/disc')
c = j['config']
want(c['model_id'] == 'tiny-test' and c['fusion']['dim'] == 8, 'config')
want(c['tasks'][0]['classes'] == j['tasks'][0]['classes'], 'config classes')
want(c['encoders']['video']['ms_width3'] == 5, 'config encoders')
json.dump(c, open(sys.argv[1] + '.config.json', 'w'))
PYEOF
    [ $ok = 1 ] || return
    # the "config" object is a complete config: it builds the same model
    run "$MMDNN" bench --config "$TMP/out.config.json" --seconds 0.01 --batch 1 --json
    expect_rc 0
    $PY -c 'import json, sys; j = json.load(open(sys.argv[1]))
sys.exit(not (j["params"] == int(sys.argv[2]) and j["model_id"] == "tiny-test"))' \
      "$TMP/out" "$TINY_PARAMS" || fail "the config of info --json builds another model"
  else
    expect_out "\"total\": $TINY_PARAMS,"
    expect_out '"model_id": "tiny-test",'
    expect_out '"name": "garment",'
    expect_out '"Say \"hi\""'
    expect_out '"config": {'
  fi
}

# a checkpoint loads too: same parameters, the optimiser slabs not counted
info_checkpoint () {
  run "$MMDNN" info "$TINY/tiny-ckpt.safetensors"
  expect_rc 0
  grep -qx "Format  *mmdnn checkpoint, version 1, step 1" "$TMP/out" || fail "Format line"
  grep -q "^Parameters  *$TINY_PARAMS " "$TMP/out" || fail "Parameters line"
  run "$MMDNN" info "$TINY/tiny-ckpt.safetensors" --json
  expect_rc 0
  if [ -n "$PY" ]; then
    [ "$(safetensors_numel "$TINY/tiny-ckpt.safetensors" params)" = "$TINY_PARAMS" ] || fail "header count"
    [ "$(safetensors_numel "$TINY/tiny-ckpt.safetensors")" = "$((3 * TINY_PARAMS))" ] || fail "no AdamW slabs?"
    $PY -c 'import json, sys; j = json.load(open(sys.argv[1]))
sys.exit(not (j["kind"] == "checkpoint" and j["step"] == 1 and j["parameters"]["total"] == int(sys.argv[2])))' \
      "$TMP/out" "$TINY_PARAMS" || fail "JSON kind/step/total"
  else
    expect_out '"kind": "checkpoint",'
    expect_out '"step": 1,'
  fi
}

bench_json () {
  run "$MMDNN" bench --seconds 0.5 --batch 4 --threads 1 --config "$TINY/tiny.json" --json
  expect_rc 0
  if [ -n "$PY" ]; then
    $PY - "$TMP/out" "$TINY_PARAMS" <<'PYEOF' || fail "JSON content"
import json, sys
j = json.load(open(sys.argv[1]))
def want(cond, what):
    if not cond:
        print('#   ' + what); sys.exit(1)
for k in ('train_samples_per_s', 'infer_ms', 'train_step_ms', 'infer_best_ms'):
    want(isinstance(j[k], float) and j[k] > 0, '%s = %r' % (k, j[k]))
want(j['batch'] == 4 and j['threads'] == 1, 'batch/threads')
want(j['params'] == int(sys.argv[2]), 'params %r' % j['params'])
want(isinstance(j['blas_core'], str) and j['blas_core'] != '', 'blas_core')
want(j['model_id'] == 'tiny-test' and j['config'].endswith('tiny.json'), 'model_id/config')
want(j['train_steps'] >= 3 and j['infer_runs'] >= 10, 'runs')
# samples/s is the batch over the median step
want(abs(j['train_samples_per_s'] - 4000.0 / j['train_step_ms']) <= 1e-3 * j['train_samples_per_s'], 'samples/s vs step')
PYEOF
  else
    grep -Eq '"train_samples_per_s": [0-9.e+]+,' "$TMP/out" || fail "train_samples_per_s"
    grep -Eq '"infer_ms": [0-9.e+-]+,' "$TMP/out" || fail "infer_ms"
    expect_out "\"params\": $TINY_PARAMS,"
    expect_out '"batch": 4,'
  fi
}

bench_text () {
  run "$MMDNN" bench --seconds 0.1 --batch 3 --threads 1 --config "$TINY/tiny.json"
  expect_rc 0
  grep -qx "Model  *tiny-test ($TINY/tiny.json)" "$TMP/out" || fail "Model line"
  grep -qx "Parameters  *$TINY_PARAMS" "$TMP/out" || fail "Parameters line"
  grep -qx "BLAS  *OpenBLAS .*, 1 thread" "$TMP/out" || fail "BLAS line"
  grep -qx "Batch  *3 for training, 1 for inference" "$TMP/out" || fail "Batch line"
  grep -Eqx " +value +unit +runs +median ms +best ms +GEMM" "$TMP/out" || fail "table header"
  grep -Eqx "training +[0-9]+\.[0-9] +samples/s +[0-9]+ +[0-9]+\.[0-9]{3} +[0-9]+\.[0-9]{3} +[0-9]+%" "$TMP/out" \
    || fail "training row"
  grep -Eqx "inference +[0-9]+\.[0-9]{3} +ms +[0-9]+ +[0-9]+\.[0-9]{3} +[0-9]+\.[0-9]{3} +[0-9]+%" "$TMP/out" \
    || fail "inference row"
  # positive values; samples/s = batch / median step; best <= median; enough runs
  awk '$1 == "training" { t = 1; if ($2 <= 0 || $4 < 3 || $6 > $5) exit 1
                          d = $2 - 3000 / $5; if (d < -0.1 || d > 0.1) exit 1 }
       $1 == "inference" { i = 1; if ($2 <= 0 || $4 < 10 || $6 > $5 || $2 != $5) exit 1 }
       END { exit !(t && i) }' "$TMP/out" || fail "table values"
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

# ---- info and bench: negative -------------------------------------------------

info_missing_n () {
  run "$MMDNN" info "$TMP/nope.safetensors"
  expect_rc 1
  expect_err "mmdnn: $TMP/nope.safetensors: cannot open: No such file or directory"
  [ ! -s "$TMP/out" ] || fail "stdout not empty"
  run "$MMDNN" info "$TMP/nope.safetensors" --json
  expect_rc 1
  [ ! -s "$TMP/out" ] || fail "--json: stdout not empty"
}

info_truncated_n () {
  size=$(wc -c < "$TINY/tiny.safetensors")
  for keep in $((size / 2)) 100 4 0; do
    head -c $keep "$TINY/tiny.safetensors" > "$TMP/cut.safetensors"
    run "$MMDNN" info "$TMP/cut.safetensors"
    expect_rc 1
    expect_no_crash
    expect_err "mmdnn: $TMP/cut.safetensors: "
    [ ! -s "$TMP/out" ] || fail "cut to $keep bytes: stdout not empty"
  done
}

# overwrite @3 bytes at offset @2 of a copy of the tiny model with @4
patched () {
  cp "$TINY/tiny.safetensors" "$1"
  printf "$4" | dd of="$1" bs=1 seek="$2" count="$3" conv=notrunc 2>/dev/null
}

info_flipped_header_n () {
  # the header length (first 8 bytes), then the header's opening '{'
  patched "$TMP/len.safetensors" 0 8 '\377\377\377\377\377\377\377\177'
  run "$MMDNN" info "$TMP/len.safetensors"
  expect_rc 1
  expect_no_crash
  expect_err "mmdnn: $TMP/len.safetensors: "
  patched "$TMP/brace.safetensors" 8 1 'X'
  run "$MMDNN" info "$TMP/brace.safetensors" --json
  expect_rc 1
  expect_no_crash
  expect_err "mmdnn: $TMP/brace.safetensors: "
  [ ! -s "$TMP/out" ] || fail "stdout not empty"
}

info_nan_weight_n () {
  hlen=$(od -An -tu8 -N8 "$TINY/tiny.safetensors" | tr -d ' ')
  [ -n "$hlen" ] || fail "cannot read the header length"
  patched "$TMP/nan.safetensors" $((8 + hlen)) 4 '\000\000\300\177'   # the first float: NaN
  run "$MMDNN" info "$TMP/nan.safetensors"
  expect_rc 1
  expect_err "mmdnn: $TMP/nan.safetensors: tensor '"
  expect_err "element 0 is nan"
}

info_mismatch_n () {
  run "$MMDNN" info "$TINY/mismatch.safetensors"
  expect_rc 1
  expect_err "mmdnn: $TINY/mismatch.safetensors: tensor '"
  expect_err "has shape ("
  [ ! -s "$TMP/out" ] || fail "stdout not empty"
}

info_future_version_n () {
  run "$MMDNN" info "$TINY/future.safetensors"
  expect_rc 1
  expect_err "mmdnn: $TINY/future.safetensors: written by a newer mmdnn (file format 99"
}

info_not_a_model_n () {
  run "$MMDNN" info "$MEDIA/clip.mkv"
  expect_rc 1
  expect_no_crash
  expect_err "mmdnn: $MEDIA/clip.mkv: "
  run "$MMDNN" info "$TINY/tiny.json"
  expect_rc 1
  expect_err "mmdnn: $TINY/tiny.json: "
  run "$MMDNN" info "$TMP"
  expect_rc 1
  expect_err "mmdnn: $TMP: "
}

info_usage_n () {
  run "$MMDNN" info
  expect_rc 2
  expect_err "mmdnn: info: no MODEL given"
  run "$MMDNN" info "$TINY/tiny.safetensors" "$TINY/tiny-ckpt.safetensors"
  expect_rc 2
  expect_err "one MODEL only (got '$TINY/tiny-ckpt.safetensors' too)"
  [ ! -s "$TMP/out" ] || fail "stdout not empty"
  run "$MMDNN" info --verbose "$TINY/tiny.safetensors"
  expect_rc 2
  expect_err "mmdnn: info: Unknown option --verbose"
}

bench_bad_config_n () {
  printf '{"encoders": {"video": {"dim": "wide"}}}' > "$TMP/type.json"
  run "$MMDNN" bench --config "$TMP/type.json" --seconds 0.1
  expect_rc 1
  expect_err "mmdnn: $TMP/type.json: encoders.video.dim: expected an integer, got a string"
  [ ! -s "$TMP/out" ] || fail "stdout not empty"
  printf '{"optim": {"learning_rate": 0.1}}' > "$TMP/key.json"
  run "$MMDNN" bench --config "$TMP/key.json" --seconds 0.1 --json
  expect_rc 1
  expect_err "mmdnn: $TMP/key.json: optim.learning_rate: unknown key"
  [ ! -s "$TMP/out" ] || fail "--json: stdout not empty"
  printf '{"fusion": {"dim": 64}, "encoders": {"video": {"dim": 32}}}' > "$TMP/range.json"
  run "$MMDNN" bench --config "$TMP/range.json" --seconds 0.1
  expect_rc 1
  expect_err "mmdnn: $TMP/range.json: "
  expect_err "encoders.video.dim"
}

bench_config_not_json_n () {
  printf 'model: tiny\n' > "$TMP/yaml.json"
  run "$MMDNN" bench --config "$TMP/yaml.json" --seconds 0.1
  expect_rc 1
  expect_err "mmdnn: $TMP/yaml.json: "
  run "$MMDNN" bench --config "$TMP/none.json" --seconds 0.1
  expect_rc 1
  expect_err "mmdnn: $TMP/none.json: cannot open: No such file or directory"
  run "$MMDNN" bench --config "$TMP" --seconds 0.1
  expect_rc 1
  expect_err "mmdnn: $TMP: cannot read: Is a directory"
}

bench_bad_arguments_n () {
  run "$MMDNN" bench --batch 0
  expect_rc 2
  expect_err "mmdnn: bench: --batch 0 must be in [1, 4096]"
  run "$MMDNN" bench --threads -1
  expect_rc 2
  expect_err "--threads -1 must be in [0, 1024]"
  run "$MMDNN" bench --seconds 0
  expect_rc 2
  expect_err "--seconds 0 must be in (0, 3600]"
  run "$MMDNN" bench --seconds nan
  expect_rc 2
  expect_err "--seconds nan must be"
  run "$MMDNN" bench --batch many
  expect_rc 2
  expect_err "many"
  run "$MMDNN" bench "$TINY/tiny.json"
  expect_rc 2
  expect_err "unexpected argument '$TINY/tiny.json'"
  [ ! -s "$TMP/out" ] || fail "stdout not empty"
}

tests="version help_lists_commands dump_text dump_audio_csv dump_audio_window
  dump_audio_pgm dump_audio_summary dump_video_frames dump_video_every
  dump_subtitles dump_truncated_body
  no_arguments_n unknown_command_n unknown_kind_n unknown_option_n
  missing_file_n directory_n random_bytes_n truncated_header_n
  csv_and_pgm_n bad_window_n pgm_unwritable_n video_needs_out_n
  video_out_is_file_n missing_streams_n text_bad_utf8_n
  text_bad_config_n extra_arguments_n
  help_info_bench info_text info_json info_checkpoint bench_json bench_text
  info_missing_n info_truncated_n info_flipped_header_n info_nan_weight_n
  info_mismatch_n info_future_version_n info_not_a_model_n info_usage_n
  bench_bad_config_n bench_config_not_json_n bench_bad_arguments_n"
echo "1..$(echo $tests | wc -w)"
for t in $tests; do
  check "$t"
done
[ $failed = 0 ]
