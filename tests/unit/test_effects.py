"""Background blur: compositing with an injected mask, the fallback prior, the track wrapper."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt
import pytest
from aiortc import MediaStreamTrack

from visio_desktop.media import effects
from visio_desktop.media.effects import (
    BackgroundBlur,
    EffectTrack,
    PortraitPrior,
    TFLiteSelfieSegmenter,
)

W, H = 640, 360
# the "person": a box in the middle of the frame, in frame coordinates
PX0, PY0, PX1, PY1 = 200, 80, 440, 360


def scene() -> av.VideoFrame:
    """A sharp, high-frequency picture everywhere (noise), so blur is easy to measure."""
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
    frame.pts = 1234
    return frame


def box_mask(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    h, w = rgb.shape[:2]
    mask = np.zeros((h, w), np.float32)
    mask[PY0 * h // H:PY1 * h // H, PX0 * w // W:PX1 * w // W] = 1.0
    return mask


def luma(frame: av.VideoFrame) -> npt.NDArray[np.float64]:
    return frame.to_ndarray(format="yuv420p")[: frame.height].astype(np.float64)


def hf_energy(plane: npt.NDArray[np.float64]) -> float:
    return float(np.var(cv2.Laplacian(plane, cv2.CV_64F)))


def psnr(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> float:
    mse = float(np.mean((a - b) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


def test_background_blurred_foreground_kept() -> None:
    frame = scene()
    out = BackgroundBlur(strength=0.6, model=box_mask, smoothing=0.0).apply(frame)
    assert (out.width, out.height, out.format.name) == (W, H, "yuv420p")
    assert out.pts == 1234
    before, after = luma(frame), luma(out)
    margin = 24  # keep away from the soft edge of the mask
    bg = (slice(0, H), slice(0, PX0 - margin))  # the left strip is background
    fg = (slice(PY0 + margin, H), slice(PX0 + margin, PX1 - margin))
    assert hf_energy(after[bg]) < hf_energy(before[bg]) / 20
    assert psnr(after[fg], before[fg]) > 40
    # chroma follows the same mask
    cb, ca = frame.to_ndarray(format="yuv420p")[H:], out.to_ndarray(format="yuv420p")[H:]
    assert not np.array_equal(cb, ca)


def test_stronger_blur_blurs_more() -> None:
    frame = scene()
    bg = (slice(0, H), slice(0, PX0 - 24))
    weak = luma(BackgroundBlur(0.1, model=box_mask).apply(frame))[bg]
    strong = luma(BackgroundBlur(1.0, model=box_mask).apply(frame))[bg]
    assert hf_energy(strong) < hf_energy(weak)


def test_zero_strength_and_other_formats() -> None:
    frame = scene()
    assert BackgroundBlur(0.0, model=box_mask).apply(frame) is frame
    rgb = frame.reformat(format="rgb24")
    out = BackgroundBlur(0.5, model=box_mask).apply(rgb)
    assert (out.width, out.height, out.format.name) == (W, H, "yuv420p")


def test_mask_is_smoothed_over_time() -> None:
    values = iter([1.0, 0.0, 0.0])

    def flicker(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        return np.full(rgb.shape[:2], next(values), np.float32)

    fx = BackgroundBlur(0.5, model=flicker, smoothing=0.5)
    frame = scene()
    data = frame.to_ndarray(format="yuv420p")
    y = data[:H]
    u = data[H:].reshape(-1)[: (W // 2) * (H // 2)].reshape(H // 2, W // 2)
    assert fx.person_mask(y, u, u).mean() == pytest.approx(1.0)
    assert fx.person_mask(y, u, u).mean() == pytest.approx(0.5)
    assert fx.person_mask(y, u, u).mean() == pytest.approx(0.25)
    fx.reset()
    with pytest.raises(ValueError):
        BackgroundBlur(0.5, model=flicker, smoothing=1.0)


def test_model_gets_small_rgb() -> None:
    seen: list[tuple[tuple[int, ...], np.dtype[np.generic]]] = []

    def spy(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        seen.append((rgb.shape, rgb.dtype))
        return np.ones(rgb.shape[:2], np.float32)

    out = BackgroundBlur(0.5, model=spy, mask_size=(256, 144)).apply(scene())
    assert seen == [((144, 256, 3), np.dtype(np.uint8))]
    # an all-person mask keeps the picture
    assert psnr(luma(out), luma(scene())) > 40


def test_portrait_prior() -> None:
    prior = PortraitPrior((256, 144))
    mask = prior(np.zeros((144, 256, 3), np.uint8))
    assert mask.shape == (144, 256) and mask.dtype == np.float32
    assert mask.min() >= 0.0 and mask.max() <= 1.0
    assert mask[60, 128] > 0.9  # the face
    assert mask[5, 5] < 0.05 and mask[5, 250] < 0.05 and mask[100, 5] < 0.05  # corners, side
    out = BackgroundBlur(0.6, model=prior).apply(scene())
    assert (out.width, out.height) == (W, H)


def test_find_model_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    model = tmp_path / "selfie.tflite"
    model.write_bytes(b"not a model")
    monkeypatch.setenv(effects.MODEL_ENV, str(model))
    assert effects.find_model_file() == model
    # an unusable file falls back to the prior, it does not raise
    assert isinstance(effects.default_model(), PortraitPrior)
    monkeypatch.setenv(effects.MODEL_ENV, str(tmp_path / "missing.tflite"))
    assert effects.find_model_file() is None
    assert isinstance(effects.default_model(), PortraitPrior)


@pytest.mark.skipif(effects.find_model_file() is None, reason="no selfie segmentation model here")
def test_real_model_shapes() -> None:
    path = effects.find_model_file()
    assert path is not None
    model = TFLiteSelfieSegmenter(path)
    w, h = model.input_size
    mask = model(np.zeros((h, w, 3), np.uint8))
    assert mask.shape == (h, w) and mask.dtype == np.float32
    assert mask.min() >= 0.0 and mask.max() <= 1.0


class FrameSource(MediaStreamTrack):
    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        self.frame = scene()
        self.stopped = False

    async def recv(self) -> av.VideoFrame:
        return self.frame

    def stop(self) -> None:
        self.stopped = True
        super().stop()


class Boom:
    def apply(self, frame: av.VideoFrame) -> av.VideoFrame:
        raise RuntimeError("boom")


async def test_effect_track() -> None:
    source = FrameSource()
    track = EffectTrack(source)
    assert track.kind == "video"
    assert await track.recv() is source.frame  # off: unchanged
    track.effect = BackgroundBlur(0.6, model=box_mask)
    out = await track.recv()
    assert out is not source.frame
    assert (out.width, out.height, out.pts) == (W, H, 1234)
    track.effect = Boom()
    assert await track.recv() is source.frame  # a failing effect never breaks the call
    track.effect = None
    assert await track.recv() is source.frame
    track.stop()
    assert source.stopped
