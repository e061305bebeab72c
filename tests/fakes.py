"""Test doubles: a clock you move by hand, a channel that records what it sent, and a harness
that plays people talking to the real core on a real temporary SQLite database."""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.app import App
from bot.channels.base import DeliveryError, Progress
from bot.config import Config, DatabaseConfig, IntakeConfig, OutboxConfig, StorageConfig
from bot.files import FileStore
from bot.messages import Attachment, Contact, Incoming, SendResult
from bot.model import FIRST_UNIT, UnitScope
from storage import people
from tests import pg_cluster
from handlers.people.binding import create_invite


class MovableClock:
    """A clock that stands still until the test moves it.

    It carries a monotonic time too, for the outbox's pacing (`pace`): that time moves with the
    clock, and by itself when the dispatcher waits for its rate (`sleep` moves it instead of
    waiting), so a test measures the bot's behaviour, not the real clock's seconds.
    """

    def __init__(self, start: datetime = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)) -> None:
        self._now = start
        self._monotonic = 0.0

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> None:
        step = timedelta(**delta)
        self._now += step
        self._monotonic += max(step.total_seconds(), 0.0)

    def set(self, moment: datetime) -> None:
        self._monotonic += max((moment - self._now).total_seconds(), 0.0)  # monotonic: never back
        self._now = moment

    def monotonic(self) -> float:
        """Like the real one, it has moved on a little (a microsecond) every time it is read: no two
        reads see the same instant (the dispatcher takes a gap of a whole second for "nothing due")."""
        self._monotonic += 1e-6
        return self._monotonic

    async def sleep(self, seconds: float) -> None:
        """The dispatcher's wait for its pacing: the monotonic time moves on at once (the wall clock
        stands still, as between any two steps of a test); other tasks get their turn."""
        self._monotonic += max(seconds, 0.0)
        await asyncio.sleep(0)

    def pace(self, app: App) -> App:
        """Have the app's outbox pace on this clock's monotonic time; return the app."""
        app.dispatcher.monotonic = self.monotonic
        app.dispatcher.sleep = self.sleep
        return app


@dataclass
class Sent:
    chat_id: str
    op: str
    payload: dict[str, Any]
    message_id: str

    @property
    def text(self) -> str:
        title = self.payload.get("title")
        return f"{title}\n{self.payload['text']}" if title else str(self.payload.get("text", ""))

    @property
    def buttons(self) -> list[tuple[str, str]]:
        return [(b[0], b[1]) for row in self.payload.get("buttons") or [] for b in row]


class RecordingChannel:
    """A channel whose inbox payloads are Incoming as JSON and which records every delivery."""

    name = "test"

    def __init__(self, files: FileStore) -> None:
        self.files = files
        self.sent: list[Sent] = []
        self.failures: list[DeliveryError] = []  # raised, in order, by the next deliveries
        self._ids = itertools.count(1000)
        self.blobs: dict[str, bytes] = {}
        self.fetched = 0  # attachments fetched (downloaded): never a stranger's
        self.delivered = asyncio.Event()  # set on every delivery: wait on it, never sleep

    async def prepare(self, payload: str) -> Incoming | None:
        return Incoming.from_json(json.loads(payload))  # what was sent: the files are fetched for bound senders

    async def fetch(self, inc: Incoming) -> Incoming:
        stored = []
        for item in inc.attachments:
            data = self.blobs.get(item.file_ref)
            if data is None or item.error:
                stored.append(item)
                continue
            digest, path = self.files.put(data)
            self.fetched += 1
            stored.append(replace(item, sha256=digest, stored_path=path))
        return replace(inc, attachments=tuple(stored))

    async def deliver(self, chat_id: str, op: str, payload: dict[str, Any], progress: Progress | None = None) -> SendResult:
        if self.failures:
            raise self.failures.pop(0)
        message_id = str(next(self._ids))
        self.sent.append(Sent(chat_id, op, payload, message_id))
        self.delivered.set()
        return SendResult([message_id])


class Harness:
    """The whole core, with a recording channel instead of a transport."""

    def __init__(self, app: App, channel: RecordingChannel, clock: MovableClock) -> None:
        self.app = app
        self.channel = channel
        self.clock = clock
        self._updates = itertools.count(1)

    @property
    def db(self):  # type: ignore[no-untyped-def]
        return self.app.db

    def user(self, user_id: str, language_code: str = "zh-hans") -> User:
        return User(self, user_id, language_code)

    async def deliver(self, inc: Incoming) -> list[Sent]:
        before = len(self.channel.sent)
        update_id = str(next(self._updates))
        await self.app.store("test", [(update_id, f"test:{inc.chat_id}", json.dumps(inc.to_json()))])
        await self.app.settle()
        return self.channel.sent[before:]

    async def invite(self, person_id: int) -> str:
        async with self.db.transaction() as tx:
            return await create_invite(tx, person_id, self.clock.now(), self.app.config.binding.invite_ttl_days)

    async def add_representative(self, name: str, body: str = "npc", phone: str = "13800000000",
                                 sector: str = "", supervisor: bool = False, unit: int = FIRST_UNIT) -> int:
        now = self.clock.now().isoformat()
        async with self.db.transaction() as tx:
            sealed, digest = people.sealed_phone(tx, phone)  # phones are sealed at rest (bot/sealing.py)
            return await tx.insert(
                "INSERT INTO persons (name, body, sector, phone, phone_hash, supervisor, roster_key, created_at,"
                " updated_at, unit_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (name, body, sector, sealed, digest, int(supervisor), f"name:{body}:{name}", now, now, unit),
            )

    async def add_staff(self, name: str, roles: list[str], department: str | None = None,
                        unit: int = FIRST_UNIT) -> int:
        """A member of staff of `unit`, in its department of that name (added if it has none yet)."""
        async with self.db.transaction() as tx:
            dept = None
            if department:
                dept = await people.department_by_name(tx, UnitScope.of(unit), department) or \
                    await people.add_department(tx, department, self.clock.now(), unit=unit)
            return await people.add_staff(tx, name, dept, roles, "", self.clock.now(), unit=unit)

    async def add_department(self, name: str, unit: int = FIRST_UNIT) -> int:
        async with self.db.transaction() as tx:
            return await people.add_department(tx, name, self.clock.now(), unit=unit)

    async def count(self, table: str, where: str = "1 = 1", params: tuple[Any, ...] = ()) -> int:
        async with self.db.snapshot() as q:
            return int(await q.scalar(f"SELECT COUNT(*) FROM {table} WHERE {where}", params))

    async def dump(self, *tables: str) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of the named tables: compare before and after to prove nothing changed."""
        out = {}
        async with self.db.snapshot() as q:
            for table in tables:
                out[table] = [tuple(r) for r in await q.all(f"SELECT * FROM {table} ORDER BY 1")]
        return out


@dataclass
class User:
    harness: Harness
    user_id: str
    language_code: str
    chat_id: str = ""

    def __post_init__(self) -> None:
        self.chat_id = self.chat_id or self.user_id

    @property
    def received(self) -> list[Sent]:
        """Everything sent to this user's chat, by whoever's doing (notices included)."""
        return [s for s in self.harness.channel.sent if s.chat_id == self.chat_id]

    async def _send(self, **fields: Any) -> list[Sent]:
        inc = Incoming(channel="test", user_id=self.user_id, chat_id=self.chat_id,
                       language_code=self.language_code, **fields)
        got = await self.harness.deliver(inc)
        return [s for s in got if s.chat_id == self.chat_id]

    async def say(self, text: str) -> list[Sent]:
        if text.startswith("/"):
            command, _, args = text[1:].partition(" ")
            return await self._send(text=text, command=command, args=args)
        return await self._send(text=text)

    async def press(self, label: str) -> list[Sent]:
        """Press the button with this label on the latest message that has it."""
        for sent in reversed(self.received):
            for text, data in sent.buttons:
                if text == label:
                    return await self.press_data(data, message_id=sent.message_id)
        raise AssertionError(f"no button {label!r}; last buttons: {self.last_buttons()}")

    async def press_data(self, data: str, message_id: str = "1") -> list[Sent]:
        return await self._send(action=data, callback_id=f"cb{next(self.harness._updates)}", message_id=message_id)

    async def send_file(self, data: bytes, name: str, kind: str = "document", caption: str = "",
                        size: int | None = None, error: str | None = None) -> list[Sent]:
        ref = f"file-{len(self.harness.channel.blobs)}"
        self.harness.channel.blobs[ref] = data
        attachment = Attachment(kind=kind, file_ref=ref, name=name, size=len(data) if size is None else size,
                                error=error)  # type: ignore[arg-type]
        return await self._send(text=caption, attachments=(attachment,))

    async def share_contact(self, phone: str, own: bool = True) -> list[Sent]:
        return await self._send(contact=Contact(phone, self.user_id if own else "someone-else"))

    def last_buttons(self) -> list[str]:
        for sent in reversed(self.received):
            if sent.buttons:
                return [label for label, _ in sent.buttons]
        return []

    @property
    def last(self) -> str:
        messages = [s for s in self.received if s.op == "message"]
        return messages[-1].text if messages else ""

    def answers(self) -> list[Sent]:
        return [s for s in self.received if s.op == "answer"]


def test_config(tmp: Path, **overrides: Any) -> Config:
    """The tests' configuration in folder `tmp`; with LIAISON_TEST_DATABASE=postgresql its database is one on the
    session's throw-away PostgreSQL cluster (tests/pg_cluster.py), the same one for the same folder."""
    url = pg_cluster.current.url_for(tmp) if pg_cluster.current is not None else ""
    base = Config(
        storage=StorageConfig(database=tmp / "test.db", files_dir=tmp / "files", key_file=tmp / "liaison.key"),
        database=DatabaseConfig(url),
        outbox=OutboxConfig(global_rate=30, per_chat_interval=0, max_attempts=5),
        # No limit per chat and minute: a test's deputy sends dozens in a second (tests/test_inbound_limits.py
        # sets one).
        intake=IntakeConfig(max_messages_per_minute=0, max_mb_per_minute=0),
    )
    return replace(base, **overrides)


def early_migrations(folder: Path, count: int) -> Path:
    """The first `count` migrations copied into `folder` (with any PostgreSQL text beside them): a database as an
    older version of the bot left it."""
    from storage.migrate import MIGRATIONS, available

    folder.mkdir(parents=True, exist_ok=True)
    for migration in available()[:count]:
        for name in (migration.name, migration.name.removesuffix(".sql") + ".pg.sql"):
            if (MIGRATIONS / name).exists():
                (folder / name).write_bytes((MIGRATIONS / name).read_bytes())
    return folder
