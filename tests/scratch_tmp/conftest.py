"""Scratch only: work around the empty codec name given to ForwardingPacker (server bug) so the
SDK client's video path can be exercised. Not for commit."""

from visio_desktop.server import forward

_orig_pack = forward.ForwardingPacker.pack


def _pack(self, frame):  # type: ignore[no-untyped-def]
    if not self.codec_name:
        self.codec_name = "VP8"
    return _orig_pack(self, frame)


forward.ForwardingPacker.pack = _pack  # type: ignore[method-assign]
