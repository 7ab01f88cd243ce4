#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Classifies a media file with mmdnn inside a GStreamer pipeline, the way an
application embeds it: one line per window on stdout, read from the
`mmdnn-result` bus messages, and optionally the video written out with the
label drawn on it.

  pipelines/classify.py FILE [--out ANNOTATED.mkv] [--model M.safetensors]
                        [--window SECONDS] [--truth labels.csv] [--json]

What it shows: decodebin exposes whatever streams FILE has (video, audio,
subtitles); the first stream of each kind is linked to its encoder as it
appears, and each encoder to a new request pad of mmdnnfuse, so a file
without subtitles is classified from video and audio alone. Each window
gets what `mmdnn train` takes from a clip of the window's length: the frame
on screen at its centre (mmdnnvideoenc max-rate = 1 per window and phase =
half a window: that frame and no other is encoded), the 1-s audio window
centred in it (mmdnnaudioenc hop = the window, phase = where that audio
window starts), and the cues overlapping it. So with --window 2 on
clips of 2 s each window sees what `mmdnn eval` sees of its clip, but for
JPEG decoding (two decoders: about 1.5 % on the video features, see
tests/check/pipelines/consistency.c). The results are read from the bus: every
`mmdnn-result` element message carries the window's running time, the
first task's label and confidence, and the whole result as JSON (every
task, the per-modality fusion weights and presence).

Expect one line per window:

  0:00:02.000  Ankle boot    0.81  male    0.99  video 0.21  audio 0.30  text 0.49

time (window start), label, confidence, then every further task's label and
confidence (the default model's speaker gender), then each modality's fusion
weight ("-" when the modality was missing in that window). With --truth, each
line ends with "ok" or the true label, and a last line gives the accuracy of
each task over the windows. With --out, an MJPEG Matroska copy of the video
with the label drawn in the corner (textoverlay).

Runs as fast as the machine allows (sync=false): this is offline analysis.
Needs Debian's python3-gst-1.0 (/usr/bin/python3) and the plugin on
GST_PLUGIN_PATH_1_0 when it is not installed (make demo sets it).
Exit status: 0 done, 1 a pipeline error or no window classified at all
(message on stderr), 2 bad arguments.
"""

import argparse
import csv
import json
import os
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

PROG = "classify.py"


def fmt_time(ns):
    s = ns / Gst.SECOND
    return "%d:%02d:%06.3f" % (s // 3600, (s // 60) % 60, s % 60)


def read_truth(path, media):
    """labels.csv rows for @media (matched by file name): [(start, end, row)]."""
    rows = []
    with open(path, newline="", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            name = (row.get("file") or "").strip()
            if os.path.basename(name) != os.path.basename(media):
                continue
            rows.append((float(row["start_s"]), float(row["end_s"]), row))
    if not rows:
        raise ValueError("%s has no row for %s" % (path, os.path.basename(media)))
    return rows


class Classifier:
    def __init__(self, args):
        self.args = args
        self.truth = read_truth(args.truth, args.file) if args.truth else None
        self.scores = {}               # task -> [right, counted]
        self.windows = 0
        self.pipeline = Gst.Pipeline.new("classify")
        self.fuse = self.make("mmdnnfuse", "fuse")
        self.fuse.set_property("window", int(args.window * Gst.SECOND))
        self.fuse.set_property("hop", int(args.window * Gst.SECOND))
        self.set_model(self.fuse)
        src = self.make("filesrc")
        src.set_property("location", args.file)
        decode = self.make("decodebin")
        src.link(decode)
        decode.connect("pad-added", self.on_pad_added)
        decode.connect("no-more-pads", self.on_no_more_pads)
        # results as text: the overlay's text when annotating, else a sink
        self.result_text = self.make("capsfilter")
        self.result_text.set_property(
            "caps", Gst.Caps.from_string("text/x-raw,format=utf8"))
        self.fuse.link(self.result_text)
        self.overlay = None
        self.linked = set()
        self.status = 0
        if not args.out:
            self.result_sink()

    def set_model(self, element):
        if self.args.model:
            element.set_property("model", self.args.model)

    def result_sink(self):
        sink = self.make("fakesink")
        sink.set_property("sync", False)
        self.result_text.link(sink)
        sink.sync_state_with_parent()

    def make(self, factory, name=None):
        e = Gst.ElementFactory.make(factory, name)
        if e is None:
            print("%s: element %s is missing (is the mmdnn plugin on "
                  "GST_PLUGIN_PATH_1_0? gst-inspect-1.0 %s says why)"
                  % (PROG, factory, factory), file=sys.stderr)
            sys.exit(1)
        self.pipeline.add(e)
        return e

    def chain(self, pad, *factories):
        """Links pad → queue → factories..., returns the last element."""
        elements = [self.make("queue")] + [self.make(f) for f in factories]
        for a, b in zip(elements, elements[1:]):
            a.link(b)
        for e in elements:
            e.sync_state_with_parent()
        pad.link(elements[0].get_static_pad("sink"))
        return elements[-1]

    def on_pad_added(self, _decode, pad):
        caps = pad.get_current_caps() or pad.query_caps(None)
        name = caps.get_structure(0).get_name()
        kind = name.split("/")[0]
        if kind in self.linked:
            return                      # only the first stream of each kind
        if name == "video/x-raw":
            enc = self.video_branch(pad)
        elif name == "audio/x-raw":
            enc = self.chain(pad, "audioconvert", "audioresample",
                             "mmdnnaudioenc")
            hop, phase = self.audio_grid()
            enc.set_property("hop", hop)
            enc.set_property("phase", phase)
        elif name == "text/x-raw":
            enc = self.chain(pad, "mmdnntextenc")
        else:
            return                      # e.g. subpicture/x-dvd: not for us
        self.set_model(enc)
        self.linked.add(kind)
        if not enc.link(self.fuse):
            print("%s: cannot link %s to mmdnnfuse" % (PROG, enc.get_name()),
                  file=sys.stderr)
            self.status = 1
            GLib.idle_add(self.loop.quit)

    def audio_grid(self):
        """(hop, phase) of the audio windows: for a fuse window of W >= 1 s,
        the default model's 1-s audio window centred in it starts (W - 1)/2 s
        after the window does, so one audio window per fuse window from
        there (2-s windows: hop 2 s, phase 0.5 s) and none in between; for
        W < 1 the audio windows start with the fuse windows."""
        w = self.args.window
        if w >= 1.0:
            return int(w * Gst.SECOND), int((w - 1.0) / 2 * Gst.SECOND)
        return int(w * Gst.SECOND), 0

    def video_branch(self, pad):
        # videoconvert only when the decoder's format is not one the
        # encoder reads (a JPEG decoder's I420 goes through untouched)
        q = self.make("queue")
        conv = self.make("videoconvert")
        enc = self.make("mmdnnvideoenc")
        # mmdnnfuse takes the frame on screen at the window's centre: only
        # that one is encoded, the others are dropped unseen
        enc.set_property("max-rate", 1.0 / self.args.window)
        enc.set_property("phase", int(self.args.window / 2 * Gst.SECOND))
        for a, b in ((q, conv), (conv, enc)):
            a.link(b)
        branch = [enc, conv, q]
        if not self.args.out:
            for e in branch:
                e.sync_state_with_parent()
            pad.link(q.get_static_pad("sink"))
            return enc
        # the video is also written out with the window's label on it: the
        # overlay waits for the label of each frame's window (wait-text), so
        # its queue is unbounded while the encoder branch runs a window ahead
        tee = self.make("tee")
        q2 = self.make("queue")
        for p in ("max-size-time", "max-size-buffers", "max-size-bytes"):
            q2.set_property(p, 0)
        conv1 = self.make("videoconvert")
        self.overlay = self.make("textoverlay")
        self.overlay.set_property("valignment", "top")
        self.overlay.set_property("halignment", "left")
        self.overlay.set_property("font-desc", "Sans 14")
        conv2 = self.make("videoconvert")
        jpeg = self.make("jpegenc")
        mux = self.make("matroskamux")
        sink = self.make("filesink")
        sink.set_property("location", self.args.out)
        sink.set_property("sync", False)
        tee.link(q)
        tee.link(q2)
        q2.link(conv1)
        conv1.link_pads("src", self.overlay, "video_sink")
        self.result_text.link_pads("src", self.overlay, "text_sink")
        for a, b in ((self.overlay, conv2), (conv2, jpeg), (jpeg, mux),
                     (mux, sink)):
            a.link(b)
        for e in [sink, mux, jpeg, conv2, self.overlay, conv1, q2] + branch \
                + [tee]:
            e.sync_state_with_parent()
        pad.link(tee.get_static_pad("sink"))
        return enc

    def on_no_more_pads(self, _decode):
        # every stream is known now, and only streams that exist got a
        # fuse pad, so no pad waits for data that never comes
        if not self.linked:
            print("%s: %s has no video, audio or subtitle stream"
                  % (PROG, self.args.file), file=sys.stderr)
            self.status = 1
            GLib.idle_add(self.loop.quit)
            return
        if self.args.out and self.overlay is None:
            print("%s: %s has no video: nothing to annotate, %s not written"
                  % (PROG, self.args.file, self.args.out), file=sys.stderr)
            self.result_sink()

    def on_message(self, _bus, msg):
        t = msg.type
        if t == Gst.MessageType.ELEMENT:
            s = msg.get_structure()
            if s is not None and s.get_name() == "mmdnn-result":
                self.print_result(s)
        elif t == Gst.MessageType.ERROR:
            self.print_error(msg)
            self.status = 1
            self.loop.quit()
        elif t == Gst.MessageType.EOS:
            self.loop.quit()

    def print_error(self, msg):
        err, dbg = msg.parse_error()
        print("%s: %s: %s" % (PROG, msg.src.get_name(), err.message),
              file=sys.stderr)
        if dbg:
            print("  (%s)" % dbg.splitlines()[-1], file=sys.stderr)

    def window_truth(self, start, duration):
        mid = (start + duration / 2) / Gst.SECOND
        for s, e, row in self.truth:
            if s <= mid < e:
                return row
        return None

    def print_result(self, s):
        result = json.loads(s.get_value("json"))
        self.windows += 1
        if self.args.json:
            print(json.dumps(result), flush=True)
            return
        start, dur = s.get_value("running-time"), s.get_value("duration")
        tasks = list(result["tasks"].items())
        first = "%-12s  %.2f" % (tasks[0][1]["label"], tasks[0][1]["confidence"])
        more = "".join("  %-6s  %.2f" % (t["label"], t["confidence"])
                       for _, t in tasks[1:])
        weights = "  ".join(
            "%s %.2f" % (m, v["weight"]) if v["present"] else "%s  -  " % m
            for m, v in result["modalities"].items())
        verdict = ""
        row = self.window_truth(start, dur) if self.truth else None
        if row is not None:
            for i, (name, t) in enumerate(tasks):
                want = (row.get(name) or "").strip()
                if not want:
                    continue
                score = self.scores.setdefault(name, [0, 0])
                score[0] += t["label"] == want
                score[1] += 1
                if i == 0:
                    verdict = "  ok" if t["label"] == want else "  (truth: %s)" % want
        print("%s  %s%s  %s%s" % (fmt_time(start), first, more, weights,
                                  verdict), flush=True)

    def summary(self):
        if not self.truth:
            return
        parts = ["%s %d/%d = %.1f %%" % (task, r, n, 100.0 * r / n)
                 for task, (r, n) in self.scores.items() if n]
        print("accuracy over %d windows: %s (truth: %s)"
              % (self.windows, ", ".join(parts) or "no labelled window",
                 self.args.truth), flush=True)

    def run(self):
        self.loop = GLib.MainLoop()
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message", self.on_message)
        if self.pipeline.set_state(Gst.State.PLAYING) == \
                Gst.StateChangeReturn.FAILURE:
            msg = bus.pop_filtered(Gst.MessageType.ERROR)
            if msg is not None:
                self.print_error(msg)
            else:
                print("%s: the pipeline failed to start" % PROG, file=sys.stderr)
            self.status = 1
        else:
            self.loop.run()
        self.pipeline.set_state(Gst.State.NULL)
        bus.remove_signal_watch()
        if self.status == 0 and self.windows == 0:
            print("%s: no window classified: %s holds no media data (or "
                  "less than one window of it)" % (PROG, self.args.file),
                  file=sys.stderr)
            self.status = 1
        if self.status == 0:
            self.summary()
        return self.status


def main():
    p = argparse.ArgumentParser(prog=PROG,
                                description=__doc__.split("\n\n")[0])
    p.add_argument("file")
    p.add_argument("--out", help="write the annotated video here (Matroska)")
    p.add_argument("--model", help="model file (default: the default model)")
    p.add_argument("--window", type=float, default=1.0,
                   help="seconds per result (default 1)")
    p.add_argument("--truth", metavar="labels.csv",
                   help="compare each window's labels with this data set's")
    p.add_argument("--json", action="store_true",
                   help="print each result's whole JSON object instead")
    args = p.parse_args()
    if not args.window > 0:
        p.error("--window must be positive")
    if not os.path.isfile(args.file):
        print("%s: %s: no such file" % (PROG, args.file), file=sys.stderr)
        return 1
    Gst.init(None)
    try:
        classifier = Classifier(args)
    except (OSError, ValueError, KeyError) as e:
        print("%s: %s" % (PROG, e), file=sys.stderr)
        return 1
    return classifier.run()


if __name__ == "__main__":
    sys.exit(main())
