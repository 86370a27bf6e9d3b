"""Microphone processing: echo cancellation, noise suppression, gain control, level meter and a
"you are speaking while muted" detector, on 10 ms int16 mono blocks at 48 kHz.

Engines (chosen by measurement, see ``bench/echo.py``):

* ``"livekit"``: WebRTC's audio processing module (AEC3, NS, AGC, high-pass filter) as shipped
  in the official ``livekit`` wheel (``livekit.rtc.AudioProcessingModule``), which has wheels
  for Windows, macOS (arm64, x86_64) and Linux (x86_64, aarch64). The default.
* ``"pywebrtc"``: the same WebRTC module through ``pywebrtc-audio``, used when installed (it is
  not a dependency; the bench compares both).
* ``"passthrough"``: no processing (a copy), for machines without either.

Usage, in the audio callbacks (one processor per microphone)::

    processor = AudioProcessor(ProcessingOptions())
    processor.set_stream_delay_ms(output_latency_ms + input_latency_ms)
    processor.process_render(speaker_block)     # every 10 ms block the speakers play
    clean = processor.process_capture(mic_block)  # every 10 ms block the microphone captures

:class:`LevelMeter` and :class:`SpeakingWhileMutedDetector` are pure numpy, a few microseconds a
block; no per-sample Python loop anywhere.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 48000
BLOCK_MS = 10
BLOCK_SAMPLES = SAMPLE_RATE * BLOCK_MS // 1000  # 480
FULL_SCALE = 32768.0
SILENCE_DBFS = -120.0  # what the meters report for digital silence

EngineName = Literal["livekit", "pywebrtc", "passthrough"]
Int16Block = npt.NDArray[np.int16]


@dataclass(frozen=True, slots=True)
class ProcessingOptions:
    echo_cancellation: bool = True
    noise_suppression: bool = True
    auto_gain: bool = True
    high_pass: bool = True


def _check_block(block: npt.NDArray[np.generic]) -> Int16Block:
    data = np.asarray(block)
    if data.dtype != np.int16 or data.shape != (BLOCK_SAMPLES,):
        raise ValueError(
            f"expected {BLOCK_SAMPLES} int16 mono samples (10 ms at {SAMPLE_RATE} Hz), "
            f"got {data.dtype} {data.shape}"
        )
    return data


# ---------------------------------------------------------------------------------------------
# engines


class _Engine(Protocol):
    name: EngineName

    def process_render(self, block: Int16Block) -> None: ...

    def process_capture(self, block: Int16Block) -> Int16Block: ...

    def set_stream_delay_ms(self, delay_ms: int) -> None: ...


class _LiveKitEngine:
    """``livekit.rtc.AudioProcessingModule``: every call is one FFI request into the Rust core,
    on a buffer reused from call to call (the module processes it in place)."""

    name: EngineName = "livekit"

    def __init__(self, options: ProcessingOptions) -> None:
        from livekit import rtc

        self._apm = rtc.AudioProcessingModule(
            echo_cancellation=options.echo_cancellation,
            noise_suppression=options.noise_suppression,
            high_pass_filter=options.high_pass,
            auto_gain_control=options.auto_gain,
        )
        self._echo = options.echo_cancellation
        self._capture_buf = bytearray(BLOCK_SAMPLES * 2)
        self._render_buf = bytearray(BLOCK_SAMPLES * 2)
        self._capture = np.frombuffer(self._capture_buf, dtype=np.int16)
        self._render = np.frombuffer(self._render_buf, dtype=np.int16)
        self._capture_frame = rtc.AudioFrame(self._capture_buf, SAMPLE_RATE, 1, BLOCK_SAMPLES)
        self._render_frame = rtc.AudioFrame(self._render_buf, SAMPLE_RATE, 1, BLOCK_SAMPLES)

    def process_render(self, block: Int16Block) -> None:
        self._render[:] = block
        self._apm.process_reverse_stream(self._render_frame)

    def process_capture(self, block: Int16Block) -> Int16Block:
        self._capture[:] = block
        self._apm.process_stream(self._capture_frame)
        return self._capture.copy()

    def set_stream_delay_ms(self, delay_ms: int) -> None:
        if self._echo:  # the module wants it "if and only if echo processing is enabled"
            self._apm.set_stream_delay_ms(delay_ms)


class _PyWebRtcEngine:
    """``pywebrtc_audio.AudioProcessor``, whose ``process(near, far)`` takes both directions at
    once: render blocks wait in a short queue for the next capture block."""

    name: EngineName = "pywebrtc"
    MAX_QUEUED_RENDER = 10  # 100 ms: past that, the oldest far-end blocks are dropped

    def __init__(self, options: ProcessingOptions) -> None:
        import pywebrtc_audio  # type: ignore[import-not-found]

        self._ap = pywebrtc_audio.AudioProcessor(
            sample_rate=SAMPLE_RATE,
            num_channels=1,
            echo_cancellation=options.echo_cancellation,
            noise_suppression=options.noise_suppression,
            high_pass_filter=options.high_pass,
            auto_gain_control=options.auto_gain,
        )
        self._render: deque[Int16Block] = deque(maxlen=self.MAX_QUEUED_RENDER)

    def process_render(self, block: Int16Block) -> None:
        self._render.append(block.copy())

    def process_capture(self, block: Int16Block) -> Int16Block:
        far = self._render.popleft() if self._render else None
        out: Int16Block = self._ap.process(np.ascontiguousarray(block), far)
        return out

    def set_stream_delay_ms(self, delay_ms: int) -> None:
        self._ap.stream_delay_ms = delay_ms


class _PassthroughEngine:
    name: EngineName = "passthrough"

    def __init__(self, options: ProcessingOptions) -> None:
        del options

    def process_render(self, block: Int16Block) -> None:
        del block

    def process_capture(self, block: Int16Block) -> Int16Block:
        return block.copy()

    def set_stream_delay_ms(self, delay_ms: int) -> None:
        del delay_ms


_ENGINES: dict[EngineName, Callable[[ProcessingOptions], _Engine]] = {
    "livekit": _LiveKitEngine,
    "pywebrtc": _PyWebRtcEngine,
    "passthrough": _PassthroughEngine,
}
_PREFERENCE: tuple[EngineName, ...] = ("livekit", "pywebrtc", "passthrough")


def available_engines() -> list[EngineName]:
    """The engines that can be loaded here, best first (``"passthrough"`` is always last)."""
    found: list[EngineName] = []
    for name in _PREFERENCE:
        try:
            _ENGINES[name](ProcessingOptions(False, False, False, False))
        except (ImportError, OSError):
            continue
        found.append(name)
    return found


class AudioProcessor:
    """Processes the microphone's 10 ms blocks (48 kHz, mono, int16) with the far end as the
    echo reference.

    Feed :meth:`process_render` with every block the speakers play (after mixing, at the
    moment it is handed to the output device) and :meth:`process_capture` with every block the
    microphone captures; both from one thread, or under one lock. ``engine="auto"`` takes the
    first of :func:`available_engines`.
    """

    def __init__(
        self,
        options: ProcessingOptions | None = None,
        engine: EngineName | Literal["auto"] = "auto",
    ) -> None:
        self.options = options or ProcessingOptions()
        if engine == "auto":
            engine = available_engines()[0]
        self._engine: _Engine = _ENGINES[engine](self.options)
        self._delay_ms = 0
        self._engine.set_stream_delay_ms(0)

    @property
    def engine(self) -> EngineName:
        return self._engine.name

    @property
    def stream_delay_ms(self) -> int:
        return self._delay_ms

    def set_stream_delay_ms(self, delay_ms: int) -> None:
        """Delay between a block entering :meth:`process_render` and its echo entering
        :meth:`process_capture`: output latency + input latency of the audio devices. A hint:
        the echo canceller finds the true delay by itself, but converges faster with it."""
        self._delay_ms = max(0, int(delay_ms))
        self._engine.set_stream_delay_ms(self._delay_ms)

    def process_render(self, block: npt.NDArray[np.int16]) -> None:
        """One 10 ms block of what the speakers play (the far end)."""
        self._engine.process_render(_check_block(block))

    def process_capture(self, block: npt.NDArray[np.int16]) -> Int16Block:
        """One 10 ms microphone block in, the processed block out (a new array)."""
        return self._engine.process_capture(_check_block(block))


# ---------------------------------------------------------------------------------------------
# level meter


def _dbfs(value: float) -> float:
    return 20.0 * math.log10(value / FULL_SCALE) if value > 0.0 else SILENCE_DBFS


@dataclass(frozen=True, slots=True)
class LevelReading:
    rms_dbfs: float  # this block; a full-scale sine reads -3.01 dBFS (as synthetic.analyse_tone)
    peak_dbfs: float  # largest |sample| of this block
    smoothed_dbfs: float  # rms with instant attack and a slow release, for a UI meter


class LevelMeter:
    """RMS, peak and a smoothed level (instant attack, ``release_db_per_s`` fall) of int16
    blocks, in dBFS with full scale 32768."""

    def __init__(self, release_db_per_s: float = 20.0, floor_dbfs: float = -90.0) -> None:
        self.release_db_per_s = release_db_per_s
        self.floor_dbfs = floor_dbfs
        self.smoothed_dbfs = floor_dbfs
        self.last = LevelReading(SILENCE_DBFS, SILENCE_DBFS, floor_dbfs)

    def update(self, block: npt.NDArray[np.int16], block_ms: float = BLOCK_MS) -> LevelReading:
        x = np.asarray(block, dtype=np.float64)
        rms_dbfs = _dbfs(math.sqrt(float(np.dot(x, x)) / x.size)) if x.size else SILENCE_DBFS
        peak_dbfs = _dbfs(float(np.max(np.abs(x)))) if x.size else SILENCE_DBFS
        released = self.smoothed_dbfs - self.release_db_per_s * block_ms / 1000.0
        self.smoothed_dbfs = max(rms_dbfs, released, self.floor_dbfs)
        self.last = LevelReading(rms_dbfs, peak_dbfs, self.smoothed_dbfs)
        return self.last

    def reset(self) -> None:
        self.smoothed_dbfs = self.floor_dbfs


# ---------------------------------------------------------------------------------------------
# "you are speaking while muted"


@dataclass(frozen=True, slots=True)
class VoiceFeatures:
    level_dbfs: float  # rms of the block
    noise_floor_dbfs: float  # tracked background level
    periodicity: float  # peak normalized autocorrelation in the pitch range (0..1)
    voiced: bool


class SpeakingWhileMutedDetector:
    """Fires when someone speaks into a muted microphone.

    A 10 ms block counts as voiced when it is ``threshold_dbfs`` loud, ``margin_db`` above the
    noise floor (the quietest block of the last ``floor_window_s``: speech has gaps between
    syllables and words, a steady tone or fan does not), and periodic in the pitch range (the
    highest local maximum of the normalized autocorrelation of the last ``ANALYSIS_MS`` of
    pre-emphasised signal at lags of 2.5–12.5 ms, i.e. 80–400 Hz pitch, at least
    ``periodicity``); broadband noise, hum, steady tones and clicks are not. Voiced blocks
    add 10 ms to a score, others take away ``decay`` x 10 ms (syllables have gaps); when the
    score reaches ``min_speech_ms`` while muted, :meth:`update` returns True once and calls
    ``on_detected``, then stays quiet for ``cooldown_s``. Unmuting clears the score.
    """

    ANALYSIS_MS = 30
    DECIMATION = 3  # analysis at 16 kHz: pitch needs no more, and the FFT is 3x smaller
    MIN_LAG_S = 0.0025
    MAX_LAG_S = 0.0125

    def __init__(
        self,
        threshold_dbfs: float = -50.0,
        margin_db: float = 12.0,
        periodicity: float = 0.45,
        min_speech_ms: int = 300,
        decay: float = 0.5,
        cooldown_s: float = 10.0,
        floor_window_s: float = 1.5,
        on_detected: Callable[[], None] | None = None,
    ) -> None:
        self.threshold_dbfs = threshold_dbfs
        self.margin_db = margin_db
        self.periodicity = periodicity
        self.min_speech_ms = min_speech_ms
        self.decay = decay
        self.cooldown_s = cooldown_s
        self.on_detected = on_detected
        rate = SAMPLE_RATE // self.DECIMATION
        self._window = rate * self.ANALYSIS_MS // 1000
        self._history = np.zeros(self._window, dtype=np.float64)
        self._min_lag = int(self.MIN_LAG_S * rate)
        self._max_lag = int(self.MAX_LAG_S * rate)
        self._n_fft = 1 << math.ceil(math.log2(2 * self._window))
        lags = np.arange(self._max_lag + 1)
        self._unbias = self._window / (self._window - lags)  # fewer products at longer lags
        self._taper = np.hanning(self._window)
        self._levels = np.full(max(1, round(floor_window_s * 1000 / BLOCK_MS)), np.inf)
        self._level_index = 0
        self.noise_floor_dbfs = SILENCE_DBFS
        self.score_ms = 0.0
        self._quiet_ms = 0.0  # time left in the cooldown
        self.last: VoiceFeatures | None = None

    def reset(self) -> None:
        self.score_ms = 0.0
        self._history[:] = 0.0
        self._levels[:] = np.inf

    def analyse(self, block: npt.NDArray[np.int16], block_ms: float = BLOCK_MS) -> VoiceFeatures:
        """Features of one block (updates the noise floor and the analysis history)."""
        x = np.asarray(block, dtype=np.float64) / FULL_SCALE
        level = _dbfs(math.sqrt(float(np.dot(x, x)) / max(x.size, 1)) * FULL_SCALE)
        # decimate by block means (a crude low-pass that is enough for a pitch search)
        n = x.size - x.size % self.DECIMATION
        small = x[:n].reshape(-1, self.DECIMATION).mean(axis=1)
        self._history = np.concatenate((self._history[small.size :], small))
        emphasised = np.diff(self._history, prepend=self._history[0]) * self._taper
        spectrum = np.fft.rfft(emphasised, self._n_fft)
        acf = np.fft.irfft(spectrum.real**2 + spectrum.imag**2, self._n_fft)[: self._max_lag + 1]
        acf *= self._unbias
        inner = acf[self._min_lag : -1]
        peaks = inner[(inner >= acf[self._min_lag - 1 : -2]) & (inner >= acf[self._min_lag + 1 :])]
        periodicity = min(1.0, float(np.max(peaks) / acf[0])) if peaks.size and acf[0] > 0 else 0.0
        # noise floor: minimum statistics over the last floor_window_s
        self._levels[self._level_index] = level
        self._level_index = (self._level_index + 1) % self._levels.size
        self.noise_floor_dbfs = float(np.min(self._levels))
        voiced = (
            level >= self.threshold_dbfs
            and level >= self.noise_floor_dbfs + self.margin_db
            and periodicity >= self.periodicity
        )
        self.last = VoiceFeatures(level, self.noise_floor_dbfs, periodicity, voiced)
        return self.last

    def update(self, block: npt.NDArray[np.int16], muted: bool, block_ms: float = BLOCK_MS) -> bool:
        """Feed every captured block (before processing or after: either works); True when the
        "you are speaking while muted" event fires on this block."""
        features = self.analyse(block, block_ms)
        self._quiet_ms = max(0.0, self._quiet_ms - block_ms)
        if not muted:
            self.score_ms = 0.0
            return False
        if features.voiced:
            self.score_ms += block_ms
        else:
            self.score_ms = max(0.0, self.score_ms - self.decay * block_ms)
        if self.score_ms >= self.min_speech_ms and self._quiet_ms <= 0.0:
            self.score_ms = 0.0
            self._quiet_ms = self.cooldown_s * 1000.0
            if self.on_detected is not None:
                self.on_detected()
            return True
        return False


# ---------------------------------------------------------------------------------------------
# a speech-like test signal (no external data)


@dataclass(frozen=True, slots=True)
class _Vowel:
    formants: tuple[float, float, float]
    bandwidths: tuple[float, float, float]


_VOWELS = (  # rough adult formants: /a/, /e/, /i/, /o/, /u/, /ə/
    _Vowel((730.0, 1090.0, 2440.0), (90.0, 110.0, 170.0)),
    _Vowel((530.0, 1840.0, 2480.0), (70.0, 100.0, 160.0)),
    _Vowel((270.0, 2290.0, 3010.0), (60.0, 90.0, 150.0)),
    _Vowel((570.0, 840.0, 2410.0), (80.0, 100.0, 160.0)),
    _Vowel((300.0, 870.0, 2240.0), (60.0, 90.0, 150.0)),
    _Vowel((500.0, 1500.0, 2500.0), (80.0, 100.0, 160.0)),
)


def synthetic_speech(
    duration_s: float,
    *,
    seed: int = 0,
    pitch_hz: float = 120.0,
    level_dbfs: float = -20.0,
    sample_rate: int = SAMPLE_RATE,
    pauses: bool = True,
) -> npt.NDArray[np.float64]:
    """A speech-like float signal (full scale 1.0): syllables of 120–300 ms, each a vowel
    (harmonics of a gliding pitch shaped by three formants) with an optional fricative onset
    (shaped noise), grouped into words and phrases with pauses. Deterministic for a seed.
    The active parts are scaled to ``level_dbfs`` RMS."""
    rng = np.random.default_rng(seed)
    n = int(duration_s * sample_rate)
    # syllable plan: (start, length, vowel, fricative?) with gaps between words / phrases
    env = np.zeros(n)
    f1, f2, f3 = (np.full(n, 500.0) for _ in range(3))
    b1, b2, b3 = (np.full(n, 100.0) for _ in range(3))
    fric = np.zeros(n)
    pos = int(rng.uniform(0.0, 0.1) * sample_rate)
    syllables_in_phrase = 0
    while pos < n:
        length = int(rng.uniform(0.12, 0.30) * sample_rate)
        end = min(n, pos + length)
        vowel = _VOWELS[int(rng.integers(len(_VOWELS)))]
        ramp = np.sin(np.linspace(0.0, np.pi, end - pos)) ** 0.6
        env[pos:end] = ramp * rng.uniform(0.6, 1.0)
        for arr, value in zip(
            (f1, f2, f3, b1, b2, b3), vowel.formants + vowel.bandwidths, strict=True
        ):
            arr[pos:end] = value
        if rng.random() < 0.4:  # a fricative or plosive noise onset
            k = min(end - pos, int(rng.uniform(0.03, 0.08) * sample_rate))
            fric[pos : pos + k] = np.hanning(2 * k)[:k] * rng.uniform(0.2, 0.5)
        pos = end + int(rng.uniform(0.0, 0.05) * sample_rate)  # inside a word
        syllables_in_phrase += 1
        if rng.random() < 0.3:  # word boundary
            pos += int(rng.uniform(0.05, 0.15) * sample_rate)
        if pauses and syllables_in_phrase >= rng.integers(6, 14):  # phrase boundary
            pos += int(rng.uniform(0.3, 0.8) * sample_rate)
            syllables_in_phrase = 0
    # pitch: slow declination per phrase + jitter-free vibrato-like wobble
    t = np.arange(n) / sample_rate
    contour = 1.0 + 0.12 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 2 * np.pi))
    contour *= 1.0 + 0.05 * np.sin(2 * np.pi * 3.1 * t + rng.uniform(0, 2 * np.pi))
    f0 = pitch_hz * contour
    phase = 2.0 * np.pi * np.cumsum(f0) / sample_rate
    voiced = np.zeros(n)
    nyquist_limit = min(5000.0, 0.45 * sample_rate)
    for k in range(1, int(nyquist_limit / (0.8 * pitch_hz)) + 1):
        fk = k * f0
        gain = (
            1.0 / (1.0 + ((fk - f1) / b1) ** 2)
            + 0.5 / (1.0 + ((fk - f2) / b2) ** 2)
            + 0.25 / (1.0 + ((fk - f3) / b3) ** 2)
            + 0.02
        ) / k**0.5  # glottal source tilt
        gain[fk > nyquist_limit] = 0.0
        voiced += gain * np.sin(k * phase)
    noise = rng.standard_normal(n)
    spectrum = np.fft.rfft(noise)
    freqs = np.fft.rfftfreq(n, 1.0 / sample_rate)
    spectrum *= np.exp(-(((freqs - 4500.0) / 2000.0) ** 2))  # hissy band for fricatives
    hiss = np.fft.irfft(spectrum, n)
    hiss /= max(float(np.std(hiss)), 1e-12)
    signal = env * voiced / max(float(np.std(voiced)), 1e-12) + fric * hiss
    active = env > 0.05
    if np.any(active):
        rms = float(np.sqrt(np.mean(signal[active] ** 2)))
        signal *= 10.0 ** (level_dbfs / 20.0) / rms
    return signal


def to_int16(signal: npt.NDArray[np.floating]) -> Int16Block:
    """Float (full scale 1.0) to int16, rounded and clipped."""
    return np.clip(np.round(signal * 32767.0), -32768, 32767).astype(np.int16)
