"""Echo benchmark: how much of the far end's echo the microphone processing removes (ERLE), how
much of a near-end talker survives double talk, and the CPU cost of a 10 ms block, for every
audio processing engine available here, side by side.

Scenario (no external data): the far end is a speech-like signal, ``espeak-ng`` speech when
the binary exists (``--voice auto``), else :func:`~visio_desktop.media.audio_processing.
synthetic_speech` (harmonics of a gliding pitch through vowel formants, syllable envelopes,
fricative noise, pauses). It is played through a mildly non-linear loudspeaker, delayed (the
audio devices' latency plus the acoustic path), filtered by a short room impulse response
(direct path, early reflections, exponential tail) and attenuated; the microphone adds a noise
floor and, in some sections, a near-end talker (another pitch and seed):

====================  =============================================================
section               what is measured
====================  =============================================================
far end only (warm-up)  convergence: ERLE of the first 0.5 / 1 / 2 s, not in the figure
far end only          ERLE: 10 log10(echo power in / output power), active blocks only
double talk           near-end preservation: coherence of the output with the
                      near-end voice, its gain, worst 10 % of 100 ms chunks
far end only (after)  ERLE after double talk (did the filter diverge?)
near end only         the same near-end figures without echo, as the reference
====================  =============================================================

Every block goes render first (what the speakers play), then capture, as in the client. The
ERLE is bounded by the microphone's noise floor (``erle_bound_db`` in the results).

Usage (from the repository root, in the project's virtual environment)::

    python bench/echo.py                   # every engine, delays 60 and 120 ms
    python bench/echo.py --quick           # a shorter scenario, one delay
    python bench/echo.py --voice synthetic --delays 80 --out /tmp/echo.json

Results go to ``bench/results/echo.json``. ``tests/unit/test_audio_processing.py`` runs a
short version of the same scenario (:func:`build_scenario` with ``short=True``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
import wave
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from visio_desktop.media.audio_processing import (  # noqa: E402
    BLOCK_SAMPLES,
    SAMPLE_RATE,
    AudioProcessor,
    EngineName,
    ProcessingOptions,
    available_engines,
    synthetic_speech,
    to_int16,
)

DEFAULT_OUT = ROOT / "bench" / "results" / "echo.json"
FloatArray = npt.NDArray[np.float64]

ESPEAK_TEXT = (
    "Good morning everyone. Can you hear me well? I will share my screen in a moment. "
    "The meeting today is about the budget for next year, and the schedule of the project. "
    "Please keep your microphones muted when you are not speaking. Thank you. "
    "Let us start with the first point on the agenda, then we will take questions."
)

CONFIGS: dict[str, ProcessingOptions] = {
    # the echo canceller alone (the high-pass filter is part of the echo path anyway)
    "aec": ProcessingOptions(echo_cancellation=True, noise_suppression=False, auto_gain=False),
    # everything the client turns on
    "full": ProcessingOptions(),
}
HEADLINE_CONFIG = "aec"
ERLE_TARGET_DB = 20.0


# ---------------------------------------------------------------------------------------------
# signals


def espeak_speech(duration_s: float, level_dbfs: float = -20.0) -> FloatArray | None:
    """``espeak-ng`` reading :data:`ESPEAK_TEXT`, at 48 kHz (linear interpolation from its own
    rate), looped to ``duration_s`` and scaled like :func:`synthetic_speech`; None without the
    binary."""
    binary = shutil.which("espeak-ng")
    if binary is None:
        return None
    try:
        wav = subprocess.run(
            [binary, "-v", "en", "-s", "160", "--stdout", ESPEAK_TEXT],
            check=True,
            capture_output=True,
            timeout=60,
        ).stdout
        with wave.open(io.BytesIO(wav)) as reader:
            rate = reader.getframerate()
            raw = reader.readframes(reader.getnframes())
    except (OSError, subprocess.SubprocessError, wave.Error):
        return None
    x = np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0
    t_out = np.arange(int(x.size * SAMPLE_RATE / rate)) / SAMPLE_RATE
    y = np.interp(t_out, np.arange(x.size) / rate, x)
    n = int(duration_s * SAMPLE_RATE)
    y = np.tile(y, math.ceil(n / y.size))[:n]
    active = np.abs(y) > 0.01 * np.max(np.abs(y))
    rms = float(np.sqrt(np.mean(y[active] ** 2)))
    return y * 10.0 ** (level_dbfs / 20.0) / rms


def room_impulse_response(
    rng: np.random.Generator, length_s: float = 0.12, rt60_s: float = 0.25
) -> FloatArray:
    """Direct path, a few early reflections and an exponentially decaying noise tail (-60 dB
    after ``rt60_s``), normalized to unit energy."""
    n = int(length_s * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    ir = rng.standard_normal(n) * 0.3 * np.exp(-6.9 * t / rt60_s)
    ir[: int(0.003 * SAMPLE_RATE)] = 0.0
    ir[0] = 1.0
    for delay_s, gain in zip(rng.uniform(0.002, 0.015, 5), rng.uniform(-0.5, 0.5, 5), strict=True):
        ir[int(delay_s * SAMPLE_RATE)] += gain
    return ir / math.sqrt(float(np.sum(ir * ir)))


def pink_noise(rng: np.random.Generator, n: int, level_dbfs: float) -> FloatArray:
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE)
    spectrum /= np.sqrt(np.maximum(freqs, 20.0))
    noise = np.fft.irfft(spectrum, n)
    return noise * 10.0 ** (level_dbfs / 20.0) / float(np.std(noise))


@dataclass
class Scenario:
    far: npt.NDArray[np.int16]  # what the speakers play (render)
    mic: npt.NDArray[np.int16]  # what the microphone captures
    echo: FloatArray  # the echo part of mic
    near: FloatArray  # the near-end voice part of mic (zero outside its sections)
    sections: dict[str, tuple[float, float]]  # name -> (start s, end s)
    params: dict[str, Any] = field(default_factory=dict)

    def span(self, name: str) -> slice:
        start, end = self.sections[name]
        return slice(int(start * SAMPLE_RATE), int(end * SAMPLE_RATE))


def build_scenario(
    *,
    short: bool = False,
    delay_ms: float = 80.0,
    echo_gain_db: float = -10.0,
    near_level_dbfs: float = -26.0,
    noise_dbfs: float = -62.0,
    voice: str = "auto",
    seed: int = 7,
) -> Scenario:
    """The far-end / microphone pair described in the module docstring. ``short``: 1.5 s of
    warm-up, 2.5 s of far end only and 1.5 s of double talk (5.5 s in all), for tests."""
    if short:
        lengths = {"warmup": 1.5, "far_only": 2.5, "double_talk": 1.5}
    else:
        lengths = {
            "warmup": 3.0,
            "far_only": 10.0,
            "double_talk": 5.0,
            "far_only_after": 4.0,
            "near_only": 3.0,
        }
    sections: dict[str, tuple[float, float]] = {}
    t = 0.0
    for name, length in lengths.items():
        sections[name] = (t, t + length)
        t += length
    total = t
    n = int(total * SAMPLE_RATE)
    rng = np.random.default_rng(seed)

    far_voice = espeak_speech(total) if voice in ("auto", "espeak") else None
    if far_voice is None:
        if voice == "espeak":
            raise RuntimeError("espeak-ng is not installed")
        far_voice = synthetic_speech(total, seed=seed, pitch_hz=115.0, level_dbfs=-20.0)
        voice_used = "synthetic"
    else:
        voice_used = "espeak-ng"
    far_voice = far_voice[:n]
    if "near_only" in sections:
        far_voice[int(sections["near_only"][0] * SAMPLE_RATE) :] = 0.0
    far = to_int16(far_voice)

    # loudspeaker (soft clipping), delay, room, attenuation
    played = np.tanh(1.5 * far.astype(np.float64) / 32768.0) / 1.5
    delay = int(delay_ms * SAMPLE_RATE / 1000.0)
    ir = room_impulse_response(rng)
    delayed = np.concatenate((np.zeros(delay), played))[:n]
    echo = np.convolve(delayed, ir)[:n] * 10.0 ** (echo_gain_db / 20.0)

    near = np.zeros(n)
    near_voice = synthetic_speech(
        total, seed=seed + 101, pitch_hz=210.0, level_dbfs=near_level_dbfs
    )
    for name in ("double_talk", "near_only"):
        if name in sections:
            start, end = (int(s * SAMPLE_RATE) for s in sections[name])
            near[start:end] = near_voice[start:end]
    mic_float = echo + near + pink_noise(rng, n, noise_dbfs)
    params = {
        "delay_ms": delay_ms,
        "echo_gain_db": echo_gain_db,
        "room_ir": "120 ms, RT60 250 ms, direct path + 5 early reflections",
        "loudspeaker": "tanh soft clipping",
        "near_level_dbfs": near_level_dbfs,
        "noise_dbfs": noise_dbfs,
        "far_voice": voice_used,
        "seconds": total,
    }
    return Scenario(far, to_int16(mic_float), echo * 32768.0, near * 32768.0, sections, params)


# ---------------------------------------------------------------------------------------------
# running and measuring


@dataclass
class Run:
    out: npt.NDArray[np.int16]
    wall_ms_per_block: float
    cpu_ms_per_block: float


def run_processor(processor: AudioProcessor, scenario: Scenario, delay_hint_ms: int) -> Run:
    """Render then capture, block by block, timing the processor calls only."""
    processor.set_stream_delay_ms(delay_hint_ms)
    blocks = scenario.mic.size // BLOCK_SAMPLES
    far = scenario.far[: blocks * BLOCK_SAMPLES].reshape(blocks, BLOCK_SAMPLES)
    mic = scenario.mic[: blocks * BLOCK_SAMPLES].reshape(blocks, BLOCK_SAMPLES)
    out = np.empty_like(mic)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for i in range(blocks):
        processor.process_render(far[i])
        out[i] = processor.process_capture(mic[i])
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return Run(out.reshape(-1), 1000.0 * wall / blocks, 1000.0 * cpu / blocks)


def _power(x: npt.NDArray[np.generic]) -> float:
    v = np.asarray(x, dtype=np.float64)
    return float(np.dot(v, v))


def _db(ratio: float) -> float:
    return 10.0 * math.log10(ratio) if ratio > 0 else math.inf


def _active_ratio_db(echo: FloatArray, residual: FloatArray) -> float:
    """10 log10(echo power / residual power) over the blocks where the echo is active (within
    30 dB of the loudest block): pauses carry no echo to cancel."""
    n = echo.size // BLOCK_SAMPLES * BLOCK_SAMPLES
    e = echo[:n].reshape(-1, BLOCK_SAMPLES)
    r = residual[:n].reshape(-1, BLOCK_SAMPLES)
    echo_power = np.einsum("ij,ij->i", e, e)
    active = echo_power >= 1e-3 * float(np.max(echo_power))
    residual_power = float(np.einsum("ij,ij->", r[active], r[active]))
    return _db(float(echo_power[active].sum()) / max(residual_power, 1e-9))


def erle_db(scenario: Scenario, out: npt.NDArray[np.int16], section: slice) -> float:
    """ERLE over a section: echo power at the microphone over output power, active blocks."""
    return _active_ratio_db(scenario.echo[section], out[section].astype(np.float64))


def near_preservation(
    scenario: Scenario, out: npt.NDArray[np.int16], section: slice
) -> dict[str, float]:
    """How the near-end voice comes through, from cross-spectra (Welch, 2048-point Hann
    segments, 100 Hz–8 kHz) after aligning the output on it (best lag within ±40 ms): the
    power of the output part coherent with the voice relative to the voice (its gain), the
    mean coherence (1 = the voice is all there and nothing else is; residual echo and
    distortion lower it), and the 10th percentile of the gain over 100 ms chunks where the
    voice is active (the worst ducking by the echo suppressor). Spectra, not a time-domain
    correlation, because the engines' band-splitting filters are not linear-phase."""
    ref = scenario.near[section]
    got = out[section].astype(np.float64)
    size = 1 << math.ceil(math.log2(2 * ref.size))
    xcorr = np.fft.irfft(np.fft.rfft(got, size) * np.conj(np.fft.rfft(ref, size)), size)
    max_lag = int(0.040 * SAMPLE_RATE)
    lags = np.concatenate((np.arange(max_lag + 1), np.arange(-max_lag, 0)))
    lag = int(lags[int(np.argmax(np.concatenate((xcorr[: max_lag + 1], xcorr[-max_lag:]))))])
    got = np.roll(got, -lag)
    n_fft, hop = 2048, 512
    window = np.hanning(n_fft)
    frames_ref = np.lib.stride_tricks.sliding_window_view(ref, n_fft)[::hop] * window
    frames_got = np.lib.stride_tricks.sliding_window_view(got, n_fft)[::hop] * window
    freqs = np.fft.rfftfreq(n_fft, 1.0 / SAMPLE_RATE)
    band = (freqs >= 100.0) & (freqs <= 8000.0)
    x = np.fft.rfft(frames_ref, axis=1)[:, band]
    y = np.fft.rfft(frames_got, axis=1)[:, band]

    def figures(rows: slice | npt.NDArray[np.bool_]) -> tuple[float, float]:
        sxy = np.sum(np.conj(x[rows]) * y[rows], axis=0)
        sxx = np.sum(np.abs(x[rows]) ** 2, axis=0)
        syy = np.sum(np.abs(y[rows]) ** 2, axis=0)
        coherent = np.abs(sxy) ** 2 / np.maximum(sxx, 1e-12)  # output power coherent with ref
        gain = float(coherent.sum() / max(float(sxx.sum()), 1e-12))
        coherence = float(np.sum(coherent) / max(float(syy.sum()), 1e-12))
        return gain, coherence

    gain, coherence = figures(slice(None))
    # 100 ms chunks of segments where the voice is active
    per_chunk = max(1, SAMPLE_RATE // 10 // hop)
    energy = np.sum(np.abs(x) ** 2, axis=1)
    chunk_gains = []
    for start in range(0, x.shape[0] - per_chunk + 1, per_chunk):
        rows = slice(start, start + per_chunk)
        if float(energy[rows].mean()) >= 0.1 * float(energy.max()):
            chunk_gains.append(figures(rows)[0])
    worst = float(np.percentile(chunk_gains, 10)) if chunk_gains else 0.0
    return {
        "coherence": round(coherence, 3),
        "gain_db": round(10.0 * math.log10(max(gain, 1e-12)), 2),
        "worst10_gain_db": round(10.0 * math.log10(max(worst, 1e-12)), 2),
        "lag_ms": round(1000.0 * lag / SAMPLE_RATE, 2),
    }


def measure(scenario: Scenario, run: Run) -> dict[str, Any]:
    out = run.out
    result: dict[str, Any] = {
        "erle_db": round(erle_db(scenario, out, scenario.span("far_only")), 2),
        "convergence_erle_db": {
            f"first_{s}s": round(erle_db(scenario, out, slice(0, int(s * SAMPLE_RATE))), 2)
            for s in (0.5, 1.0, 2.0)
            if s <= scenario.sections["warmup"][1]
        },
        "double_talk_near_end": near_preservation(scenario, out, scenario.span("double_talk")),
        "wall_ms_per_block": round(run.wall_ms_per_block, 4),
        "cpu_ms_per_block": round(run.cpu_ms_per_block, 4),
    }
    if "far_only_after" in scenario.sections:
        span = scenario.span("far_only_after")
        result["erle_after_double_talk_db"] = round(erle_db(scenario, out, span), 2)
    if "near_only" in scenario.sections:
        result["near_only_near_end"] = near_preservation(scenario, out, scenario.span("near_only"))
    # the most any canceller can show: echo over the microphone's own noise, same blocks
    span = scenario.span("far_only")
    noise = scenario.mic[span].astype(np.float64) - scenario.echo[span] - scenario.near[span]
    result["erle_bound_db"] = round(_active_ratio_db(scenario.echo[span], noise), 2)
    return result


# ---------------------------------------------------------------------------------------------
# main


def _versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in ("livekit", "pywebrtc-audio", "numpy"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return found


def print_table(rows: list[dict[str, Any]]) -> None:
    header = (
        f"{'engine':<10} {'config':<6} {'delay':>5} {'hint':>4} {'ERLE':>6} {'conv1s':>6} "
        f"{'afterDT':>7} {'DTcoh':>6} {'DTgain':>6} {'DTworst':>7} {'NEgain':>6} "
        f"{'cpu ms':>6} {'wall ms':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        m = r["metrics"]
        conv = m["convergence_erle_db"].get("first_1.0s", math.nan)
        ne = m.get("near_only_near_end", {}).get("gain_db", math.nan)
        dtn = m["double_talk_near_end"]
        after = m.get("erle_after_double_talk_db", math.nan)
        print(
            f"{r['engine']:<10} {r['config']:<6} {r['delay_ms']:>5.0f} {r['delay_hint_ms']:>4} "
            f"{m['erle_db']:>6.1f} {conv:>6.1f} {after:>7.1f} "
            f"{dtn['coherence']:>6.3f} {dtn['gain_db']:>6.1f} {dtn['worst10_gain_db']:>7.1f} "
            f"{ne:>6.1f} {m['cpu_ms_per_block']:>6.3f} {m['wall_ms_per_block']:>7.3f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short scenario, one delay")
    parser.add_argument("--delays", default="60,120", help="echo delays in ms, comma-separated")
    parser.add_argument("--voice", choices=("auto", "espeak", "synthetic"), default="auto")
    parser.add_argument("--engines", default="", help="comma-separated (default: all available)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    delays = [float(d) for d in args.delays.split(",") if d]
    if args.quick:
        delays = delays[:1]
    engines: list[EngineName] = [e for e in available_engines() if e != "passthrough"]
    if args.engines:
        wanted = args.engines.split(",")
        engines = [e for e in engines if e in wanted]
    if not engines:
        print("no echo-cancelling engine available (install livekit or pywebrtc-audio)")
        return 1
    print(f"engines: {', '.join(engines)}")

    rows: list[dict[str, Any]] = []
    scenarios: list[dict[str, Any]] = []
    for delay_ms in delays:
        scenario = build_scenario(short=args.quick, delay_ms=delay_ms, voice=args.voice)
        scenarios.append({"sections_s": scenario.sections, **scenario.params})
        # the hint a client would give: the devices' latency, i.e. the delay less the acoustic
        # path; and no hint at all (the canceller's own delay estimator)
        for hint in (int(delay_ms), 0):
            for config, options in CONFIGS.items():
                if hint == 0 and config != HEADLINE_CONFIG:
                    continue
                for engine in engines:
                    run = run_processor(AudioProcessor(options, engine=engine), scenario, hint)
                    rows.append(
                        {
                            "engine": engine,
                            "config": config,
                            "options": asdict(options),
                            "delay_ms": delay_ms,
                            "delay_hint_ms": hint,
                            "metrics": measure(scenario, run),
                        }
                    )
    print_table(rows)
    headline = [
        r for r in rows if r["config"] == HEADLINE_CONFIG and r["delay_hint_ms"] == r["delay_ms"]
    ]
    summary = {
        engine: {
            "min_erle_db": min(r["metrics"]["erle_db"] for r in headline if r["engine"] == engine),
            "meets_target": all(
                r["metrics"]["erle_db"] >= ERLE_TARGET_DB for r in headline if r["engine"] == engine
            ),
        }
        for engine in engines
    }
    print(f"\nERLE target {ERLE_TARGET_DB:.0f} dB ({HEADLINE_CONFIG}, delay hint given): {summary}")
    report = {
        "benchmark": "echo",
        "title": "Visio Desktop echo cancellation benchmark (microphone processing engines)",
        "measured": (
            "ERLE = 10 log10(echo power at the microphone / output power) over the far-end-only "
            "section after a warm-up, blocks with active echo only; near-end preservation "
            "during double talk (coherence of the output with the near-end voice, its gain "
            "from cross-spectra, the worst 10 % of 100 ms chunks); processor CPU and wall time "
            "per 10 ms block (render + capture)"
        ),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "platform": {
            "system": platform.system(),
            "machine": platform.machine(),
            "cpu_cores": os.cpu_count(),
            "versions": _versions(),
        },
        "erle_target_db": ERLE_TARGET_DB,
        "headline_config": HEADLINE_CONFIG,
        "summary": summary,
        "scenarios": scenarios,
        "results": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0 if all(s["meets_target"] for s in summary.values()) else 2


if __name__ == "__main__":
    sys.exit(main())
