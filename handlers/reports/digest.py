"""The leadership digest (SPEC §7, seed §8, §17): the liaison work in figures, weekly and monthly to
every leader through the scheduler's sweep, and on demand with /digest for leaders and the office.

The figures are computed from the database into a `Digest` (digest_figures.py), then rendered in the
reader's language (digest_text.py): a text that fits one Telegram message (long lists cut to their
first ten, the whole list attached as a CSV file), and a chart of the matters not yet concluded by
department (digest_chart.py), when a font for its labels is installed. A digest names matters by number,
kind, department and dates only: never a subject, a representative or a complainant. This module sends
it: on the schedule, on demand, and with the files drawn for it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from bot import charts
from bot.config import Config
from bot.context import Context
from bot.errors import PermissionDeniedError
from bot.clock import StoppedClock
from bot.files import FileStore
from bot.i18n import Translator
from bot.messages import OutFile, Reply
from bot.model import UnitScope
from bot.permissions import may
from handlers.reports.digest_chart import chart_labels
from handlers.reports.digest_figures import Digest, compute, on_demand, scheduled
from handlers.reports.digest_text import render, reply, table
from handlers.oversight.reminders import Reminder, Ticks, keyed
from storage import people, supervision, units
from storage.db import Tx

log = logging.getLogger(__name__)

CACHE: Final = ("cache", "digest")  # under storage.files_dir: charts and lists waiting to be sent


# -- the schedule (a reminder the sweep fires: handlers/oversight/sweep.py) ----------------------------


async def collect(ticks: Ticks) -> list[Reminder]:
    """The weekly and the monthly digest of each unit, each once, to every leader of the unit, from the day it is
    due."""
    q, config, now, today = ticks.q, ticks.config, ticks.now, ticks.today
    due = [(tick, period, keyed(tick.scope, period.key))
           for tick in ticks.units if tick.leaders for period in scheduled(config.digest, today)]
    done = await supervision.fired(q, [key for _tick, _period, key in due]) if due else set()
    found: list[Reminder] = []
    for tick, period, key in due:
        if key in done:  # computed and drawn only when it is to go out
            continue
        figures = await compute(q, (await units.roll_up(q, tick.scope.unit))[0], config, period, today)
        locales = {(await _locale(q, config, p)) for p in tick.leaders}
        ready = await prepare(config, figures, sorted(locales), now)
        found.append(Reminder(key, f"digest_{period.kind}", None, tick.leaders, _make(figures, ready),
                              unit=tick.scope.unit))
    return found


async def _locale(q: Tx, config: Config, person_id: int) -> str:
    person = await people.get(q, person_id)
    return (person.locale if person else None) or config.default_locale


def _make(figures: Digest, ready: dict[str, tuple[OutFile, ...]]) -> Callable[[Translator], Reply]:
    return lambda _: reply(_, figures, ready.get(_.locale, ()))


# -- on demand -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Drawn:
    """/digest read and drawn before its transaction (`read_first`): the figures, and the files in its language."""

    figures: Digest
    files: tuple[OutFile, ...]


async def read_first(ctx: Context) -> Drawn:
    """/digest's figures and its chart, read and drawn before the command's transaction on a connection of its own
    (bot/inbox.py): at a province's scale the figures take a second and the chart most of one, and neither the
    writer, which every chat's update waits for, nor the event loop is held meanwhile."""
    _allowed(ctx)
    today = ctx.today
    figures = await compute(ctx.tx, await _roll_up(ctx), ctx.config, on_demand(today), today)
    return Drawn(figures, (await prepare(ctx.config, figures, [ctx._.locale], ctx.now))[ctx._.locale])


async def _roll_up(ctx: Context) -> UnitScope:
    """The acting unit with the units below it: a city's leaders and office read their counties' figures too."""
    return (await units.roll_up(ctx.tx, ctx.scope.unit))[0]


def _allowed(ctx: Context) -> None:
    if not may(ctx.person, "digest", None):
        raise PermissionDeniedError.of("digest", None, "This is for leaders and the liaison office.")


async def command(ctx: Context) -> None:
    """/digest: the weekly figures now, for leaders and the liaison office (those read first, if they were)."""
    _allowed(ctx)
    today = ctx.today
    drawn = ctx.prepared
    if isinstance(drawn, Drawn) and drawn.figures.period == on_demand(today):
        figures, files = drawn.figures, drawn.files
    else:
        figures = await compute(ctx.tx, await _roll_up(ctx), ctx.config, on_demand(today), today)
        files = (await prepare(ctx.config, figures, [ctx._.locale], ctx.now))[ctx._.locale]
    await ctx.reply(reply(ctx._, figures, files))


# -- what goes with it: the chart and the full list ---------------------------------------------


async def prepare(config: Config, d: Digest, locales: Sequence[str], now: datetime) -> dict[str, tuple[OutFile, ...]]:
    """The files of the digest in each language: the chart (when a font can draw it) and, when a list was
    cut, the full list; stored under the files folder until they are sent."""
    store = FileStore(config.storage.files_dir.joinpath(*CACHE), StoppedClock(now), base=config.storage.files_dir)
    ready: dict[str, tuple[OutFile, ...]] = {}
    no_font = False
    for locale in locales:
        _ = Translator(locale, config.unit.tz, config.terms)
        files: list[OutFile] = []
        if d.departments:
            title, categories, series, axis = chart_labels(_, d.today, d.departments)
            font = await asyncio.to_thread(  # the fonts are looked for as the chart is drawn: off the loop
                charts.font_for, "".join([title, axis, "0123456789", *categories, *(s.label for s in series)]))
            if font is None:
                no_font = True
            else:
                png = await asyncio.to_thread(charts.stacked_bars, title, categories, series, font, axis)
                files.append(OutFile(store.put(png)[1], _("Digest chart, {day}", day=_.date(d.today)) + ".png",
                                     "photo"))
        if render(_, d)[2]:
            files.append(OutFile(store.put(table(_, d))[1], _("Digest list, {day}", day=_.date(d.today)) + ".csv",
                                 "document"))
        ready[locale] = tuple(files)
    if no_font:
        log.warning("digest: no installed font has the chart's characters (install fonts-noto-cjk); "
                    "sent without the chart")
    return ready
