"""OCR of pictures outside a tip: accuracy and cost on pictures rendered from our own pitch texts.

    .venv/bin/python bench/ocr.py                 # all 48 texts, one layout each (cycled), 1 ORT thread
    .venv/bin/python bench/ocr.py --limit 12 --threads 1
    .venv/bin/python bench/ocr.py --server 20      # and: `fundguard serve` with FUNDGUARD_OCR=off vs lazy

Each text of bench/ocr_texts.py (26 risky, 22 ordinary) is rendered with a CJK font (Noto Sans CJK or
WenQuanYi Zen Hei) in one of six layouts: a printed flyer, a red poster, a phone screenshot of a chat,
small print, a grey low-contrast notice, and a photo taken at an angle (perspective, blur, noise, JPEG).
Every picture is read by bot.media.ocr.RapidOcrReader, exactly as the server reads it. Printed:
character error rate (edit distance over the typed text's length, whitespace ignored), flag agreement
(RiskChecker.analyse on the typed text and on the reading: same flag set; same risky-or-not verdict),
milliseconds per picture (p50 / p99), and the memory the reader adds to a process (RSS before loading,
after loading, after all pictures). Nothing is downloaded: the models come from the wheel.
With --server N, two real servers (one uvicorn worker each, FUNDGUARD_OCR=off, then lazy) are sent the
first N pictures through POST /api/chat/image; their peak RSS and the HTTP time per picture are printed.
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.ocr_texts import LEGIT, RISKY  # noqa: E402
from bot.media.ocr import RapidOcrReader  # noqa: E402
from bot.riskcheck.check import RiskChecker  # noqa: E402
from tests.fakes.pictures import cjk_font  # noqa: E402


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _text_block(img: Image.Image, lines: list[str], size: int, colour: tuple, x: int, y: int,
                gap: float = 1.7) -> None:
    draw, font = ImageDraw.Draw(img), cjk_font(size)
    for i, line in enumerate(lines):
        draw.text((x, y + int(i * size * gap)), line, font=font, fill=colour)


def flyer(lines: list[str], rnd: random.Random) -> Image.Image:
    size = rnd.randint(30, 44)
    img = Image.new("RGB", (size * 15, int(size * (len(lines) * 1.7 + 3))), (252, 250, 240))
    _text_block(img, lines, size, (25, 25, 25), size, size)
    return img


def poster(lines: list[str], rnd: random.Random) -> Image.Image:
    size = rnd.randint(36, 52)
    img = Image.new("RGB", (size * 14, int(size * (len(lines) * 1.8 + 3))), (200, 20, 30))
    _text_block(img, lines, size, (255, 225, 60), size, size, gap=1.8)
    return img


def screenshot(lines: list[str], rnd: random.Random) -> Image.Image:
    """A phone chat: status bar, a bubble per line beside an avatar, on WeChat's grey."""
    width, size = 750, rnd.randint(26, 32)
    img = Image.new("RGB", (width, 200 + len(lines) * (size * 3)), (237, 237, 237))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, width, 90), fill=(247, 247, 247))
    for i, line in enumerate(lines):
        top = 120 + i * size * 3
        draw.rectangle((24, top, 24 + 64, top + 64), fill=(90, 140, 200))  # avatar
        right = 112 + int(draw.textlength(line, font=cjk_font(size))) + 40
        draw.rounded_rectangle((104, top, min(right, width - 24), top + size + 36), radius=10, fill=(255, 255, 255))
        _text_block(img, [line], size, (20, 20, 20), 124, top + 16)
    return img


def small_print(lines: list[str], rnd: random.Random) -> Image.Image:
    size = rnd.randint(16, 19)
    img = Image.new("RGB", (size * 20, int(size * (len(lines) * 1.6 + 3))), (255, 255, 255))
    _text_block(img, lines, size, (40, 40, 40), size, size, gap=1.6)
    return img


def grey_notice(lines: list[str], rnd: random.Random) -> Image.Image:
    size = rnd.randint(28, 36)
    img = Image.new("RGB", (size * 15, int(size * (len(lines) * 1.7 + 3))), (190, 190, 185))
    _text_block(img, lines, size, (95, 95, 95), size, size)
    return img


def photo(lines: list[str], rnd: random.Random) -> Image.Image:
    """The flyer photographed: on a desk, turned, out of square, in a shadow, soft, grainy."""
    paper = flyer(lines, rnd)
    desk = Image.new("RGB", (paper.width + 200, paper.height + 200), (120, 95, 70))
    desk.paste(paper, (100, 100))
    desk = desk.rotate(rnd.uniform(-14, 14), resample=Image.BICUBIC, expand=False, fillcolor=(120, 95, 70))
    w, h = desk.size
    d = [rnd.randint(0, 40) for _ in range(4)]
    desk = desk.transform((w, h), Image.QUAD, (d[0], d[1], d[2], h - d[3], w - d[1], h - d[0], w - d[3], d[2]),
                          resample=Image.BICUBIC)
    desk = desk.filter(ImageFilter.GaussianBlur(rnd.uniform(0.6, 1.3)))
    shade = np.linspace(1.0, rnd.uniform(0.55, 0.8), w)[None, :, None]  # a shadow across the page
    grain = np.random.default_rng(rnd.randint(0, 9999)).normal(0, 16, (h, w, 3))
    noisy = np.asarray(desk).astype(np.float32) * shade + grain
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


LAYOUTS = {"flyer": flyer, "poster": poster, "screenshot": screenshot, "small": small_print, "grey": grey_notice,
           "photo": photo}


def encode(img: Image.Image, layout: str) -> bytes:
    buf = io.BytesIO()
    if layout in ("photo", "poster"):
        img.save(buf, "JPEG", quality=70)
    else:
        img.save(buf, "PNG")
    return buf.getvalue()


def distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def squash(text: str) -> str:
    return "".join(text.split())


def server_memory(pictures: list[bytes]) -> None:
    """Peak RSS of `fundguard serve` without and with OCR, each sent the same pictures over HTTP."""
    import httpx

    from bench._common import Server

    peaks = {}
    for mode in ("off", "lazy"):
        with tempfile.TemporaryDirectory() as data:
            server = Server({"FUNDGUARD_DATA_DIR": data, "FUNDGUARD_OCR": mode, "FUNDGUARD_LOG_LEVEL": "WARNING"})
            try:
                server.wait_ready()
                idle, times = server.rss() / 2**20, []
                for i, png in enumerate(pictures):
                    t0 = time.perf_counter()
                    res = httpx.post(server.url + "/api/chat/image", data={"user": f"bench{i}"},
                                     files={"image": ("p.png", png, "image/png")}, timeout=60)
                    times.append((time.perf_counter() - t0) * 1000)
                    assert res.status_code == 200, res.text
                time.sleep(0.3)
                peaks[mode] = server.peak_rss / 2**20
                print(f"server FUNDGUARD_OCR={mode}: RSS idle {idle:.0f} MB, peak {peaks[mode]:.0f} MB; "
                      f"HTTP ms per picture p50 {statistics.median(times):.0f}, max {max(times):.0f}")
            finally:
                server.stop()
    print(f"memory added to the server by OCR: {peaks['lazy'] - peaks['off']:+.0f} MB at peak "
          f"({len(pictures)} pictures)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=0, help="only the first N texts (0: all)")
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime threads (the server default: 1)")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--server", type=int, default=0, help="also measure two real servers with N pictures")
    args = parser.parse_args()
    rnd = random.Random(args.seed)
    texts = [(True, t) for t in RISKY] + [(False, t) for t in LEGIT]
    rnd.shuffle(texts)
    texts = texts[: args.limit or None]
    checker = RiskChecker.from_file(REPO / "content" / "red_flags.yaml")
    pictures = [(risky, lines, name, encode(LAYOUTS[name](lines, rnd), name))
                for (risky, lines), name in zip(texts, [*LAYOUTS] * len(texts), strict=False)]

    reader = RapidOcrReader(threads=args.threads)
    before = rss_mb()
    started = time.perf_counter()
    assert reader.load(), "rapidocr-onnxruntime is not installed"
    load_s, loaded = time.perf_counter() - started, rss_mb()

    rows, times, errors, chars = [], [], 0, 0
    by_layout: dict[str, list[float]] = {}
    same_flags = same_verdict = 0
    for risky, lines, layout, data in pictures:
        typed = "".join(lines)
        t0 = time.perf_counter()
        read = reader.read_sync(data)
        times.append((time.perf_counter() - t0) * 1000)
        e = distance(squash(typed), squash(read))
        errors, chars = errors + e, chars + len(squash(typed))
        by_layout.setdefault(layout, []).append(e / len(squash(typed)))
        want, got = set(checker.analyse("\n".join(lines)).flag_ids), set(checker.analyse(read).flag_ids)
        same_flags += want == got
        same_verdict += bool(want) == bool(got)
        rows.append((layout, risky, e, sorted(want ^ got), read.replace("\n", " / ")))
    after = rss_mb()

    n = len(pictures)
    times.sort()
    p99 = times[min(n - 1, int(round(0.99 * (n - 1))))]
    print(f"pictures: {n} ({sum(r for r, *_ in pictures)} risky), layouts: {', '.join(LAYOUTS)}")
    print(f"character error rate: {errors / chars:.2%} ({errors} edits over {chars} characters)")
    for layout, cers in by_layout.items():
        print(f"  {layout:<11} CER {statistics.mean(cers):.2%} over {len(cers)} pictures")
    print(f"flag agreement: same flag set {same_flags}/{n} ({same_flags / n:.0%}); "
          f"same verdict (any flag or none) {same_verdict}/{n} ({same_verdict / n:.0%})")
    for layout, risky, e, diff, read in rows:
        if diff:
            print(f"  differs: {layout} {'risky' if risky else 'legit'} edits={e} flags {diff}: read “{read}”")
    print(f"ms per picture: p50 {statistics.median(times):.0f}, p99 {p99:.0f}, max {times[-1]:.0f} "
          f"(threads={args.threads})")
    print(f"memory: RSS {before:.0f} MB before loading, +{loaded - before:.0f} MB loaded ({load_s:.1f} s), "
          f"+{after - before:.0f} MB after {n} pictures")
    if args.server:
        server_memory([data for *_, data in pictures[: args.server]])


if __name__ == "__main__":
    main()
