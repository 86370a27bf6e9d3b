"""The media engine end to end on virtual real devices: a PulseAudio sine source as Alice's
microphone, our Room to our server to Bob's Room, Bob's speaker mixer playing into a PulseAudio
null sink — and the tone that reaches Bob's speakers is the tone Alice's microphone made."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pytest

from tests.conftest import TONE_TOLERANCE, ServerThread
from tests.support.pulse import pulse_devices
from visio_desktop.media.audio_io import MicrophoneTrack, SpeakerMixer
from visio_desktop.media.audio_processing import AudioProcessor
from visio_desktop.media.synthetic import analyse_tone
from visio_desktop.net.room import Room

pytestmark = pytest.mark.timeout(90)
TONE_HZ = 523.0


class PlayedAudio(AudioProcessor):
    """Keeps what the speakers were given to play (the echo canceller's far end)."""

    def __init__(self) -> None:
        super().__init__(engine="passthrough")
        self.played: list[npt.NDArray[np.int16]] = []

    def process_render(self, block: npt.NDArray[np.int16]) -> None:
        self.played.append(block.copy())
        super().process_render(block)


@pytest.fixture
def virtual_devices() -> Iterator[None]:
    """A sine source as the default input (Alice's microphone), a null sink as the default
    output (Bob's speakers)."""
    with pulse_devices([("module-sine-source", "source_name=vd_mic", f"frequency={int(TONE_HZ)}",
                         "rate=48000"),
                        ("module-null-sink", "sink_name=vd_speakers")],
                       default_sink="vd_speakers", default_source="vd_mic"):
        yield


async def test_microphone_to_remote_speakers(room_server: ServerThread,
                                             virtual_devices: None) -> None:
    from visio_desktop.media.devices import SoundDeviceBackend

    backend = SoundDeviceBackend(helper_scan=False)
    # PortAudio froze its device list when sounddevice was first imported, maybe before this
    # PulseAudio server started (a clean machine): re-initialise it (no stream is open)
    backend.refresh()
    alice, bob = Room(), Room()
    played = PlayedAudio()
    mixer = SpeakerMixer(backend, processor=played)
    mic = MicrophoneTrack(backend, processor=AudioProcessor(engine="passthrough"))
    subscribed = asyncio.Event()

    def on_track(track, pub, participant) -> None:  # type: ignore[no-untyped-def]
        if track.kind == "audio":
            mixer.add_track(participant.identity, track)
            subscribed.set()

    bob.on("track_subscribed", on_track)
    try:
        await alice.connect(room_server.url, room_server.token("e2e", "alice"))
        await bob.connect(room_server.url, room_server.token("e2e", "bob"))
        await mixer.start()
        assert mixer.error is None, mixer.error
        await alice.publish_track(mic, "microphone")
        assert mic.error is None, mic.error
        await asyncio.wait_for(subscribed.wait(), 15)
        start = time.monotonic()
        while len(played.played) < 300 and time.monotonic() - start < 20:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        audio = np.concatenate(played.played[-200:])  # the last 2 s played
        reading = analyse_tone(audio, 48000)
        assert abs(reading.frequency_hz - TONE_HZ) < TONE_TOLERANCE * TONE_HZ, reading
        assert reading.rms_dbfs > -40, reading  # a tone was played, not silence
    finally:
        mic.stop()
        await mixer.stop()
        await alice.disconnect()
        await bob.disconnect()
        backend.close()
