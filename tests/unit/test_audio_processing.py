"""Microphone processing: engine wiring, echo cancellation (ERLE on a short version of the
``bench/echo.py`` scenario), level meter, speaking-while-muted detector."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from visio_desktop.media.audio_processing import (
    BLOCK_SAMPLES,
    SAMPLE_RATE,
    AudioProcessor,
    LevelMeter,
    ProcessingOptions,
    SpeakingWhileMutedDetector,
    available_engines,
    synthetic_speech,
    to_int16,
)
from visio_desktop.media.synthetic import ToneSource, analyse_tone

ROOT = Path(__file__).resolve().parents[2]
HAS_LIVEKIT = "livekit" in available_engines()
needs_livekit = pytest.mark.skipif(not HAS_LIVEKIT, reason="livekit wheel not installed")


def _load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_echo", ROOT / "bench" / "echo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_echo"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return _load_bench()


@pytest.fixture(scope="module")
def short_scenario(bench: ModuleType) -> object:
    return bench.build_scenario(short=True, delay_ms=90.0, voice="synthetic")


# ---------------------------------------------------------------------------------------------
# processor


@pytest.mark.parametrize("engine", available_engines())
def test_round_trip_blocks(engine: str) -> None:
    processor = AudioProcessor(engine=engine)  # type: ignore[arg-type]
    assert processor.engine == engine
    processor.set_stream_delay_ms(40)
    assert processor.stream_delay_ms == 40
    tone = ToneSource(440.0, amplitude=0.2)
    far = ToneSource(1000.0, amplitude=0.1)
    for _ in range(30):
        block = tone.next_block()
        before = block.copy()
        processor.process_render(far.next_block())
        out = processor.process_capture(block)
        assert out.shape == (BLOCK_SAMPLES,) and out.dtype == np.int16
        assert out is not block
        assert np.array_equal(block, before)  # the caller's block is left alone


def test_rejects_wrong_blocks() -> None:
    processor = AudioProcessor(engine="passthrough")
    with pytest.raises(ValueError):
        processor.process_capture(np.zeros(BLOCK_SAMPLES, dtype=np.float32))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        processor.process_render(np.zeros(BLOCK_SAMPLES * 2, dtype=np.int16))


def test_passthrough_is_identity() -> None:
    processor = AudioProcessor(engine="passthrough")
    block = ToneSource(300.0).next_block()
    assert np.array_equal(processor.process_capture(block), block)


@needs_livekit
def test_auto_prefers_livekit() -> None:
    assert AudioProcessor().engine == "livekit"


@needs_livekit
def test_stream_keeps_a_tone() -> None:
    """High-pass filter and echo canceller on, no far end: a 1 kHz tone comes through the
    stream of blocks at its frequency and level."""
    processor = AudioProcessor(
        ProcessingOptions(echo_cancellation=True, noise_suppression=False, auto_gain=False)
    )
    source = ToneSource(1000.0, amplitude=0.1)
    silence = np.zeros(BLOCK_SAMPLES, dtype=np.int16)
    out = []
    for _ in range(100):
        processor.process_render(silence)
        out.append(processor.process_capture(source.next_block()))
    reading = analyse_tone(np.concatenate(out[30:]), SAMPLE_RATE)
    assert reading.frequency_hz == pytest.approx(1000.0, abs=2.0)
    assert reading.rms_dbfs == pytest.approx(20 * math.log10(0.1) - 3.01, abs=1.5)


# ---------------------------------------------------------------------------------------------
# echo


@needs_livekit
def test_erle_at_least_20_db(bench: ModuleType, short_scenario: object) -> None:
    options = bench.CONFIGS["aec"]
    run = bench.run_processor(AudioProcessor(options, engine="livekit"), short_scenario, 90)
    metrics = bench.measure(short_scenario, run)
    assert metrics["erle_db"] >= 20.0, metrics
    # the near-end talker survives double talk
    near = metrics["double_talk_near_end"]
    assert near["gain_db"] > -6.0 and near["coherence"] > 0.6, near


@needs_livekit
def test_erle_needs_the_far_end(bench: ModuleType, short_scenario: object) -> None:
    """The measurement itself: no processing, or an echo canceller never fed with the far end,
    removes no echo."""
    for processor, feed_render in (
        (AudioProcessor(engine="passthrough"), True),
        (AudioProcessor(bench.CONFIGS["aec"], engine="livekit"), False),
    ):
        if not feed_render:
            processor.process_render = lambda block: None  # type: ignore[method-assign]
        run = bench.run_processor(processor, short_scenario, 90)
        assert bench.measure(short_scenario, run)["erle_db"] < 6.0


# ---------------------------------------------------------------------------------------------
# level meter


def test_level_meter_agrees_with_analyse_tone() -> None:
    meter = LevelMeter()
    source = ToneSource(440.0, amplitude=0.3)
    blocks = [source.next_block() for _ in range(20)]
    readings = [meter.update(b) for b in blocks]
    expected = analyse_tone(np.concatenate(blocks), SAMPLE_RATE).rms_dbfs
    assert expected == pytest.approx(20 * math.log10(0.3) - 3.01, abs=0.05)
    for r in readings:
        assert r.rms_dbfs == pytest.approx(expected, abs=0.1)
        assert r.peak_dbfs == pytest.approx(20 * math.log10(0.3), abs=0.1)
        assert r.smoothed_dbfs == pytest.approx(r.rms_dbfs, abs=0.1)  # instant attack


def test_level_meter_release_and_silence() -> None:
    meter = LevelMeter(release_db_per_s=20.0)
    loud = meter.update(ToneSource(440.0, amplitude=0.5).next_block())
    silence = np.zeros(BLOCK_SAMPLES, dtype=np.int16)
    for _ in range(10):  # 100 ms: the smoothed level falls 2 dB
        reading = meter.update(silence)
    assert reading.rms_dbfs <= -100.0 and reading.peak_dbfs <= -100.0
    assert reading.smoothed_dbfs == pytest.approx(loud.smoothed_dbfs - 2.0, abs=0.01)


# ---------------------------------------------------------------------------------------------
# speaking while muted


def _feed(detector: SpeakingWhileMutedDetector, signal: np.ndarray, muted: bool) -> list[int]:
    samples = to_int16(signal)
    fired = []
    for i in range(samples.size // BLOCK_SAMPLES):
        if detector.update(samples[i * BLOCK_SAMPLES : (i + 1) * BLOCK_SAMPLES], muted=muted):
            fired.append(i * 10)
    return fired


@pytest.mark.parametrize(("pitch_hz", "level_dbfs"), [(110.0, -30.0), (210.0, -40.0)])
def test_muted_detector_fires_on_speech(pitch_hz: float, level_dbfs: float) -> None:
    calls: list[int] = []
    detector = SpeakingWhileMutedDetector(on_detected=lambda: calls.append(1))
    speech = synthetic_speech(3.0, seed=int(pitch_hz), pitch_hz=pitch_hz, level_dbfs=level_dbfs)
    fired = _feed(detector, speech, muted=True)
    assert len(fired) == 1 and fired[0] <= 1500  # once (cooldown), within 1.5 s
    assert calls == [1]


def test_muted_detector_fires_over_background_noise() -> None:
    rng = np.random.default_rng(1)
    n = 3 * SAMPLE_RATE
    noisy = synthetic_speech(3.0, seed=4, level_dbfs=-30.0) + rng.standard_normal(n) * 10 ** (
        -50 / 20
    )
    assert _feed(SpeakingWhileMutedDetector(), noisy, muted=True)


def test_muted_detector_quiet_when_unmuted() -> None:
    speech = synthetic_speech(3.0, seed=5, level_dbfs=-30.0)
    assert _feed(SpeakingWhileMutedDetector(), speech, muted=False) == []


def test_muted_detector_ignores_silence_noise_and_tones() -> None:
    rng = np.random.default_rng(2)
    n = 3 * SAMPLE_RATE
    t = np.arange(n) / SAMPLE_RATE
    brown = np.cumsum(rng.standard_normal(n))
    brown -= np.convolve(brown, np.ones(4801) / 4801, mode="same")
    for name, signal in {
        "silence": np.zeros(n),
        "white noise": rng.standard_normal(n) * 10 ** (-30 / 20),
        "brown noise": brown / np.std(brown) * 10 ** (-30 / 20),
        "mains hum": 0.05 * np.sin(2 * np.pi * 50 * t),
        "steady tone": 0.05 * np.sin(2 * np.pi * 1000 * t),
        "quiet speech": synthetic_speech(3.0, seed=6, level_dbfs=-70.0),
    }.items():
        assert _feed(SpeakingWhileMutedDetector(), signal, muted=True) == [], name
