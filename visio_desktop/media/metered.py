"""A pass-through audio track that measures its level (for sources without a meter of their
own, such as the synthetic tone or a file)."""

from __future__ import annotations

import av
import numpy as np
from aiortc import MediaStreamTrack

from visio_desktop.media.audio_processing import LevelMeter


class MeteredAudioTrack(MediaStreamTrack):
    kind = "audio"

    def __init__(self, source: MediaStreamTrack) -> None:
        super().__init__()
        self.source = source
        self.meter = LevelMeter()
        self.muted = False

    async def recv(self) -> av.AudioFrame:
        frame = await self.source.recv()
        samples = frame.to_ndarray().reshape(-1)
        if samples.dtype == np.int16 and samples.size:
            channels = len(frame.layout.channels)
            self.meter.update(samples[::channels], 1000.0 * frame.samples / frame.sample_rate)
        if self.muted:
            silent = av.AudioFrame.from_ndarray(np.zeros_like(frame.to_ndarray()),
                                                format=frame.format.name,
                                                layout=frame.layout.name)
            silent.sample_rate, silent.pts, silent.time_base = (frame.sample_rate, frame.pts,
                                                                frame.time_base)
            return silent
        return frame

    def stop(self) -> None:
        super().stop()
        self.source.stop()
