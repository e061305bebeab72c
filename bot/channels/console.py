"""The console channel: try every flow in a terminal, or from a piped script, with no token.

It reads standard input line by line and drives the same inbox, handlers and outbox as
Telegram. Lines starting with `:` are the console's own:

    :as NAME       act as that person (the console is the operator's: it binds at once)
    :as guest      an unbound visitor (try /start CODE from `python -m bot invite`)
    :who           who you can act as
    :file PATH     send a document;  :photo PATH  send a photo
    :contact [PHONE]   share your phone number (the roster's, if none is given)
    :quit          stop (end of input does the same)

A bare number presses that button of the last message you received; anything else is a
message, exactly as typed in a chat. After a restart, `:as NAME` shows that person's last
message with buttons again (from the outbox), so a number typed next presses the button it
showed before the restart: a dialogue at a step with buttons goes on where it stood. Each line is processed, and everything it caused is
printed, before the next line is read, so a script's output reads as a dialogue.
"""

from __future__ import annotations

import asyncio
import threading
import itertools
import json
import shlex
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.channels.base import Pacing, Progress
from bot.messages import Attachment, AttachmentKind, Contact, Incoming, SendResult
from storage import outbox, people

if TYPE_CHECKING:
    from bot.app import App

NAME = "console"


class ConsoleChannel:
    name = NAME
    # The terminal's lines are its operator's own, often a script piped in: no chat to keep within a minute's
    # messages ([intake] max_messages_per_minute, bot/inbox.py), which would drop the rest of a long script.
    limits_chats = False

    def __init__(self, app: App, stdin: TextIO, stdout: TextIO) -> None:
        self.app = app
        self.stdin = stdin
        self.stdout = stdout
        self.user_id = "guest-1"
        self.who = "guest"
        self._guests = itertools.count(2)
        self._updates = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._buttons: dict[str, tuple[str, list[str]]] = {}  # chat -> (message id, button data)
        # A terminal has no flood limit to keep below: the one trying the bot does not wait a second
        # (`outbox.per_chat_interval`, Telegram's) between two of the bot's messages.
        self.pacing = Pacing(per_chat_interval=0.0, global_rate=app.config.outbox.global_rate)

    # -- the channel's side of the core ---------------------------------------------------

    async def prepare(self, payload: str) -> Incoming | None:
        return Incoming.from_json(json.loads(payload))

    async def deliver(self, chat_id: str, op: str, payload: dict[str, Any], progress: Progress | None = None) -> SendResult:
        if op == "answer":
            if payload.get("text"):
                self._print(f"  ({payload['text']})")
            return SendResult()
        message_id = str(next(self._message_ids))
        self._show(await self._name_of(chat_id), chat_id, message_id, payload)
        return SendResult([message_id])

    def _show(self, name: str, chat_id: str, message_id: str, payload: dict[str, Any]) -> None:
        """Print a message; its buttons become the numbers that this chat's next bare number presses."""
        lines = [f"── {name} ──"]
        if payload.get("title"):
            lines.append(f"【{payload['title']}】")
        lines.append(str(payload.get("text", "")))
        data: list[str] = []
        for row in payload.get("buttons") or []:
            cells = []
            for label, button, *typed in row:  # a button with a typed form shows it, unnumbered (bot.messages.Button)
                if typed:
                    cells.append(f"[{typed[0]}] {label}")
                    continue
                data.append(button)
                cells.append(f"[{len(data)}] {label}")
            lines.append("  ".join(cells))
        for path, file_name, _kind in payload.get("files") or []:
            lines.append(f"📎 {file_name} ({path})")
        if payload.get("request_contact"):
            lines.append(f"[{payload['request_contact']}: type :contact]")
        if data:
            self._buttons[chat_id] = (message_id, data)
        self._print("\n".join(lines))

    # -- reading the terminal -------------------------------------------------------------

    def _read_lines(self) -> asyncio.Queue[str]:
        """The terminal's lines as they come ("" at the end), read by a daemon thread of the console's own: a
        thread of the loop's executor, blocked in readline, would hold the process at its exit, so that Ctrl-C or
        SIGTERM left a console waiting for input running until its next line."""
        loop = asyncio.get_running_loop()
        lines: asyncio.Queue[str] = asyncio.Queue()

        def pump() -> None:
            while True:
                line = self.stdin.readline()
                try:
                    loop.call_soon_threadsafe(lines.put_nowait, line)
                except RuntimeError:  # the loop has closed: the bot stopped
                    return
                if not line:
                    return

        threading.Thread(target=pump, name="console-stdin", daemon=True).start()
        return lines

    async def receive(self, app: App) -> None:
        self._print("控制台 / console — :who lists the demo people, :as NAME acts as one, :quit stops.")
        lines = self._read_lines()
        while True:
            line = await lines.get()
            if not line or line.strip() == ":quit":
                await app.settle()
                return
            line = line.strip()
            if not line:
                continue
            self._print(f"> {line}" if not self.stdin.isatty() else "")
            try:
                inc = await self._incoming(line)
            except ValueError as exc:
                self._print(f"(console: {exc})")
                continue
            if inc is None:
                continue
            update = str(next(self._updates))
            await app.store(NAME, [(f"{self.user_id}:{update}:{id(inc)}", f"{NAME}:{inc.chat_id}",
                                    json.dumps(inc.to_json(), ensure_ascii=False))])
            await app.settle()

    async def _incoming(self, line: str) -> Incoming | None:
        if line.startswith(":"):
            return await self._console_command(line)
        if line.isdigit() and len(line) <= 2 and self.user_id in self._buttons:
            message_id, data = self._buttons[self.user_id]
            index = int(line) - 1
            if not 0 <= index < len(data):
                raise ValueError(f"no button {line}")
            return self._make(action=data[index], callback_id=f"cq{next(self._updates)}", message_id=message_id)
        if line.startswith("/"):
            command, _, args = line[1:].partition(" ")
            return self._make(text=line, command=command.split("@")[0], args=args.strip())
        return self._make(text=line)

    def _make(self, **fields: Any) -> Incoming:
        return Incoming(channel=NAME, user_id=self.user_id, chat_id=self.user_id, display_name=self.who, **fields)

    async def _console_command(self, line: str) -> Incoming | None:
        verb, *rest = shlex.split(line[1:]) or [""]
        if verb == "who":
            async with self.app.db.snapshot() as q:
                everyone = await people.everyone(q)
            self._print("  " + "  ".join(f"{name}（{title}）" for _, name, title in everyone) + "  guest")
            return None
        if verb == "as" and rest:
            await self._act_as(" ".join(rest))
            return None
        if verb in ("file", "photo") and rest:
            return self._make(attachments=(self._attach(Path(" ".join(rest)), verb),))
        if verb == "contact":
            phone = " ".join(rest) if rest else await self._own_phone()
            return self._make(contact=Contact(phone, self.user_id))
        raise ValueError(f"unknown console command {line!r}; see :who, :as, :file, :photo, :contact, :quit")

    def _attach(self, path: Path, verb: str) -> Attachment:
        kind: AttachmentKind = "photo" if verb == "photo" else "document"
        if not path.is_file():
            raise ValueError(f"no such file {path}")
        size = path.stat().st_size
        if size > self.app.config.intake.max_file_mb * 1024 * 1024:
            return Attachment(kind, str(path), path.name, size, error="too_large")
        return Attachment(kind, str(path), path.name, size)  # read only for a bound sender (`fetch`)

    async def fetch(self, inc: Incoming) -> Incoming:
        kept = []
        for item in inc.attachments:
            if item.stored_path is None and item.error is None:
                try:
                    digest, stored = self.app.files.put(Path(item.file_ref).read_bytes())
                except OSError:
                    item = replace(item, error="download_failed")
                else:
                    item = replace(item, sha256=digest, stored_path=stored)
            kept.append(item)
        return replace(inc, attachments=tuple(kept))

    async def _act_as(self, name: str) -> None:
        if name == "guest":
            self.user_id, self.who = f"guest-{next(self._guests)}", "guest"
            self._print(f"(console: you are now an unbound visitor, {self.user_id})")
            return
        async with self.app.db.transaction() as tx:
            found = await people.find_by_name_anywhere(tx, name)
            if len(found) != 1:
                raise ValueError(f"{len(found)} people named {name}; :who lists them")
            person = found[0]
            user_id = f"p{person.id}"
            if await people.by_identity(tx, NAME, user_id) is None:
                await people.bind_identity(tx, NAME, user_id, user_id, person.id, self.app.clock.now())
        self.user_id, self.who = user_id, name
        self._print(f"(console: you are now {name})")
        if user_id not in self._buttons:  # a console started again: the buttons of before are still theirs
            async with self.app.db.snapshot() as q:
                last = await outbox.last_buttons(q, NAME, user_id)
            if last is not None:
                self._print("(console: the last message with buttons, shown again — a number presses its button)")
                self._show(name, user_id, *last)

    async def _own_phone(self) -> str:
        if not self.user_id.startswith("p"):
            return "00000000000"
        async with self.app.db.snapshot() as q:
            person = await people.get(q, int(self.user_id[1:]))
        return person.phone if person else ""

    async def _name_of(self, chat_id: str) -> str:
        if chat_id.startswith("p") and chat_id[1:].isdigit():
            async with self.app.db.snapshot() as q:
                person = await people.get(q, int(chat_id[1:]))
            if person is not None:
                return person.name
        return chat_id

    def _print(self, text: str) -> None:
        if text:
            print(text, file=self.stdout, flush=True)


async def bind_everyone(app: App) -> None:
    """Give every person a console identity, so that messages to them show in the console."""
    async with app.db.transaction() as tx:
        for person_id, _, _ in await people.everyone(tx):
            user_id = f"p{person_id}"
            if await people.by_identity(tx, NAME, user_id) is None:
                await people.bind_identity(tx, NAME, user_id, user_id, person_id, app.clock.now())
