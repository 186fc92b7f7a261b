#!/usr/bin/python3
"""A small RTSP server on loopback for tests and demos: a live H.264 test pattern.

Runs under Debian's own Python (`/usr/bin/python3`), which has GStreamer's introspection bindings
(`python3-gi`, `gir1.2-gst-rtsp-server-1.0`); the project's virtualenv does not need them.

    /usr/bin/python3 scripts/rtsp_server.py --port 8554
    # -> prints "READY rtsp://127.0.0.1:8554/test" once clients can connect

The stream is `videotestsrc` (a moving ball on a test pattern) encoded with x264 at the given size
and rate, shared by all clients. SIGTERM or SIGINT stops the server; exit status 2 means the port
could not be bound.
"""

from __future__ import annotations

import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def _launch(width: int, height: int, fps: int) -> str:
    return (
        f"( videotestsrc is-live=true pattern=ball "
        f"! video/x-raw,width={width},height={height},framerate={fps}/1 "
        f"! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={fps} "
        f"! video/x-h264,profile=baseline ! rtph264pay name=pay0 pt=96 config-interval=1 )"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8554, help="TCP port for RTSP")
    parser.add_argument("--path", default="/test", help="mount point of the stream")
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=240)
    parser.add_argument("--fps", type=int, default=25)
    args = parser.parse_args()

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address(args.host)
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(_launch(args.width, args.height, args.fps))
    factory.set_shared(True)
    server.get_mount_points().add_factory(args.path, factory)
    if server.attach(None) == 0:
        print(f"cannot listen on {args.host}:{args.port}", file=sys.stderr, flush=True)
        return 2

    loop = GLib.MainLoop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, loop.quit)
    print(f"READY rtsp://{args.host}:{args.port}{args.path}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
