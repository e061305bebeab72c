"""What reads much reads first: a command or a button of `Routes.prepared` (a year's register ledger, the digest,
the half-year report) reads, and draws its files, on a read-only connection of its own before the update's
transaction (bot/inbox.py). The writer, which every other chat waits for (a WeCom callback is sent again after 5 s),
is then held only for what it writes, and the event loop serves the other chats meanwhile. Its handler checks
again who may do it and uses what was read if it still fits (`ctx.prepared`); whatever stops the read here (not
bound, a command in a dialogue, a refusal) is left to the handler to say.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bot import router
from bot.channels.base import Channel
from bot.clock import Clock
from bot.config import Config
from bot.context import Context, initial_locale
from bot.errors import UserError
from bot.i18n import Translator
from bot.messages import Incoming
from storage import dialogs, people
from storage.db import Database
from storage.records import RECORDS

log = logging.getLogger(__name__)


class ReadFirst:
    def __init__(self, db: Database, channels: Mapping[str, Channel], routes: router.Routes, config: Config,
                 clock: Clock) -> None:
        self.db, self.channels, self.routes, self.config, self.clock = db, channels, routes, config, clock

    def wants(self, inc: Incoming) -> bool:
        """Whether this update reads first (so it is not handled in the transaction that stores it)."""
        return router.prepared_key(inc) in self.routes.prepared

    async def __call__(self, inc: Incoming) -> object | None:
        """What the update's command or button read first, or None (nothing to read, or left to its handler)."""
        name = router.prepared_key(inc)
        prepare = self.routes.prepared.get(name)
        if prepare is None:
            return None
        try:
            return await self._read(prepare, name, router.clean(inc))
        except Exception:  # the handler does it all, in its transaction, as for any other command
            log.exception("reading first for %s failed", name)
            return None

    async def _read(self, prepare: router.Preparer, name: str, inc: Incoming) -> object | None:
        async with self.db.long_read() as q:
            person = await people.by_identity(q, inc.channel, inc.user_id)
            if person is None:
                return None
            _ = Translator(initial_locale(self.config, person, inc.language_code), self.config.unit.tz,
                           self.config.terms)
            ctx = Context(q, inc, self.clock.now(), self.config, person, _, channels=frozenset(self.channels),
                          records=RECORDS)
            if (inc.command is not None and name not in self.routes.dialog_commands
                    and await dialogs.load(q, ctx.actor) is not None):  # a button works in a dialogue; a command not
                return None
            try:
                return await prepare(ctx)
            except UserError:
                return None
