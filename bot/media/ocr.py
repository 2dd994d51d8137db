"""Reading the text in a picture, offline: RapidOCR (PP-OCRv4 detection and recognition, ONNX Runtime).

The models ship inside the `rapidocr-onnxruntime` wheel; nothing is downloaded at run time. The engine
is loaded once per process, lazily on the first picture or at start-up (FUNDGUARD_OCR=startup), and
every reading runs in one worker thread of its own, one at a time per process: memory stays bounded.
Pictures are shrunk to `max_side` pixels on their longer side before reading.
"""

from __future__ import annotations

import io
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from bot.cpus import every_cpu
from bot.media.images import ImageRejected, check_image

log = logging.getLogger(__name__)
MAX_SIDE = 1600
MIN_SCORE = 0.5          # recognitions the model itself doubts are dropped
_LOADED: dict[int, Any] = {}  # one RapidOCR per thread count, shared by every reader in the process
_LOAD_LOCK = threading.Lock()
_READ_LOCK = threading.Lock()  # one reading at a time per process: bounded memory and CPU
# One thread of its own for every reading: the same thread keeps reusing its memory (readings spread over the
# default executor's threads each grew a malloc arena of their own: +300 MB at peak instead of about +130 MB).
_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ocr")


class ImageReader(Protocol):
    def read(self, image: bytes) -> str: ...


class RapidOcrReader:
    def __init__(self, *, max_side: int = MAX_SIDE, threads: int = 1, min_score: float = MIN_SCORE) -> None:
        self.max_side = max_side
        self.threads = threads
        self.min_score = min_score
        self._engine: Any = None
        self._failed = False
        self._lock = _READ_LOCK

    def load(self) -> bool:
        """Load the models (once). False when the package is missing or broken: pictures are then not read."""
        with self._lock:
            return self._load()

    def _load(self) -> bool:
        if self._engine is None and not self._failed:
            try:
                self._engine = _rapidocr(self.threads)
            except Exception as exc:  # ImportError, or a model file that does not load
                self._failed = True
                log.error("ocr unavailable", extra={"error_type": type(exc).__name__})
        return self._engine is not None

    def read(self, image: bytes) -> str:
        """Read in the OCR thread (its memory is reused), the calling turn's thread waiting for it."""
        return _THREAD.submit(self.read_sync, image).result()

    def read_sync(self, image: bytes) -> str:
        """The text, line by line in reading order; "" when there is none or the bytes are no picture."""
        try:
            check_image(image)
            pixels = _pixels(image, self.max_side)
        except ImageRejected as exc:
            log.info("image not read", extra={"status": exc.status})
            return ""
        with self._lock:
            if not self._load():
                return ""
            result, _ = self._engine(pixels)
        lines = [(box, str(text)) for box, text, score in (result or []) if float(score) >= self.min_score]
        return "\n".join(_reading_order(lines))


def _rapidocr(threads: int) -> Any:
    with _LOAD_LOCK:
        if threads not in _LOADED:
            from rapidocr_onnxruntime import RapidOCR

            with every_cpu():  # ONNX Runtime's own threads are not held to a pinned turn thread's CPU
                _LOADED[threads] = RapidOCR(det_limit_type="max", det_limit_side_len=960, print_verbose=False,
                                            intra_op_num_threads=threads, inter_op_num_threads=1)
        return _LOADED[threads]


def _pixels(image: bytes, max_side: int) -> Any:
    """RGB pixels as a BGR array (what RapidOCR takes), turned upright and shrunk to `max_side`."""
    import numpy as np
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(image)) as img:
        img.seek(0)  # the first frame of a GIF
        upright = ImageOps.exif_transpose(img).convert("RGB")
    upright.thumbnail((max_side, max_side))
    return np.asarray(upright)[:, :, ::-1].copy()


def _reading_order(lines: list[tuple[Any, str]]) -> list[str]:
    """Rows top to bottom; boxes on one row (vertical centres within half a line) left to right, spaced."""
    def key(item: tuple[Any, str]) -> tuple[float, float]:
        box = item[0]
        ys = [p[1] for p in box]
        return (min(ys) + max(ys)) / 2, min(p[0] for p in box)

    ordered = sorted(lines, key=key)
    rows: list[list[tuple[Any, str]]] = []
    for item in ordered:
        centre, height = key(item)[0], max(p[1] for p in item[0]) - min(p[1] for p in item[0])
        if rows and abs(key(rows[-1][0])[0] - centre) < height / 2:
            rows[-1].append(item)
        else:
            rows.append([item])
    return [" ".join(text for _, text in sorted(row, key=lambda it: min(p[0] for p in it[0]))) for row in rows]
