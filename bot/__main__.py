"""The operator's command line: `python -m bot [--config PATH] [--json] COMMAND ...`.

    run                      the bot: Telegram when a token is configured, WeCom when [wecom] is, else the console
    import-roster FILE [--disable-missing] [--unit P]   a unit's representatives from CSV or XLSX (re-import
                             updates, never duplicates); lists the representatives the file no longer names,
                             and disables them only with --disable-missing
    access show|disable|enable --name NAME | --person ID    a person's access: disable stops all their
                             chat accounts at once (their history stays), enable restores them
    access unbind --name NAME --channel telegram|wecom [--account ID]   end one chat account
    access roles --name NAME --roles office,handler,...|none            set a staff member's roles
    import-contacts FILE [--unit P]   a log of contacts with a unit's representatives from CSV or XLSX
                             (re-import adds nothing twice)
    unit list | unit add --name N --prefix P [--parent P] [--timezone TZ]
                             the procuratorates this deployment serves (unit 1 is the one [unit] describes);
                             a unit's papers: unit add|set ... [--document-number N] [--addressee A] [--issuer I]
                             [--signer S] [--copy-to C] [--regulation R] (unit 1's: [report] and [terms]);
                             a command that acts within one takes --unit P (its prefix) once there are several
    department add NAME [--unit P]  a business department (of unit P: needed once there are several units)
    staff add --name N --roles office,handler,... [--department D] [--phone P] [--wecom USERID] [--unit P]
    invite --name NAME | --person ID [--keep-accounts]   a one-time invite code and its deep link; a staff
                             member's account bound with it ends their other account on that channel, unless
                             --keep-accounts
    wecom bind --name NAME --userid ID   bind a person to a WeCom member (the office adds deputies to the corp)
    wecom view --name NAME cards|text|default   how choices are shown to a person on WeCom
    event add --kind K --title T --at "2026-12-05 09:30" --place P --invite all|npc|cppcc|supervisors|sector:S
              [--department D ...] [--matter LS-2026-0001] [--unit P]   an event, its invitations queued for the bot
    backup DIR               one archive (database, the files it names, a manifest with hashes), safe while
                             the bot runs; the data key is never in it
    restore ARCHIVE [--check]   check an archive whole (hashes, database, audit chain) and put it back
                             into an empty data folder; --check changes nothing
    audit verify [--head COUNT:HASH ...] [--heads FILE] [--unit PREFIX]
                             check the audit log's hash chain, print its head hash to publish, and check
                             that heads published earlier (reports, bulletins) are still in it
    report half-year 2026H2 --out FILE.docx [--to NAME]   the half-year report to the higher procuratorate
                             (seed §17), its tables also in FILE.xlsx beside it
    report assessment 2026 --out FILE.xlsx                the yearly assessment per department and staff (§19)
    report ledger 2026 --out FILE.xlsx [--kind K] [--department D] [--state S]
                             (each report: [--unit P], the unit's own; needed once there are several)
                             the register ledger of the matters registered in a period (2026, 2026H2,
                             2026-03, 2026-01-01..2026-03-31), one row each (§3)
    migrate-to URL           copy the SQLite database into an empty PostgreSQL database (the password in
                             PGPASSWORD), every table counted and compared, the audit chain verified there; with
                             the bot stopped; the SQLite file is left as it was
    key new | key rotate     print a new data key; seal everything again under a new key (bot stopped)
    calendar [YEAR]          the year's days off on weekdays and working weekend days, and where they come from

Every command takes --json for scripts. Exit status: 0 done, 1 refused (the message
says why, nothing was changed), 2 bad usage or configuration.
"""

from __future__ import annotations

import sys


def _command(argv: list[str]) -> str | None:
    """The subcommand (`run`, `import-roster`...): the first word that is neither an option nor --config's value."""
    words = iter(argv)
    for word in words:
        if word == "--config":
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


if __name__ == "__main__" and _command(sys.argv[1:]) == "run":  # before the imports: a stop asked for now is heard
    from bot import early_stop

    early_stop.listen()

import argparse
import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot import config as config_module
from bot.app import App
from bot.clock import Clock, SystemClock
from bot.config import Config
from bot.domain import STAFF_ROLES
from bot.errors import ConfigError, LiaisonError, UserError
from bot.instance import InstanceLock
from bot.operator import (Refused, backup_archive, calendar_days, make_key, move_database, restore_archive,
                          rotate_key)
from bot.operator_papers import add_event, draw_report, verify_audit
from bot.operator_people import (add_department, add_staff, change_access, import_contacts, import_roster,
                                 make_invite, wecom_member)
from bot.operator_units import unit_command
from bot.text import normalise

log = logging.getLogger("bot")


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, default=argparse.SUPPRESS,
                        help="configuration file (default: config.toml if present)")
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON for scripts")
    parser = argparse.ArgumentParser(prog="python -m bot", parents=[common], description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", parents=[common], help="run the bot")
    run.add_argument("--channel", choices=["auto", "telegram", "wecom", "console"], default="auto")
    imp = sub.add_parser("import-roster", parents=[common], help="import representatives from CSV or XLSX")
    imp.add_argument("file", type=Path)
    imp.add_argument("--disable-missing", action="store_true",
                     help="disable the representatives the file no longer names (listed without this)")
    imp.add_argument("--unit", help="the prefix of the unit whose roster it is (needed once there are several)")
    acc = sub.add_parser("access", parents=[common], help="take access away: disable, unbind, roles")
    acc_sub = acc.add_subparsers(dest="action", required=True)
    acc_cmds = {name: acc_sub.add_parser(name, parents=[common]) for name in ("show", "disable", "enable", "unbind",
                                                                               "roles")}
    for command in acc_cmds.values():
        whom = command.add_mutually_exclusive_group(required=True)
        whom.add_argument("--name")
        whom.add_argument("--person", type=int)
    acc_cmds["unbind"].add_argument("--channel", required=True, help="telegram, wecom or console")
    acc_cmds["unbind"].add_argument("--account", help="the channel's user id, when the person has several there")
    acc_cmds["roles"].add_argument("--roles", required=True, help=f"comma-separated: {','.join(STAFF_ROLES)}; or none")
    imp_contacts = sub.add_parser("import-contacts", parents=[common], help="import contacts from CSV or XLSX")
    imp_contacts.add_argument("file", type=Path)
    imp_contacts.add_argument("--unit", help="the prefix of the unit it is for (needed once there are several)")
    unit = sub.add_parser("unit", parents=[common], help="the procuratorates this deployment serves")
    unit_sub = unit.add_subparsers(dest="action", required=True)
    unit_sub.add_parser("list", parents=[common])
    unit_add = unit_sub.add_parser("add", parents=[common])
    unit_add.add_argument("--name", required=True)
    unit_add.add_argument("--prefix", required=True, help="its matter numbers' prefix: LB, SMX")
    unit_add.add_argument("--parent", help="the prefix of the unit above it (the city's, for a county)")
    unit_add.add_argument("--timezone", help="the deployment's ([unit] timezone): its units' days, deadlines and "
                          "working hours are counted in one time zone")
    unit_set = unit_sub.add_parser("set", parents=[common], help="a unit's own paper settings")
    unit_set.add_argument("prefix", help="the unit's prefix, e.g. LB")
    for command in (unit_add, unit_set):
        command.add_argument("--document-number", help="发文字号, {year} the year: 灵检〔{year}〕　号")
        command.add_argument("--addressee", help="主送机关 (a new unit's default: the unit above it)")
        command.add_argument("--issuer", help="印发机关 (default: the unit's office)")
        command.add_argument("--signer", help="签发人 (default: a blank to sign by hand)")
        command.add_argument("--copy-to", help="抄送机关")
        command.add_argument("--regulation", help="the title of the unit's own liaison regulation")
    dept = sub.add_parser("department", parents=[common], help="business departments")
    dept_sub = dept.add_subparsers(dest="action", required=True)
    dept_add = dept_sub.add_parser("add", parents=[common])
    dept_add.add_argument("name")
    dept_add.add_argument("--unit", help="the prefix of the unit it belongs to (needed once there are several)")
    staff = sub.add_parser("staff", parents=[common], help="staff accounts")
    staff_sub = staff.add_subparsers(dest="action", required=True)
    staff_add = staff_sub.add_parser("add", parents=[common])
    staff_add.add_argument("--name", required=True)
    staff_add.add_argument("--roles", required=True, help=f"comma-separated: {','.join(STAFF_ROLES)}")
    staff_add.add_argument("--department")
    staff_add.add_argument("--phone", default="")
    staff_add.add_argument("--wecom", help="their WeCom member's account (userid): bound at once, as `wecom bind` does")
    staff_add.add_argument("--unit", help="the prefix of the unit they work in (needed once there are several)")
    invite = sub.add_parser("invite", parents=[common], help="make a one-time invite link")
    who = invite.add_mutually_exclusive_group(required=True)
    who.add_argument("--name")
    who.add_argument("--person", type=int)
    invite.add_argument("--keep-accounts", action="store_true",
                        help="a staff member keeps their other account on the channel (e.g. two phones on purpose)")
    event = sub.add_parser("event", parents=[common], help="events: forums, work reports, inspections, ...")
    event_add = event.add_subparsers(dest="action", required=True).add_parser(
        "add", parents=[common], help="create an event; its invitations are sent by the running bot")
    event_add.add_argument("--kind", required=True,
                           choices=["forum", "work_report", "inspection", "open_day", "visit", "case_discussion",
                                    "other"])
    event_add.add_argument("--title", required=True)
    event_add.add_argument("--at", required=True, help='local date and time, e.g. "2026-12-05 09:30"')
    event_add.add_argument("--place", required=True)
    event_add.add_argument("--invite", required=True, help="all, npc, cppcc, supervisors or sector:NAME")
    event_add.add_argument("--department", action="append", default=[], help="a department that prepares (repeat)")
    event_add.add_argument("--matter", help="the matter of a case discussion, e.g. LS-2026-0001")
    event_add.add_argument("--unit", help="the prefix of the unit it is for (needed once there are several)")
    wecom = sub.add_parser("wecom", parents=[common], help="WeCom members: bind one to a person, set how choices show")
    wecom_sub = wecom.add_subparsers(dest="action", required=True)
    wecom_bind = wecom_sub.add_parser("bind", parents=[common], help="bind a person to a WeCom member (userid)")
    wecom_view = wecom_sub.add_parser("view", parents=[common], help="how choices are shown to a person on WeCom")
    for command in (wecom_bind, wecom_view):
        whom = command.add_mutually_exclusive_group(required=True)
        whom.add_argument("--name")
        whom.add_argument("--person", type=int)
    wecom_bind.add_argument("--userid", required=True, help="the member's account (账号) in the WeCom contacts")
    wecom_view.add_argument("mode", choices=["cards", "text", "default"])
    backup = sub.add_parser("backup", parents=[common],
                            help="one archive of the database and the files it names, safe while the bot runs")
    backup.add_argument("folder", type=Path, help="where to write liaison-backup-<time>.tar.gz")
    restore = sub.add_parser("restore", parents=[common],
                             help="check a backup archive and put it back into an empty data folder")
    restore.add_argument("archive", type=Path)
    restore.add_argument("--check", action="store_true", help="only check the archive; change nothing")
    audit_log = sub.add_parser("audit", parents=[common], help="the audit log")
    audit_sub = audit_log.add_subparsers(dest="action", required=True)
    verify = audit_sub.add_parser("verify", parents=[common], help="check the hash chain and print its head")
    verify.add_argument("--head", action="append", default=[], metavar="HASH",
                        help="a head published earlier (COUNT:HASH or HASH): it must still be in the log (repeat)")
    verify.add_argument("--heads", type=Path, metavar="FILE",
                        help="a file of heads published earlier, one a line (COUNT HASH, or a line of a report)")
    verify.add_argument("--unit", help="also count that unit's entries (the log is one chain for the deployment)")
    report = sub.add_parser("report", parents=[common], help="draw a report: the half-year report, the assessment")
    report_sub = report.add_subparsers(dest="action", required=True)
    half_year = report_sub.add_parser("half-year", parents=[common],
                                      help="the half-year report (.docx, with its tables as .xlsx beside it)")
    half_year.add_argument("period", help="the half-year, e.g. 2026H1 (January-June) or 2026H2 (July-December)")
    half_year.add_argument("--out", type=Path, required=True, help="the .docx file to write")
    half_year.add_argument("--to", help="the addressee 主送机关, instead of report.addressee of the configuration")
    half_year.add_argument("--unit", help="the prefix of the unit it is for (needed once there are several)")
    assessment = report_sub.add_parser("assessment", parents=[common], help="the yearly assessment (.xlsx)")
    assessment.add_argument("year", help="e.g. 2026")
    assessment.add_argument("--out", type=Path, required=True, help="the .xlsx file to write")
    assessment.add_argument("--unit", help="the prefix of the unit it is for (needed once there are several)")
    ledger = report_sub.add_parser("ledger", parents=[common], help="the register ledger 登记台账 (.xlsx)")
    ledger.add_argument("period", help="registered in: 2026, 2026H1, 2026-03 or 2026-01-01..2026-03-31")
    ledger.add_argument("--out", type=Path, required=True, help="the .xlsx file to write")
    ledger.add_argument("--kind", action="append", default=[], help="suggestion, 建议, ... (repeat for several)")
    ledger.add_argument("--department", action="append", default=[], help="a department's name, or 尚未交办 (repeat)")
    ledger.add_argument("--state", action="append", default=[],
                        help="a state (assigned, 办理中, ...), 未办结, 办结 or 逾期未办结 (repeat)")
    ledger.add_argument("--unit", help="the prefix of the unit it is for (needed once there are several)")
    move = sub.add_parser("migrate-to", parents=[common],
                          help="copy the SQLite database into an empty PostgreSQL database, counted and verified")
    move.add_argument("url", help="postgresql://USER@HOST:PORT/DATABASE (the password in PGPASSWORD)")
    key = sub.add_parser("key", parents=[common], help="the data key that seals personal data")
    key_sub = key.add_subparsers(dest="action", required=True)
    key_sub.add_parser("new", parents=[common], help="print a new key (for LIAISON_DATA_KEY)")
    key_sub.add_parser("rotate", parents=[common], help="seal everything again under a new key (bot stopped)")
    calendar = sub.add_parser("calendar", parents=[common],
                              help="the working-day calendar of a year: holidays, make-up days and their source")
    calendar.add_argument("year", nargs="?", type=int, help="e.g. 2027 (default: this year)")
    return parser


def setup_logging() -> None:
    """One line a record: when, how grave, which module, what (ids and states, never a message's words)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Nothing in the format names a thread or a process: not looked up for every record (the logging
    # HOWTO's "Optimization"; the bot logs a line for each update handled and each message sent).
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    # httpx logs every request URL at INFO, and a Bot API URL contains the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


def main(argv: list[str] | None = None, clock: Clock | None = None) -> int:
    """The operator's command line; `clock` is the machine's unless a test moves one."""
    args = _parser().parse_args(argv)
    for key, value in vars(args).items():  # names and titles typed by the operator are user text too
        if isinstance(value, str):
            setattr(args, key, normalise(value))
        elif isinstance(value, list):
            setattr(args, key, [normalise(v) if isinstance(v, str) else v for v in value])
    as_json = getattr(args, "json", False)
    path = getattr(args, "config", None)
    if path is None and Path("config.toml").exists():
        path = Path("config.toml")
    try:
        config = config_module.load(path)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    setup_logging()
    try:
        return _dispatch(args, config, as_json, clock or SystemClock())
    except ConfigError as exc:  # found once the database is open: the data key
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except LiaisonError as exc:  # e.g. a database newer than the program: one line, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _dispatch(args: argparse.Namespace, config: Config, as_json: bool, clock: Clock) -> int:
    if args.command == "run":
        from bot.runner import run  # imports the channels only when running

        if config.database.url:  # PostgreSQL: one leads, the others stand by (storage/leadership.py)
            return asyncio.run(run(config, args.channel))
        with InstanceLock(config.storage.database):  # one bot per SQLite database (bot/instance.py)
            return asyncio.run(run(config, args.channel))
    if args.command == "key" and args.action == "new":
        _print({"ok": True, **make_key()} if as_json else make_key()["message"], as_json)
        return 0
    if args.command == "restore":
        return _outcome(lambda: asyncio.run(restore_archive(config, args)), as_json)
    if args.command == "calendar":
        year = clock.now().astimezone(config.unit.tz).year if args.year is None else args.year
        if not 2000 <= year <= 2100:
            print("the year must be from 2000 to 2100", file=sys.stderr)
            return 2
        return _outcome(lambda: calendar_days(config, year), as_json)
    if args.command == "migrate-to":
        return _outcome(lambda: asyncio.run(move_database(config, args, clock.now())), as_json)
    commands: dict[str, Callable[[App, argparse.Namespace], Awaitable[dict[str, Any]]]] = {
        "import-roster": import_roster,
        "import-contacts": import_contacts,
        "access": change_access,
        "department": add_department,
        "unit": unit_command,
        "staff": add_staff,
        "invite": make_invite,
        "event": add_event,
        "wecom": wecom_member,
        "backup": backup_archive,
        "audit": verify_audit,
        "key": rotate_key,
        "report": draw_report,
    }
    return _outcome(lambda: asyncio.run(_with_app(config, clock, lambda app: commands[args.command](app, args))),
                    as_json)


def _outcome(command: Callable[[], dict[str, Any]], as_json: bool) -> int:
    """Run an operator's command; print what it returns (its "message", or all of it as JSON), or its refusal
    on stderr with exit status 1."""
    try:
        result = command()
    except Refused as exc:
        _print({"ok": False, "error": str(exc), **exc.data} if as_json else str(exc), as_json, stream=sys.stderr)
        return 1
    _print({"ok": True, **result} if as_json else result["message"], as_json)
    return 0


async def _with_app(config: Config, clock: Clock, work: Callable[[App], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    app = await App.open(config, clock)
    try:
        return await work(app)
    finally:
        await app.close()


def _print(value: object, as_json: bool, stream: Any = None) -> None:
    text = json.dumps(value, ensure_ascii=False) if as_json else str(value)
    print(text, file=stream or sys.stdout)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except UserError as exc:  # a refusal that reached the top: show it, never a traceback
        print(exc.msgid, file=sys.stderr)
        sys.exit(1)
