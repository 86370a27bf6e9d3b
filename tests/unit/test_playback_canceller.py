"""PlaybackCanceller on signals built here: what we played reaches the capture delayed, scaled
(and resampled), mixed with the sound the user shares; the canceller must remove the first and
leave the second."""

from __future__ import annotations

import av
import numpy as np
import numpy.typing as npt
import pytest

from visio_desktop.media.playback_canceller import PlaybackCanceller

RATE = 48000
FRAME = 960
Float = npt.NDArray[np.float64]


def voice(seconds: float, seed: int = 1) -> Float:
    """Speech-like: band-limited noise in syllables (4 Hz) with pauses."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    noise = rng.standard_normal(n + 64)
    band = np.convolve(noise, np.ones(8) / 8, mode="same")[:n]  # mostly below 6 kHz
    t = np.arange(n) / RATE
    syllables = np.clip(np.sin(2 * np.pi * 4 * t), 0, None)
    pauses = (np.sin(2 * np.pi * 0.3 * t) > -0.6).astype(float)
    signal = band * syllables * pauses
    return 6000.0 * signal / np.max(np.abs(signal))


def music(seconds: float) -> Float:
    t = np.arange(int(seconds * RATE)) / RATE
    return 2500.0 * np.sin(2 * np.pi * 1000 * t) + 1500.0 * np.sin(2 * np.pi * 1500 * t + 0.3)


def round_trip_44k1(signal: Float) -> Float:
    """Through an output at 44.1 kHz and back to 48 kHz (two resamplers), as PulseAudio does."""
    out = []
    for src, dst in ((RATE, 44100), (44100, RATE)):
        frame = av.AudioFrame.from_ndarray(
            np.clip(signal, -32768, 32767).astype(np.int16).reshape(1, -1), format="s16",
            layout="mono")
        frame.sample_rate = src
        resampler = av.AudioResampler(format="s16", layout="mono", rate=dst)
        out = [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
        out += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
        signal = np.concatenate(out).astype(np.float64)
    return signal


def run(played: Float, echo: Float, shared: Float, *, channels: int = 2,
        offset: int = 3333, latency: int = 9600) -> tuple[Float, Float, PlaybackCanceller]:
    """Feeds ``played`` as the reference and ``echo + shared`` as the capture (the capture's
    sample k is the reference's k + offset, played ``latency`` samples before it is read);
    returns (output, input) mono-averaged and the canceller."""
    canceller = PlaybackCanceller(channels)
    n = min(echo.shape[0], shared.shape[0]) // FRAME * FRAME
    capture = np.clip(np.round(echo[:n] + shared[:n]), -32768, 32767).astype(np.int16)
    fed = 0
    out = np.zeros(n, np.float64)
    for start in range(0, n, FRAME):
        want = start + FRAME + offset + latency
        if want > fed:
            for block in range(fed, want, 480):  # the device thread's 10 ms blocks
                canceller.feed_reference(played[block:block + 480])
            fed = fed + -(-(want - fed) // 480) * 480
        frame = np.repeat(capture[start:start + FRAME], channels)  # interleaved
        canceller.process(frame, start)
        out[start:start + FRAME] = frame.reshape(-1, channels).mean(axis=1)
    return out, capture.astype(np.float64), canceller


def db(a: Float, b: Float) -> float:
    return float(10 * np.log10(np.sum(a ** 2) / max(np.sum(b ** 2), 1e-9)))


@pytest.mark.parametrize("resampled", [False, True], ids=["48k-output", "44k1-output"])
@pytest.mark.parametrize(("level", "wanted_db"), [(0.2, 28.0), (1.0, 19.0), (3.0, 13.0)],
                         ids=["as-loud-video", "louder-music", "much-louder-music"])
def test_removes_what_we_played_and_keeps_the_shared_sound(resampled: bool, level: float,
                                                           wanted_db: float) -> None:
    """The shared sound is about as loud as the voices we play (``level`` 0.2), 15 dB louder
    (1) or 25 dB louder (3): the estimate gets noisier, and what is left is masked by it."""
    seconds, offset = 8.0, 3333
    played = voice(seconds + 2)
    path = round_trip_44k1(played) if resampled else played
    echo = 0.7 * path[offset:offset + int(seconds * RATE)]
    shared = music(seconds) * level
    out, _, canceller = run(played, echo, shared, offset=offset)
    assert canceller.active and canceller.offset == offset
    tail = slice(4 * RATE, len(out))  # after the first estimates
    residual = out[tail] - shared[tail]  # what is left of our playback (and any damage)
    removed = db(echo[tail], residual)
    assert removed > wanted_db, removed
    # the shared sound comes through: what differs from it is far below it
    assert db(shared[tail], residual) > wanted_db - 12.0


def test_a_capture_without_our_playback_passes_through_unchanged() -> None:
    """Our speakers are another device than the one captured: nothing correlates."""
    played = voice(8.0, seed=2)
    shared = music(6.0) + voice(6.0, seed=3) * 0.5
    out, capture, canceller = run(played, np.zeros(shared.shape[0]), shared)
    assert not canceller.active
    assert np.array_equal(out, capture)


def test_follows_a_delay_that_moves() -> None:
    """The output stream was reopened: the same playback now arrives 0.1 s later."""
    seconds, offset = 14.0, 2000
    played = voice(seconds + 2, seed=4)
    n = int(seconds * RATE)
    shift = np.concatenate([np.zeros(4800), played])  # from 7 s on, 4800 samples later
    echo = np.where(np.arange(n) < 7 * RATE, played[offset:offset + n],
                    shift[offset:offset + n]) * 0.8
    shared = music(seconds) * 0.3
    out, _, canceller = run(played, echo, shared, offset=offset)
    tail = slice(8 * RATE, n)  # from 1 s after the jump
    assert canceller.active and canceller.offset == offset - 4800
    assert db(echo[tail], out[tail] - shared[tail]) > 25.0
    # once the next estimate sees the jump (within 0.5 s), nothing is subtracted at the old
    # delay until the new one is taken (that would add our playback, not remove it)
    jump = slice(7 * RATE + RATE // 2, 8 * RATE)
    assert db(echo[jump], out[jump] - shared[jump]) > -0.5


def test_silence_from_the_speakers_keeps_the_filter() -> None:
    """Nobody speaks for a while: the canceller must still be ready when they speak again."""
    seconds, offset = 12.0, 1000
    played = voice(seconds + 2, seed=5)
    played[5 * RATE:8 * RATE] = 0.0
    echo = 0.6 * played[offset:offset + int(seconds * RATE)]
    shared = music(seconds) * 0.3
    out, _, canceller = run(played, echo, shared, offset=offset)
    first_words = slice(8 * RATE - offset, 8 * RATE - offset + RATE // 2)
    assert canceller.active
    assert db(echo[first_words], out[first_words] - shared[first_words]) > 25.0
