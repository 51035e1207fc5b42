"""The PNG bar chart of a report (``write_png``), without matplotlib: a tiny raster, a 3×5
font and zlib."""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path
from typing import Any

from .plans import MB
from .report import fmt_seconds

# Each glyph: 5 rows of 3 pixels, "1" = ink.
FONT = {
    "A": "010 101 111 101 101",
    "B": "110 101 110 101 110",
    "C": "011 100 100 100 011",
    "D": "110 101 101 101 110",
    "E": "111 100 110 100 111",
    "F": "111 100 110 100 100",
    "G": "011 100 101 101 011",
    "H": "101 101 111 101 101",
    "I": "111 010 010 010 111",
    "J": "001 001 001 101 010",
    "K": "101 101 110 101 101",
    "L": "100 100 100 100 111",
    "M": "101 111 111 101 101",
    "N": "110 101 101 101 101",
    "O": "010 101 101 101 010",
    "P": "110 101 110 100 100",
    "Q": "010 101 101 110 011",
    "R": "110 101 110 101 101",
    "S": "011 100 010 001 110",
    "T": "111 010 010 010 010",
    "U": "101 101 101 101 111",
    "V": "101 101 101 101 010",
    "W": "101 101 111 111 101",
    "X": "101 101 010 101 101",
    "Y": "101 101 010 010 010",
    "Z": "111 001 010 100 111",
    "0": "111 101 101 101 111",
    "1": "010 110 010 010 111",
    "2": "110 001 010 100 111",
    "3": "110 001 010 001 110",
    "4": "101 101 111 001 001",
    "5": "111 100 110 001 110",
    "6": "011 100 111 101 111",
    "7": "111 001 010 010 010",
    "8": "111 101 111 101 111",
    "9": "111 101 111 001 110",
    " ": "000 000 000 000 000",
    ".": "000 000 000 000 010",
    ",": "000 000 000 010 100",
    "-": "000 000 111 000 000",
    "+": "000 010 111 010 000",
    "/": "001 001 010 100 100",
    "(": "010 100 100 100 010",
    ")": "010 001 001 001 010",
    "%": "101 001 010 100 101",
    ":": "000 010 000 010 000",
    "_": "000 000 000 000 111",
    "=": "000 111 000 111 000",
    "'": "010 010 000 000 000",
    "<": "001 010 100 010 001",
    ">": "100 010 001 010 100",
    "?": "110 001 010 000 010",
}
SCALE = 2  # font pixels per glyph pixel
CHAR_W, CHAR_H = 4 * SCALE, 7 * SCALE  # advance and line height


RGB = tuple[int, int, int]


class Canvas:
    def __init__(self, width: int, height: int, bg: RGB = (255, 255, 255)) -> None:
        self.w, self.h = width, height
        self.px = bytearray(bytes(bg) * (width * height))

    def rect(self, x: int, y: int, w: int, h: int, color: RGB) -> None:
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(self.w, x + w), min(self.h, y + h)
        if x1 <= x0 or y1 <= y0:
            return
        row = bytes(color) * (x1 - x0)
        for yy in range(y0, y1):
            i = (yy * self.w + x0) * 3
            self.px[i : i + len(row)] = row

    def text(self, x: int, y: int, s: str, color: RGB = (0, 0, 0)) -> int:
        for ch in s.replace("µ", "u").upper():
            glyph = FONT.get(ch, FONT["?"])
            for gy, bits in enumerate(glyph.split()):
                for gx, bit in enumerate(bits):
                    if bit == "1":
                        self.rect(x + gx * SCALE, y + gy * SCALE, SCALE, SCALE, color)
            x += CHAR_W
        return x

    def png(self) -> bytes:
        stride = self.w * 3
        raw = b"".join(
            b"\x00" + bytes(self.px[y * stride : (y + 1) * stride]) for y in range(self.h)
        )

        def chunk(tag: bytes, data: bytes) -> bytes:
            crc = zlib.crc32(tag + data) & 0xFFFFFFFF
            return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

        header = struct.pack(">IIBBBBB", self.w, self.h, 8, 2, 0, 0, 0)  # 8-bit RGB
        return (
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b"")
        )


COLORS = {"ckv": (214, 96, 26), "baseline": (70, 110, 170), "limit": (150, 150, 150)}


Bar = tuple[str, str, float, str]  # kind, label, value (bar length ∝ value), value text


def chart_panels(report: dict[str, Any]) -> list[tuple[str, list[Bar], float | None]]:
    """Panels of bars: (title, bars, reference line or None)."""
    panels: list[tuple[str, list[Bar], float | None]] = []
    for wl in ("klines", "aggtrades", "cache"):
        bars = []
        for r in report["results"]:
            if r["workload"] != wl or r["kind"] == "limit":
                continue
            if r["name"] in ("ckv.download", "ckv.decode", "ckv.parse"):
                continue  # stages are in the table; the chart compares whole jobs
            if wl == "aggtrades" and r["name"] in ("ckv.cache_hit", "parquet"):
                continue  # reads, not fetches: another scale
            bars.append((r["kind"], r["name"], 1.0 / r["median_s"], fmt_seconds(r["median_s"])))
        bars.sort(key=lambda bar: bar[0] != "ckv")  # ckv first, then the baselines
        if bars:
            panels.append((f"{wl}: speed (1 / median time), longer is faster", bars, None))
    pct = [
        (
            "ckv",
            f"{x['workload']} {x['ckv']} vs {x['limit'].split('/')[-1]}",
            x["pct"],
            f"{x['pct']:.3g}%",
        )
        for x in report["limits_pct"]
        if x["ckv"] in ("ckv.fetch", "ckv.fcp_cold")
    ]
    if pct:
        panels.append(("ckv as % of the machine's limits (line = 100%)", pct, 100.0))
    for r in report["results"]:
        if "peak_rss_bytes" in r["extra"]:
            x, mb = r["extra"], r["bytes"]["table"] / MB
            peak, limit = x["peak_rss_bytes"] / MB, x["rss_limit_bytes"] / MB
            bars = [
                ("ckv", "peak rss, cold month", peak, f"{peak:,.0f} MB"),
                ("baseline", "returned table", mb, f"{mb:,.0f} MB"),
            ]
            panels.append(("rss: peak RSS (line = 1.5 x table + 200 MB)", bars, limit))
    return panels


def write_png(report: dict[str, Any], path: str | os.PathLike[str]) -> tuple[int, int]:
    """Draw the report's bar chart to ``path`` as a PNG; returns (width, height)."""
    panels = chart_panels(report)
    pad, label_w, bar_w, value_w = 16, 34 * CHAR_W, 420, 12 * CHAR_W
    bar_h, gap = CHAR_H, 4
    width = pad + label_w + bar_w + value_w + pad
    height = pad + 4 * CHAR_H + sum(2 * CHAR_H + len(b) * (bar_h + gap) + pad for _, b, _ in panels)
    c = Canvas(width, height)
    b = report["build"]
    title = f"ckv bench {report['workload']}: median of {report['repeat']}, ckv {b['ckv']}, "
    c.text(pad, pad, title + f"{b['cpus_usable']} cpus", (0, 0, 0))
    x = pad
    for kind in ("ckv", "baseline"):  # the legend
        c.rect(x, pad + 2 * CHAR_H, CHAR_H, CHAR_H - 2, COLORS[kind])
        x = c.text(x + CHAR_H + 6, pad + 2 * CHAR_H, kind, (0, 0, 0)) + 3 * CHAR_W
    y = pad + 4 * CHAR_H
    for title, bars, line in panels:
        c.text(pad, y, title, (40, 40, 40))
        y += 2 * CHAR_H
        top = max([v for _, _, v, _ in bars] + [line or 0.0]) or 1.0
        x0, y0 = pad + label_w, y
        line_x = x0 + round(bar_w * line / top) if line is not None else x0
        for kind, label, value, text in bars:
            c.text(pad, y, label[:33], (0, 0, 0))
            length = max(2, round(bar_w * value / top))
            c.rect(x0, y, length, bar_h - 2, COLORS[kind])
            tx = x0 + length + 6
            if line is not None and tx - 6 <= line_x < tx + len(text) * CHAR_W:
                tx = line_x + 6  # keep the value clear of the reference line
            c.text(tx, y, text, (0, 0, 0))
            y += bar_h + gap
        if line is not None:
            c.rect(line_x, y0, 1, y - y0, (0, 0, 0))
        y += pad
    Path(path).write_bytes(c.png())
    return c.w, c.h
