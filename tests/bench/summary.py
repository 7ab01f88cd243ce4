#!/usr/bin/python3
"""mmdnn — the one line `make bench` ends with, read from the benchmarks'
logs (tests/bench/run-all.sh writes them):

  bench: train_vs_torch=X infer_vs_torch=Y gemm_vs_sgemm=Z pipeline_rtf=W

  summary.py LOG_DIR

Every figure is "higher is better", the headline of its benchmark:
- train_vs_torch: our training samples/s over PyTorch's, 1 thread
  (model.log, bench-model.sh's table);
- infer_vs_torch: PyTorch's batch-1 latency over ours, 1 thread (same);
- gemm_vs_sgemm: the geometric mean over the layers of our forward +
  backward GFLOP/s over cblas_sgemm's on the same GEMMs, 1 thread
  (layers.log, bench-layers' summary);
- pipeline_rtf: media seconds per wall second of the demo pipeline from a
  file with sync=false, median of its rounds (pipeline.log,
  bench-pipeline.sh's first "real-time factor" line).

A log or a figure that is missing is an error (exit status 1, saying
which), never a made-up value.
SPDX-License-Identifier: LGPL-2.1-or-later
"""
import os
import re
import sys

NUM = r"([0-9]+(?:\.[0-9]+)?)"


def read(log_dir, name):
    path = os.path.join(log_dir, name)
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError as e:
        raise LookupError("%s: %s" % (path, e.strerror))


def model_ratios(text):
    # | 1 | ours train | torch train | 0.63× | ours ms | torch ms | 1.21× |
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 7 and cells[0] == "1":
            train = re.fullmatch(NUM + "×", cells[3])
            infer = re.fullmatch(NUM + "×", cells[6])
            if train and infer:
                return float(train.group(1)), float(infer.group(1))
    raise LookupError("model.log: no 1-thread row in bench-model.sh's table")


def gemm_ratio(text):
    m = re.search(r"^summary threads=1: .*geometric mean " + NUM, text, re.M)
    if not m:
        raise LookupError("layers.log: no 'summary threads=1' line")
    return float(m.group(1))


def pipeline_rtf(text):
    m = re.search(r"^real-time factor +" + NUM + r"x +best, " + NUM +
                  r"x median", text, re.M)
    if not m:
        raise LookupError("pipeline.log: no 'real-time factor' line")
    return float(m.group(2))


def main(argv):
    if len(argv) != 2:
        print("usage: summary.py LOG_DIR", file=sys.stderr)
        return 2
    try:
        train, infer = model_ratios(read(argv[1], "model.log"))
        gemm = gemm_ratio(read(argv[1], "layers.log"))
        rtf = pipeline_rtf(read(argv[1], "pipeline.log"))
    except LookupError as e:
        print("summary.py: %s" % e.args[0], file=sys.stderr)
        return 1
    print("bench: train_vs_torch=%.2f infer_vs_torch=%.2f gemm_vs_sgemm=%.2f "
          "pipeline_rtf=%.1f" % (train, infer, gemm, rtf))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
