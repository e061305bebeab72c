"""Files sent in a dialogue — a matter's attachments, a reply's, a briefing's documents — checked
against the configured limits (`[intake]`: size, number) the same way, with the same words, wherever
they are taken."""

from __future__ import annotations

from bot.context import Context
from bot.errors import UserError
from handlers.dialog_state import FileData


def keep(ctx: Context, files: list[FileData]) -> None:
    """Add the files of the message in hand to `files` (a dialogue's list), or refuse with a UserError
    saying why and add none of them."""
    limits = ctx.config.intake
    new: list[FileData] = []
    for item in ctx.inc.attachments:
        if item.error == "too_large" or (item.size or 0) > limits.max_file_mb * 1024 * 1024:
            raise UserError("The file {name} is too large: at most {mb} MB.", name=item.name, mb=limits.max_file_mb)
        if item.error is not None or item.sha256 is None or item.stored_path is None:
            raise UserError("The file {name} could not be received. Please send it again.", name=item.name)
        if len(files) + len(new) >= limits.max_attachments:
            raise UserError("At most {n} files can be attached.", n=limits.max_attachments)
        new.append(FileData(kind=item.kind, name=item.name, size=item.size or 0, mime=item.mime,
                            sha256=item.sha256, path=item.stored_path))
    files.extend(new)
