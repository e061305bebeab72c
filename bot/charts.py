"""Chart images for the digests (SPEC §7): matplotlib's object API on the Agg canvas, to PNG bytes.

No pyplot: a `Figure` with its own `FigureCanvasAgg`, so nothing touches matplotlib's global
state and a chart can be drawn in a worker thread while the bot runs. Every piece of text is
drawn in one font chosen by `font_for`, which returns a font only when it has a glyph for every
character to be drawn. Chinese labels therefore need a CJK font installed (Debian:
fonts-noto-cjk); without one the caller sends its numbers without the picture, never a chart
with boxes where the characters should be. matplotlib's bundled "Last Resort" font maps every
code point to a box, so it is never a candidate.

matplotlib is imported where a chart is drawn or a font looked for (in a worker thread: the digest
calls both through `asyncio.to_thread`), not when the bot starts: it was 0.8 s of the 2 s every
start of the bot took, for a picture sent once a week.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Final

# Fonts with the Chinese characters, in order of preference; the first installed one that covers
# the text is used. Noto Sans CJK is a collection whose first face matplotlib lists as "JP": its
# glyphs cover simplified Chinese as well.
CJK_FONTS: Final = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "Noto Sans CJK JP",
    "Noto Sans CJK TC", "Noto Sans CJK KR", "Noto Sans CJK", "Source Han Sans", "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", "Heiti SC", "SimHei", "Droid Sans Fallback",
    "AR PL UMing CN", "AR PL UKai CN", "Noto Serif CJK SC", "Source Han Serif SC", "SimSun",
)
LATIN_FONTS: Final = ("DejaVu Sans",)  # bundled with matplotlib: enough when no label is Chinese
NEVER: Final = ("Last Resort",)  # a box for every code point


@dataclass(frozen=True)
class Series:
    """One colour of a stacked bar: its legend label and a value per category."""

    label: str
    values: Sequence[int]
    color: str


def font_for(text: str, candidates: Sequence[str] = CJK_FONTS + LATIN_FONTS) -> str | None:
    """The first installed font of `candidates` with a glyph for every character of `text`; None if none has."""
    needed = {ord(ch) for ch in text if not ch.isspace()}
    for name in candidates:
        if name.startswith(NEVER):
            continue
        face = _face_of(name)
        if face is not None and needed <= _charmap(*face):
            return name
    return None


def _face_of(name: str) -> tuple[str, int] | None:
    """The file and face index (a .ttc holds several) of the installed font of this family name, the
    regular face when there is one."""
    from matplotlib import font_manager

    entries = [f for f in font_manager.fontManager.ttflist if f.name == name]
    if not entries:
        return None
    entries.sort(key=lambda f: (f.style != "normal", abs(_weight(f.weight) - 400)))
    return str(entries[0].fname), int(entries[0].index)


def _weight(weight: object) -> int:
    from matplotlib import font_manager

    if isinstance(weight, int):
        return weight
    return font_manager.weight_dict.get(str(weight), 400)


@cache
def _charmap(path: str, index: int) -> frozenset[int]:
    from matplotlib.ft2font import FT2Font

    try:
        return frozenset(FT2Font(path, face_index=index).get_charmap())
    except (OSError, RuntimeError, ValueError):  # an unreadable font file: as if not installed
        return frozenset()


LABEL_PT: Final = 9  # the numbers on the segments
DIGIT_EM: Final = 0.62  # a digit's width, in ems of its font (DejaVu Sans 0.64, CJK fonts 0.5-0.6)


def stacked_bars(title: str, categories: Sequence[str], series: Sequence[Series], font: str,
                 axis_label: str = "") -> bytes:
    """Horizontal stacked bars, one per category (top to bottom in the given order), as PNG bytes: each
    segment's number on it only where the segment is wide enough to hold it (a thin one is left blank, so
    "4" and "19" never read as "419"), each bar's total at its end.

    `font` must cover every character of the labels (see `font_for`); ValueError when it is not installed.
    """
    from matplotlib import font_manager
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    if _face_of(font) is None:
        raise ValueError(f"font {font!r} is not installed")
    prop = font_manager.FontProperties(family=font)  # installed: matplotlib finds this very face
    height = 1.6 + 0.45 * max(len(categories), 1) + 0.2 * axis_label.count("\n")
    figure = Figure(figsize=(8, height), dpi=120, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    rows = list(range(len(categories)))[::-1]  # the first category at the top
    left = [0] * len(categories)
    drawn = []
    for item in series:
        bars = axes.barh(rows, list(item.values), left=left, color=item.color, label=item.label, height=0.6)
        drawn.append((bars, item.values, list(left)))
        left = [a + b for a, b in zip(left, item.values, strict=True)]
    axes.set_yticks(rows, list(categories), fontproperties=prop)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    for tick in axes.get_xticklabels():
        tick.set_fontproperties(prop)
    axes.set_xlim(0, max([*left, 1]) * 1.12)  # room for the totals
    if axis_label:
        axes.set_xlabel(axis_label, fontproperties=prop)
    axes.set_title(title, fontproperties=prop, fontsize=12)
    figure.legend(prop=prop, loc="outside lower center", ncols=max(len(series), 1), frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    figure.draw_without_rendering()  # lay the figure out, so that a segment's width in pixels is known
    digit_px = LABEL_PT * figure.dpi / 72 * DIGIT_EM
    for bars, values, starts in drawn:
        labels = []
        for value, start in zip(values, starts, strict=True):
            x0, x1 = axes.transData.transform([(start, 0), (start + value, 0)])[:, 0]
            labels.append(str(value) if value and x1 - x0 >= digit_px * len(str(value)) + 6 else "")
        axes.bar_label(bars, labels=labels, label_type="center", fontproperties=prop, color="white",
                       fontsize=LABEL_PT)
    for row, total in zip(rows, left, strict=True):
        if total:
            axes.text(total, row, f" {total}", va="center", ha="left", fontproperties=prop, fontsize=LABEL_PT)
    out = io.BytesIO()
    figure.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()
