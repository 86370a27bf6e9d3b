"""Removing our own playback from a capture of the computer's sound.

When a screen is shared with the computer's sound, the capture (a PulseAudio/PipeWire monitor,
WASAPI loopback) carries everything the output plays — including the other participants'
voices that our :class:`~.audio_io.SpeakerMixer` plays. Sent back, they would hear themselves
100-300 ms late. The operating system cannot leave one application out on Linux (a monitor is
the whole mix) and PortAudio offers no process-excluding loopback on Windows, so
:class:`PlaybackCanceller` subtracts it: it knows exactly what we played (the samples the
speaker stream handed to the device, fed through :meth:`PlaybackCanceller.feed_reference`), and
the echo path from there to the capture is linear and digital (a delay, the stream's volume, and
a resampler when the output runs at another rate), so it is estimated and cancelled, not merely
suppressed: music or a video's sound in the capture passes through unchanged.

How:

* **Delay**: every half second, the last second of capture (down-mixed) is cross-correlated
  (FFT, phase transform: loud tonal music does not drown broadband voices) with the last
  ``max_delay_ms`` + 1 s of reference; a peak ``MIN_PEAK_RATIO`` times above the correlation's
  noise floor gives the offset between the two sample counters (the reference index of a
  captured sample). It holds while both streams are continuous; a jump (a stream reopened) is
  found again by the next estimates, and the filter goes on at the new delay.
* **Echo path**: with the offset known, the cross- and auto-spectra of reference and capture
  (Welch, 1024-point Hann segments) are averaged over time, per capture channel; their ratio is
  the transfer function, shrunk where other sound makes it uncertain (by its expected error),
  turned into a ``TAPS``-long FIR that starts ``PRE`` samples before the delay (a resampler's
  filter is not causal around it).
* **Safety**: each estimate is checked on the window it came from: a right one removes from
  the capture about as much energy as it subtracts (the rest of the capture is unrelated to our
  playback), a wrong one adds it; then nothing is subtracted (the capture passes through
  untouched). Under much louder sound, where that cannot be measured, a sharp correlation
  peak at the delay vouches for the estimate. A new delay replaces one that works only when
  two estimates agree; while nothing is played, the filter stays as it is.

Measured (tests/unit/test_playback_canceller.py, tests/test_playback_cancel_e2e.py): 33-36 dB
of our playback removed with other sound as loud as it, 34 dB through a 44.1 kHz output, 23 dB
under music 15 dB louder, 17 dB under music 25 dB louder; 28-30 dB on a real PulseAudio null
sink, the other sound kept to 0.1 dB. About 5 % of one core while active (an estimate: 15 ms
every 0.5 s on the event loop).

Threads: :meth:`feed_reference` runs on the audio device's thread (a ring write);
:meth:`process` on the track's event loop.
"""

from __future__ import annotations

import logging

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

RATE = 48000
SEGMENT = 1024  # Welch segment (and FFT size) of the transfer estimate
TAPS = 160  # FIR length of the echo path (a delay, a gain, maybe a resampler's filter)
PRE = 32  # taps before the estimated delay
DECAY = 0.9  # weight of the spectra so far at each estimate
WINDOW = RATE  # capture analysed per estimate (1 s)
EVERY = RATE // 2  # samples of capture between estimates
MIN_PEAK_RATIO = 40.0  # correlation peak / noise floor (robust sigma)
MIN_REFERENCE_RMS = 30.0  # int16 units (about -60 dBFS): quieter reference, no estimate

Int16 = npt.NDArray[np.int16]
Float = npt.NDArray[np.float64]


class _Ring:
    """Float samples addressed by absolute index (one writer; readers ask for recent spans)."""

    def __init__(self, channels: int, capacity: int) -> None:
        self.capacity = capacity
        self.buf = np.zeros((channels, capacity), np.float32)
        self.written = 0

    def write(self, block: npt.NDArray[np.floating] | Int16, at: int | None = None) -> None:
        """Writes ``block`` (channels x n) at index ``at`` (default: the end); a gap is zeroed."""
        at = self.written if at is None else at
        if at > self.written:
            self._put(np.zeros((self.buf.shape[0], min(at - self.written, self.capacity))),
                      max(self.written, at - self.capacity))
        self._put(block, at)
        self.written = at + block.shape[1]

    def _put(self, block: npt.NDArray[np.floating] | Int16, at: int) -> None:
        n = block.shape[1]
        if n > self.capacity:
            block, at, n = block[:, -self.capacity:], at + n - self.capacity, self.capacity
        start = at % self.capacity
        first = min(n, self.capacity - start)
        self.buf[:, start:start + first] = block[:, :first]
        if first < n:
            self.buf[:, :n - first] = block[:, first:]

    def span(self, start: int, n: int) -> npt.NDArray[np.float32]:
        """Samples ``[start, start + n)``; what is not held (too old or not yet written) is 0."""
        out = np.zeros((self.buf.shape[0], n), np.float32)
        written = self.written
        lo, hi = max(start, written - self.capacity), min(start + n, written)
        if hi <= lo:
            return out
        idx = np.arange(lo, hi) % self.capacity
        out[:, lo - start:hi - start] = self.buf[:, idx]
        return out


class PlaybackCanceller:
    """Subtracts what we played (the reference) from a capture of the computer's sound."""

    def __init__(self, channels: int, *, max_delay_ms: int = 600) -> None:
        self.channels = channels
        self.max_delay = RATE * max_delay_ms // 1000
        history = WINDOW + self.max_delay + SEGMENT + TAPS
        self._ref = _Ring(1, history + RATE)  # written by the device thread: keep slack
        self._cap = _Ring(channels, WINDOW + SEGMENT)
        self.offset: int | None = None  # reference index of capture index 0
        self.erle_db: float | None = None
        self.peak_ratio = 0.0  # of the last delay search
        self.estimates = 0
        self._fir: Float | None = None  # (channels, TAPS): the filter subtracted now
        self._path: Float | None = None  # the last filter that proved right
        # (cross, reference, capture) power spectra averaged over time, and their weight
        self._spectra: tuple[npt.NDArray[np.complex128], Float, Float, float] | None = None
        self._since_estimate = 0
        self._candidate: int | None = None
        self._settled_at = 0  # capture index from which the offset holds
        self._window = np.hanning(SEGMENT)

    @property
    def active(self) -> bool:
        """True while an echo path is known and subtracted."""
        return self._fir is not None

    def feed_reference(self, played: Int16 | npt.NDArray[np.floating]) -> None:
        """What the speaker stream handed the device (mono, 48 kHz), in order, without gaps."""
        self._ref.write(np.asarray(played, np.float32).reshape(1, -1))

    def process(self, frame: Int16, index: int) -> Int16:
        """Removes our playback from ``frame`` (interleaved int16, ``channels`` wide) in place;
        ``index`` is the capture-sample index of its first sample (per channel)."""
        planar = frame.reshape(-1, self.channels).T.astype(np.float32)
        self._cap.write(planar, index)
        self._since_estimate += planar.shape[1]
        if self._since_estimate >= EVERY and self._cap.written >= WINDOW:
            self._since_estimate = 0
            try:
                self._estimate()
            except (ValueError, FloatingPointError) as exc:  # never break the share
                log.warning("playback canceller estimate failed: %s", exc)
                self._forget()
        if self._fir is not None and self.offset is not None:
            echo = self._echo(index, planar.shape[1])
            out = np.clip(np.round(planar - echo), -32768, 32767).astype(np.int16)
            frame[:] = out.T.reshape(-1)
        return frame

    # -- estimation

    def _forget(self) -> None:
        self.offset, self._fir, self._path, self._spectra = None, None, None, None

    def _estimate(self) -> None:
        end = self._cap.written
        capture = self._cap.span(end - WINDOW, WINDOW).astype(np.float64)
        ref_end = self._ref.written
        if ref_end < WINDOW:
            return
        found = self._find_offset(capture.mean(axis=0), end, ref_end)
        self._follow(found, end)
        if self.offset is None:
            return
        # the reference aligned on the capture (for the spectra), and from PRE before (filter)
        reference = self._ref.span(end - WINDOW + self.offset - TAPS + PRE + 1,
                                   WINDOW + TAPS - 1)[0].astype(np.float64)
        aligned = reference[TAPS - 1 - PRE:TAPS - 1 - PRE + WINDOW]
        if np.sqrt(np.mean(aligned ** 2)) < MIN_REFERENCE_RMS:
            return  # nothing was played: nothing to learn, the filter stays as it is
        if self._candidate is not None or end - WINDOW < self._settled_at:
            # this window may hold a jump: learn nothing from it, but judge the filter in use
            # on the newest half second (after the jump)
            if self._fir is not None and self._judge(self._fir, capture, reference,
                                                     WINDOW - EVERY) is False:
                self._fir = None
            return
        confirmed = found == self.offset  # a sharp correlation peak at this delay, just now
        self._accumulate(capture, aligned)
        fir = self._fir_from_spectra()
        self.estimates += 1
        verdict = self._judge(fir, capture, reference, 0)
        # under much louder sound, where the filter's effect cannot be measured, a sharp
        # correlation peak at this delay vouches for it
        if verdict is False:
            self._fir = self._path = None
        elif verdict or confirmed or self._fir is not None:
            self._fir = self._path = fir

    def _judge(self, fir: Float, capture: Float, reference: Float, start: int) -> bool | None:
        """Whether ``fir`` removes our playback from ``capture[:, start:]``: a right filter
        removes about as much energy as it subtracts (the rest of the capture is unrelated to
        our playback), a wrong one adds it. None when our playback is too faint there to
        tell."""
        echo = np.stack([_convolve(reference, fir[c])[TAPS - 1 + start:TAPS - 1 + WINDOW]
                         for c in range(self.channels)])
        part = capture[:, start:]
        e_capture = float(np.sum(part ** 2))
        e_residual = float(np.sum((part - echo) ** 2))
        self.erle_db = _db(e_capture, e_residual)
        if float(np.sum(echo ** 2)) < 0.01 * e_capture:
            return None
        return e_residual < e_capture

    def _follow(self, found: int | None, end: int) -> None:
        """Takes a new offset at once when none works yet or its peak is overwhelming, else
        when two estimates agree; meanwhile nothing is subtracted (at the old delay it would
        add our playback, not remove it). The spectra were measured relative to the offset, so
        a filter that worked still describes the path after a jump (a stream restarted): it
        goes on at the new delay, and nothing is learnt from windows holding the jump."""
        if found is None or found == self.offset:
            if self._candidate is not None:  # a false alarm: carry on
                self._candidate, self._fir = None, self._path
            return
        overwhelming = self.peak_ratio >= 4 * MIN_PEAK_RATIO
        if (self.offset is not None and self._path is not None and not overwhelming
                and found != self._candidate):
            self._candidate, self._fir = found, None
            return
        if self.offset is not None:
            log.info("playback canceller: delay moved by %d samples", found - self.offset)
            self._settled_at = end
        if self._path is None:
            self._spectra = None
        self.offset, self._candidate, self._fir = found, None, self._path

    def _find_offset(self, capture: Float, end: int, ref_end: int) -> int | None:
        """The reference index of capture index 0, from the correlation peak, or None."""
        span = WINDOW + self.max_delay
        reference = self._ref.span(ref_end - span, span)[0].astype(np.float64)
        if np.sqrt(np.mean(reference ** 2)) < MIN_REFERENCE_RMS:
            return None
        n = 1 << (span + WINDOW - 1).bit_length()
        cross = np.conj(np.fft.rfft(capture, n)) * np.fft.rfft(reference, n)
        # phase transform (GCC-PHAT): every frequency counts the same, so loud tonal sound in
        # the capture (music) does not drown the broadband voices we played
        magnitude = np.abs(cross)
        cross /= magnitude + 1e-3 * float(np.mean(magnitude)) + 1e-12
        corr = np.abs(np.fft.irfft(cross, n)[:self.max_delay + 1])
        lag = int(np.argmax(corr))
        # a real echo is a sharp peak far above the correlation's noise floor
        noise = 1.4826 * float(np.median(corr)) + 1e-12
        self.peak_ratio = float(corr[lag]) / noise
        if self.peak_ratio < MIN_PEAK_RATIO:
            return None
        # capture[end - WINDOW + i] matches reference[ref_end - span + lag + i]
        return ref_end - span + lag - (end - WINDOW)

    def _accumulate(self, capture: Float, reference: Float) -> None:
        hop = SEGMENT // 2
        starts = range(0, WINDOW - SEGMENT + 1, hop)
        r = np.fft.rfft(np.stack([reference[s:s + SEGMENT] for s in starts]) * self._window)
        c = np.fft.rfft(np.stack([capture[:, s:s + SEGMENT] for s in starts]) * self._window,
                        axis=-1)  # (segments, channels, bins)
        spectra = (np.sum(c * np.conj(r)[:, None, :], axis=0),  # cross
                   np.sum(np.abs(r) ** 2, axis=0),  # reference
                   np.sum(np.abs(c) ** 2, axis=0),  # capture
                   float(len(starts)) / 2)  # independent segments (Hann, half overlap)
        if self._spectra is None:
            self._spectra = spectra
        else:  # average over time: other sounds in the capture cancel out
            self._spectra = tuple(DECAY * old + new  # type: ignore[assignment]
                                  for old, new in zip(self._spectra, spectra, strict=True))

    def _fir_from_spectra(self) -> Float:
        assert self._spectra is not None
        s_cr, s_rr, s_cc, segments = self._spectra
        floor = 1e-3 * float(np.mean(s_rr)) + 1e-9
        h = s_cr / (s_rr + floor)
        # where other sound is much louder than our playback (a note of music), the estimate
        # is noisy: shrink it by its expected error (what subtracting it would add there)
        other = np.maximum(s_cc - np.abs(s_cr) ** 2 / (s_rr + floor), 0.0)
        error = other / (segments * (s_rr + floor))
        power = np.abs(h) ** 2
        h *= power / (power + error + 1e-12)
        # the path around the delay: the response from PRE samples before it (a resampler's
        # filter is not causal around it; those taps wrapped to the end) to TAPS - PRE after;
        # keeping only these taps also drops most of the estimate's noise
        response = np.fft.irfft(h, SEGMENT)
        fir = np.concatenate([response[:, SEGMENT - PRE:], response[:, :TAPS - PRE]], axis=1)
        taper = np.hanning(2 * PRE)
        fir[:, :PRE // 2] *= taper[:PRE // 2]
        fir[:, TAPS - PRE // 2:] *= taper[-(PRE // 2):]
        return np.asarray(fir)

    # -- cancelling

    def _echo(self, index: int, n: int) -> npt.NDArray[np.float32]:
        assert self._fir is not None and self.offset is not None
        reference = self._ref.span(index + self.offset + PRE - TAPS + 1, n + TAPS - 1)[0]
        ref64 = reference.astype(np.float64)
        return np.stack([_convolve(ref64, self._fir[c])[TAPS - 1:TAPS - 1 + n]
                         for c in range(self.channels)]).astype(np.float32)


def _convolve(x: Float, h: Float) -> Float:
    """The full linear convolution of ``x`` and ``h``, through the FFT."""
    n = x.shape[0] + h.shape[0] - 1
    size = 1 << (n - 1).bit_length()
    return np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(h, size), size)[:n]


def _db(before: float, after: float) -> float:
    return float(10.0 * np.log10(max(before, 1e-9) / max(after, 1e-9)))
