#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The plugin's figures (issue 6): one line per figure.

  bench-pipeline.py rtf FILE [--window S] [--out ANNOTATED.mkv] [--rounds N]
                        [--no-rss]
  bench-pipeline.py latency [--seconds S]
  bench-pipeline.py rss CMD [ARG...]

rtf: the demo pipeline (pipelines/classify.py's, imported, not copied) on
FILE with sync=false, N rounds; prints the real-time factor (media seconds
per wall second, from PLAYING to EOS, best and median round), the start-up
(PLAYING to the first result) and the steady real-time factor without it
(between the first and the last result), and this process's peak RSS
(getrusage: Python + GStreamer + the plugin + model).

rss: runs CMD (its output discarded) and prints its peak RSS and wall time
(os.wait4: the child's own rusage).

latency: a live pipeline (is-live videotestsrc 10 fps → mmdnnvideoenc,
is-live audiotestsrc 16 kHz → mmdnnaudioenc, and cues through subparse →
mmdnntextenc, all into mmdnnfuse with windows of 1 s). Pad probes on
mmdnnfuse's sink pads note when each features buffer enters (monotonic
clock); a sync handler notes when each `mmdnn-result` message is posted (in
the streaming thread that posts it). A window [t, t + 1 s) is complete once
every live pad has delivered a buffer that reaches its end (end ≥ t + 1 s):
the latency added by mmdnnfuse is the time from the entry of the last of
those buffers to the message. Prints the median and the maximum over the
windows (the first window is left out: it includes the pipeline's start).
"""

import argparse
import importlib.util
import os
import resource
import statistics
import subprocess
import sys
import threading
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def load_classify():
    spec = importlib.util.spec_from_file_location(
        "classify", os.path.join(ROOT, "pipelines", "classify.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def media_seconds(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries",
                          "format=duration", "-of", "csv=p=0", path],
                         capture_output=True, text=True, check=True).stdout
    return float(out)


def bench_rtf(a):
    classify = load_classify()
    seconds = media_seconds(a.file)
    walls, cpus, starts, steady = [], [], [], []
    for _ in range(a.rounds):
        args = argparse.Namespace(file=a.file, out=a.out, model=None,
                                  window=a.window, truth=None, json=False)
        c = classify.Classifier(args)
        stamps = []

        def on_result(_s, c=c, stamps=stamps):
            stamps.append(time.monotonic())
            c.windows += 1
        c.print_result = on_result
        t = {}
        bus = c.pipeline.get_bus()
        bus.add_signal_watch()
        loop = GLib.MainLoop()
        c.loop = loop
        bus.connect("message", c.on_message)
        t0 = time.monotonic()
        c0 = time.process_time()
        if c.pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            sys.exit("bench-pipeline.py: the pipeline did not start")
        loop.run()
        t["wall"] = time.monotonic() - t0
        cpus.append(time.process_time() - c0)
        c.pipeline.set_state(Gst.State.NULL)
        bus.remove_signal_watch()
        if c.status != 0 or c.windows == 0:
            sys.exit("bench-pipeline.py: the pipeline failed")
        walls.append(t["wall"])
        starts.append(stamps[0] - t0)
        if len(stamps) > 1:
            steady.append((len(stamps) - 1) * a.window / (stamps[-1] - stamps[0]))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    if a.no_rss:
        rss = None
    what = "demo pipeline%s, %.0f s of media, windows of %g s, %d rounds" % (
        " + annotated MJPEG output" if a.out else "", seconds, a.window,
        a.rounds)
    print("real-time factor   %6.1fx  best, %.1fx median  (%s; wall %.3f s "
          "best; CPU %.3f s per media s, so %.0fx if it all ran in parallel "
          "on %d cores)"
          % (seconds / min(walls), seconds / statistics.median(walls), what,
             min(walls), min(cpus) / seconds,
             seconds / (min(cpus) / os.cpu_count()), os.cpu_count()))
    print("start-up           %6.0f ms  best, %.0f ms median  (PLAYING → first "
          "result: plugin and model load, preroll, the first window's work)"
          % (1000 * min(starts), 1000 * statistics.median(starts)))
    if steady:
        print("steady real-time   %6.1fx  best, %.1fx median  (first → last "
              "result: media seconds of the windows between / wall seconds)"
              % (max(steady), statistics.median(steady)))
    if rss is not None:
        print("peak RSS           %6.1f MB  (this Python process: interpreter, "
              "GStreamer, plugin, model)" % rss)


class Latency:
    def __init__(self, seconds):
        self.lock = threading.Lock()
        self.arrivals = {}           # pad name -> [(end_ns, monotonic_ns)]
        self.results = []            # (running_time, duration, monotonic_ns)
        n = int(seconds * 10)
        srt = os.path.join(os.environ.get("TMPDIR", "/tmp"),
                           "mmdnn-bench-%d.srt" % os.getpid())
        with open(srt, "w") as f:
            for i in range(int(seconds)):
                f.write("%d\n00:00:%02d,100 --> 00:00:%02d,900\nThis is a "
                        "sneaker.\n\n" % (i + 1, i, i))
        self.srt = srt
        self.pipeline = Gst.parse_launch(
            "videotestsrc is-live=true num-buffers=%d pattern=ball "
            "  ! video/x-raw,width=320,height=240,framerate=10/1 ! queue "
            "  ! mmdnnvideoenc ! f.sink_0 "
            "audiotestsrc is-live=true num-buffers=%d samplesperbuffer=1600 "
            "  wave=pink-noise ! audio/x-raw,format=S16LE,rate=16000,channels=1 "
            "  ! queue ! mmdnnaudioenc ! f.sink_1 "
            "filesrc location=%s ! subparse ! queue ! mmdnntextenc ! f.sink_2 "
            "mmdnnfuse name=f ! fakesink" % (n, n, srt))
        fuse = self.pipeline.get_by_name("f")
        self.live_pads = ("sink_0", "sink_1")
        for name in ("sink_0", "sink_1", "sink_2"):
            pad = fuse.get_static_pad(name)
            self.arrivals[name] = []
            pad.add_probe(Gst.PadProbeType.BUFFER, self.on_buffer, name)
        bus = self.pipeline.get_bus()
        bus.set_sync_handler(self.on_sync, None)

    def on_buffer(self, pad, info, name):
        now = time.monotonic_ns()
        buf = info.get_buffer()
        seg = pad.get_sticky_event(Gst.EventType.SEGMENT, 0).parse_segment()
        end = seg.to_running_time(Gst.Format.TIME, buf.pts + buf.duration)
        with self.lock:
            self.arrivals[name].append((end, now))
        return Gst.PadProbeReturn.OK

    def on_sync(self, bus, msg, _data):
        if msg.type == Gst.MessageType.ELEMENT:
            s = msg.get_structure()
            if s is not None and s.get_name() == "mmdnn-result":
                now = time.monotonic_ns()
                with self.lock:
                    self.results.append((s.get_value("running-time"),
                                         s.get_value("duration"), now))
        return Gst.BusSyncReply.PASS

    def run(self):
        self.pipeline.set_state(Gst.State.PLAYING)
        msg = self.pipeline.get_bus().timed_pop_filtered(
            120 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
        self.pipeline.set_state(Gst.State.NULL)
        os.unlink(self.srt)
        if msg is None or msg.type == Gst.MessageType.ERROR:
            sys.exit("bench-pipeline.py: the live pipeline failed: %s"
                     % (msg.parse_error()[0].message if msg else "timeout"))
        lat = []
        for rt, dur, posted in self.results:
            ready = []
            for name in self.live_pads:
                got = [t for end, t in self.arrivals[name] if end >= rt + dur]
                if got:
                    ready.append(min(got))
            if len(ready) == len(self.live_pads) and rt > 0:
                lat.append((posted - max(ready)) / 1e6)
        if not lat:
            sys.exit("bench-pipeline.py: no complete window")
        print("live latency       %6.2f ms median, %.2f ms max  (entry of the "
              "buffer completing a 1-s window into mmdnnfuse → its mmdnn-result; "
              "%d windows)" % (statistics.median(lat), max(lat), len(lat)))


def bench_rss(cmd):
    t0 = time.monotonic()
    with open(os.devnull, "wb") as null:
        proc = subprocess.Popen(cmd, stdout=null, stderr=null)
        _, status, ru = os.wait4(proc.pid, 0)
    wall = time.monotonic() - t0
    if status != 0:
        sys.exit("bench-pipeline.py: %s failed (status %d)" % (cmd[0], status))
    print("peak RSS           %6.1f MB  (gst-launch-1.0 running %s: C only; "
          "%.2f s wall)" % (ru.ru_maxrss / 1024.0,
                           os.path.relpath(cmd[0], ROOT), wall))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="what", required=True)
    r = sub.add_parser("rtf")
    r.add_argument("file")
    r.add_argument("--window", type=float, default=1.0)
    r.add_argument("--out")
    r.add_argument("--rounds", type=int, default=3)
    r.add_argument("--no-rss", action="store_true",
                   help="print the real-time factor only")
    rs = sub.add_parser("rss")
    rs.add_argument("cmd", nargs=argparse.REMAINDER)
    lt = sub.add_parser("latency")
    lt.add_argument("--seconds", type=float, default=10.0)
    a = p.parse_args()
    Gst.init(None)
    if a.what == "rss":
        bench_rss(a.cmd)
    elif a.what == "rtf":
        bench_rtf(a)
    else:
        Latency(a.seconds).run()


if __name__ == "__main__":
    main()
