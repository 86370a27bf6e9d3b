"""Video effects on the CPU: background blur behind the person. Off by default.

:class:`BackgroundBlur` works on yuv420p frames plane by plane (no colour conversion of the
full picture):

1. the frame is shrunk to the model's size (256x144) and converted to RGB there only;
2. a segmentation model gives a person mask (1 = person) at that size; the mask is smoothed
   over time (exponential average) to stop flicker at the edges, then softened and upscaled;
3. each plane is blurred cheaply (downscale, Gaussian blur, upscale) and blended with the
   sharp plane through the mask by ``cv2.blendLinear`` (no per-pixel Python).

Models. The person model is MediaPipe's selfie segmentation (Apache-2.0), run through OpenCV's
own TFLite importer (``cv2.dnn.readNetFromTFLite``), so no new Python dependency is needed to
*run* it. The model file is found, in this order, at ``$VISIO_SEGMENTATION_MODEL``, or inside an
installed ``mediapipe`` package that still ships it (``mediapipe<=0.10.21``: the file
``mediapipe/modules/selfie_segmentation/selfie_segmentation_landscape.tflite``; the package is
located, never imported). Current ``mediapipe`` releases no longer ship the model, and the old
ones pin ``protobuf<5`` and ``numpy<2`` and pull ``opencv-contrib-python``, so the project cannot
depend on them. Without a model file, :class:`PortraitPrior` is the documented fallback: a fixed,
soft head-and-shoulders silhouette in the centre of the picture (the usual webcam framing), so
the edges and corners are blurred and the centre is kept sharp.

:class:`EffectTrack` wraps a video track and applies an effect in a worker thread; the app only
wraps a track when the user turns the effect on, and ``effect = None`` passes frames unchanged.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol, runtime_checkable

import av
import cv2
import numpy as np
import numpy.typing as npt
from aiortc import MediaStreamTrack

log = logging.getLogger(__name__)

Mask = npt.NDArray[np.float32]
Rgb = npt.NDArray[np.uint8]
#: a bare mask function: RGB uint8 (h, w, 3) at the model size -> float32 (h, w) in [0, 1]
MaskFn = Callable[[Rgb], Mask]

MODEL_ENV = "VISIO_SEGMENTATION_MODEL"
MEDIAPIPE_MODEL = Path("modules", "selfie_segmentation", "selfie_segmentation_landscape.tflite")
DEFAULT_MASK_SIZE = (256, 144)  # (width, height)


@runtime_checkable
class SegmentationModel(Protocol):
    """Gives the person mask of a small RGB picture of ``input_size`` (width, height)."""

    input_size: tuple[int, int]

    def __call__(self, rgb: Rgb) -> Mask: ...


class VideoEffect(Protocol):
    def apply(self, frame: av.VideoFrame) -> av.VideoFrame: ...


class TFLiteSelfieSegmenter:
    """MediaPipe's selfie segmentation (a .tflite file) run by OpenCV's DNN module."""

    def __init__(self, path: str | Path, input_size: tuple[int, int] | None = None) -> None:
        self.path = Path(path)
        self._net = cv2.dnn.readNetFromTFLite(str(self.path))
        if input_size is None:  # the landscape model takes 256x144, the square one 256x256
            input_size = (256, 144) if "landscape" in self.path.name else (256, 256)
        self.input_size = input_size

    def __call__(self, rgb: Rgb) -> Mask:
        blob = (rgb.astype(np.float32) * (1.0 / 255.0)).transpose(2, 0, 1)[np.newaxis]
        self._net.setInput(np.ascontiguousarray(blob))
        out = np.asarray(self._net.forward(), dtype=np.float32).reshape(rgb.shape[:2])
        if out.min() < 0.0 or out.max() > 1.0:  # logits: make them probabilities
            out = 1.0 / (1.0 + np.exp(-out))
        return out


class PortraitPrior:
    """Fallback without a model: a soft head-and-shoulders silhouette, centred low in the frame.

    It does not follow the person; it blurs what usually is background in a webcam picture
    (the sides and the top corners) and keeps the centre sharp.
    """

    def __init__(self, input_size: tuple[int, int] = DEFAULT_MASK_SIZE) -> None:
        self.input_size = input_size
        w, h = input_size
        mask = np.zeros((h, w), np.uint8)
        cx = w // 2
        # head: an ellipse about a third of the height, centred a little above the middle
        cv2.ellipse(mask, (cx, int(h * 0.40)), (int(h * 0.22), int(h * 0.29)), 0, 0, 360, 255, -1)
        # shoulders and chest: a wide half-ellipse from the chin down past the bottom edge
        cv2.ellipse(mask, (cx, h + int(h * 0.10)), (int(w * 0.36), int(h * 0.42)), 0, 180, 360,
                    255, -1)
        sigma = max(1.0, h / 40)
        self._mask = cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), sigma)

    def __call__(self, rgb: Rgb) -> Mask:
        return self._mask


def find_model_file() -> Path | None:
    """The selfie segmentation model on this computer, or None (see the module's doc)."""
    env = os.environ.get(MODEL_ENV)
    if env:
        return Path(env) if Path(env).is_file() else None
    try:
        spec = importlib.util.find_spec("mediapipe")  # locates the package, imports nothing
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidate = Path(location) / MEDIAPIPE_MODEL
            if candidate.is_file():
                return candidate
    return None


def default_model() -> SegmentationModel:
    """The selfie segmentation model when its file is here, else :class:`PortraitPrior`."""
    path = find_model_file()
    if path is not None:
        try:
            return TFLiteSelfieSegmenter(path)
        except cv2.error as exc:
            log.warning("segmentation model %s unusable (%s): using the portrait prior", path, exc)
    else:
        log.info("no segmentation model found: background blur uses the portrait prior")
    return PortraitPrior()


class _FnModel:
    def __init__(self, fn: MaskFn, input_size: tuple[int, int]) -> None:
        self._fn = fn
        self.input_size = input_size

    def __call__(self, rgb: Rgb) -> Mask:
        return self._fn(rgb)


class BackgroundBlur:
    """Blurs what is not the person. ``strength`` in [0, 1] (0: no blur).

    ``model`` is a :class:`SegmentationModel`, a bare mask function (called at ``mask_size``),
    or None for :func:`default_model`. ``smoothing`` in [0, 1) is the share of the previous mask
    kept each frame (0: none).
    """

    def __init__(self, strength: float = 0.6, model: SegmentationModel | MaskFn | None = None,
                 *, smoothing: float = 0.5, mask_size: tuple[int, int] = DEFAULT_MASK_SIZE) -> None:
        if not 0.0 <= smoothing < 1.0:
            raise ValueError("smoothing must be in [0, 1)")
        self.strength = min(1.0, max(0.0, float(strength)))
        self.smoothing = smoothing
        if model is None:
            model = default_model()
        if not isinstance(model, SegmentationModel):
            model = _FnModel(model, mask_size)
        self.model: SegmentationModel = model
        self._mask: Mask | None = None

    def reset(self) -> None:
        """Forget the mask history (after a camera switch or a size change)."""
        self._mask = None

    # -- steps, public for tests and benchmarks
    def person_mask(self, y: npt.NDArray[np.uint8], u: npt.NDArray[np.uint8],
                    v: npt.NDArray[np.uint8]) -> Mask:
        """The time-smoothed person mask at the model size, from the three planes."""
        mw, mh = self.model.input_size
        small = cv2.merge([cv2.resize(p, (mw, mh), interpolation=cv2.INTER_AREA)
                           for p in (y, u, v)])
        rgb = cv2.cvtColor(small, cv2.COLOR_YUV2RGB)
        mask = np.clip(np.asarray(self.model(rgb), dtype=np.float32), 0.0, 1.0)
        if mask.shape != (mh, mw):
            mask = cv2.resize(mask, (mw, mh), interpolation=cv2.INTER_LINEAR)
        if self._mask is not None and self._mask.shape == mask.shape and self.smoothing > 0:
            mask = cv2.addWeighted(self._mask, self.smoothing, mask, 1.0 - self.smoothing, 0.0)
        self._mask = mask
        return mask

    def _blur(self, plane: npt.NDArray[np.uint8], small: tuple[int, int],
              sigma: float) -> npt.NDArray[np.uint8]:
        h, w = plane.shape
        down = cv2.resize(plane, small, interpolation=cv2.INTER_AREA)
        down = cv2.GaussianBlur(down, (0, 0), sigma)
        return cv2.resize(down, (w, h), interpolation=cv2.INTER_LINEAR)

    def apply(self, frame: av.VideoFrame) -> av.VideoFrame:
        if self.strength <= 0.0:
            return frame
        if frame.format.name != "yuv420p":
            frame = frame.reformat(format="yuv420p")
        width, height = frame.width, frame.height
        if width % 2 or height % 2 or width < 16 or height < 16:
            return frame
        data = frame.to_ndarray(format="yuv420p")  # (h * 3 / 2, w): Y, then U, then V
        cw, ch = width // 2, height // 2
        y = data[:height]
        chroma = data[height:].reshape(-1)
        u = chroma[: cw * ch].reshape(ch, cw)
        v = chroma[cw * ch:].reshape(ch, cw)

        mask = self.person_mask(y, u, v)
        mask = cv2.GaussianBlur(mask, (0, 0), 1.0)  # soften the edge before upscaling
        mask_y = cv2.resize(mask, (width, height), interpolation=cv2.INTER_LINEAR)
        mask_c = cv2.resize(mask, (cw, ch), interpolation=cv2.INTER_LINEAR)
        inv_y = 1.0 - mask_y
        inv_c = 1.0 - mask_c

        # the blur is done at a small size (same for all planes), so the cost barely depends on
        # the strength; the radius there grows with it
        small = (max(8, width // 8), max(8, height // 8))
        sigma = 0.5 + 3.5 * self.strength
        out_y = cv2.blendLinear(y, self._blur(y, small, sigma), mask_y, inv_y)
        out_u = cv2.blendLinear(u, self._blur(u, small, sigma), mask_c, inv_c)
        out_v = cv2.blendLinear(v, self._blur(v, small, sigma), mask_c, inv_c)

        out = np.concatenate([out_y.reshape(-1), out_u.reshape(-1), out_v.reshape(-1)])
        result = av.VideoFrame.from_ndarray(out.reshape(height * 3 // 2, width), format="yuv420p")
        result.pts = frame.pts
        if frame.time_base is not None:
            result.time_base = frame.time_base
        return result


class EffectTrack(MediaStreamTrack):
    """A video track that applies ``effect`` to the frames of ``source_track``.

    ``effect`` may be changed or set to None at any time (None: frames pass unchanged). The
    effect runs in one worker thread (OpenCV releases the GIL), in frame order. A failing effect
    is logged once and the frame is sent unchanged: the call goes on.
    """

    kind = "video"

    def __init__(self, source_track: MediaStreamTrack, effect: VideoEffect | None = None) -> None:
        super().__init__()
        self._source_track = source_track
        self.effect = effect
        self.source = getattr(source_track, "source", "camera")
        self._executor: ThreadPoolExecutor | None = None
        self._failed = False

    async def recv(self) -> av.VideoFrame:
        frame = await self._source_track.recv()
        effect = self.effect
        if effect is None:
            return frame
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="video-effect")
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, effect.apply, frame)
        except Exception:
            if not self._failed:
                log.exception("video effect failed: sending frames unchanged")
                self._failed = True
            return frame

    def stop(self) -> None:
        self._source_track.stop()
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None
        super().stop()
