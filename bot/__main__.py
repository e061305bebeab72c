"""The operator's command line: `python -m bot [--config PATH] [--json] COMMAND ...`.

    run                      the bot: Telegram when a token is configured, WeCom when [wecom] is, else the console
    import-roster FILE [--disable-missing]   representatives from CSV or XLSX (re-import updates, never
                             duplicates); lists the representatives the file no longer names, and disables
                             them only with --disable-missing
    access show|disable|enable --name NAME | --person ID    a person's access: disable stops all their
                             chat accounts at once (their history stays), enable restores them
    access unbind --name NAME --channel telegram|wecom [--account ID]   end one chat account
    access roles --name NAME --roles office,handler,...|none            set a staff member's roles
    import-contacts FILE     a log of contacts with representatives from CSV or XLSX (re-import adds nothing twice)
    department add NAME      a business department
    staff add --name N --roles office,handler,... [--department D] [--phone P]
    invite --name NAME | --person ID [--keep-accounts]   a one-time invite code and its deep link; a staff
                             member's account bound with it ends their other account on that channel, unless
                             --keep-accounts
    wecom bind --name NAME --userid ID   bind a person to a WeCom member (the office adds deputies to the corp)
    wecom view --name NAME cards|text|default   how choices are shown to a person on WeCom
    event add --kind K --title T --at "2026-12-05 09:30" --place P --invite all|npc|cppcc|supervisors|sector:S
              [--department D ...] [--matter LS-2026-0001]     an event, its invitations queued for the bot
    backup DIR               one archive (database, the files it names, a manifest with hashes), safe while
                             the bot runs; the data key is never in it
    restore ARCHIVE [--check]   check an archive whole (hashes, database, audit chain) and put it back
                             into an empty data folder; --check changes nothing
    audit verify [--head COUNT:HASH ...] [--heads FILE]
                             check the audit log's hash chain, print its head hash to publish, and check
                             that heads published earlier (reports, bulletins) are still in it
    report half-year 2026H2 --out FILE.docx [--to NAME]   the half-year report to the higher procuratorate
                             (seed §17), its tables also in FILE.xlsx beside it
    report assessment 2026 --out FILE.xlsx                the yearly assessment per department and staff (§19)
    report ledger 2026 --out FILE.xlsx [--kind K] [--department D] [--state S]
                             the register ledger of the matters registered in a period (2026, 2026H2,
                             2026-03, 2026-01-01..2026-03-31), one row each (§3)
    key new | key rotate     print a new data key; seal everything again under a new key (bot stopped)
    calendar [YEAR]          the year's days off on weekdays and working weekend days, and where they come from

Every command takes --json for scripts. Exit status: 0 done, 1 refused (the message
says why, nothing was changed), 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot import config as config_module
from bot.app import App
from bot.clock import Clock, SystemClock
from bot.config import Config
from bot.contacts_file import ContactsFileError, describe, read_contacts
from bot.domain import STAFF_ROLES, normalise_phone
from bot.errors import ConfigError, LiaisonError, UserError
from bot.instance import InstanceLock
from bot.operator import Refused, backup_archive, make_key, restore_archive, rotate_key
from bot.roster_file import RosterFileError, read_roster
from bot.text import normalise
from bot.workdays import format_days
from handlers import access
from handlers.binding import create_invite
from storage import access as access_store
from storage import audit, contacts, people, roster
from storage.records import RECORDS

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
    dept = sub.add_parser("department", parents=[common], help="business departments")
    dept_sub = dept.add_subparsers(dest="action", required=True)
    dept_sub.add_parser("add", parents=[common]).add_argument("name")
    staff = sub.add_parser("staff", parents=[common], help="staff accounts")
    staff_sub = staff.add_subparsers(dest="action", required=True)
    staff_add = staff_sub.add_parser("add", parents=[common])
    staff_add.add_argument("--name", required=True)
    staff_add.add_argument("--roles", required=True, help=f"comma-separated: {','.join(STAFF_ROLES)}")
    staff_add.add_argument("--department")
    staff_add.add_argument("--phone", default="")
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
    report = sub.add_parser("report", parents=[common], help="draw a report: the half-year report, the assessment")
    report_sub = report.add_subparsers(dest="action", required=True)
    half_year = report_sub.add_parser("half-year", parents=[common],
                                      help="the half-year report (.docx, with its tables as .xlsx beside it)")
    half_year.add_argument("period", help="the half-year, e.g. 2026H1 (January-June) or 2026H2 (July-December)")
    half_year.add_argument("--out", type=Path, required=True, help="the .docx file to write")
    half_year.add_argument("--to", help="the addressee 主送机关, instead of report.addressee of the configuration")
    assessment = report_sub.add_parser("assessment", parents=[common], help="the yearly assessment (.xlsx)")
    assessment.add_argument("year", help="e.g. 2026")
    assessment.add_argument("--out", type=Path, required=True, help="the .xlsx file to write")
    ledger = report_sub.add_parser("ledger", parents=[common], help="the register ledger 登记台账 (.xlsx)")
    ledger.add_argument("period", help="registered in: 2026, 2026H1, 2026-03 or 2026-01-01..2026-03-31")
    ledger.add_argument("--out", type=Path, required=True, help="the .xlsx file to write")
    ledger.add_argument("--kind", action="append", default=[], help="suggestion, 建议, ... (repeat for several)")
    ledger.add_argument("--department", action="append", default=[], help="a department's name, or 尚未交办 (repeat)")
    ledger.add_argument("--state", action="append", default=[],
                        help="a state (assigned, 办理中, ...), 未办结, 办结 or 逾期未办结 (repeat)")
    key = sub.add_parser("key", parents=[common], help="the data key that seals personal data")
    key_sub = key.add_subparsers(dest="action", required=True)
    key_sub.add_parser("new", parents=[common], help="print a new key (for LIAISON_DATA_KEY)")
    key_sub.add_parser("rotate", parents=[common], help="seal everything again under a new key (bot stopped)")
    calendar = sub.add_parser("calendar", parents=[common],
                              help="the working-day calendar of a year: holidays, make-up days and their source")
    calendar.add_argument("year", nargs="?", type=int, help="e.g. 2027 (default: this year)")
    return parser


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
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request URL at INFO, and a Bot API URL contains the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
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

        with InstanceLock(config.storage.database):  # one bot per database (bot/instance.py)
            return asyncio.run(run(config, args.channel))
    if args.command == "key" and args.action == "new":
        _print({"ok": True, **make_key()} if as_json else make_key()["message"], as_json)
        return 0
    if args.command == "restore":
        try:
            result = asyncio.run(restore_archive(config, args))
        except Refused as exc:
            _print({"ok": False, "error": str(exc), **exc.data} if as_json else str(exc), as_json, stream=sys.stderr)
            return 1
        _print({"ok": True, **result} if as_json else result["message"], as_json)
        return 0
    if args.command == "calendar":
        return show_calendar(config, args.year, as_json, clock)
    commands: dict[str, Callable[[App, argparse.Namespace], Awaitable[dict[str, Any]]]] = {
        "import-roster": import_roster,
        "import-contacts": import_contacts,
        "access": change_access,
        "department": add_department,
        "staff": add_staff,
        "invite": make_invite,
        "event": add_event,
        "wecom": wecom_member,
        "backup": backup_archive,
        "audit": verify_audit,
        "key": rotate_key,
        "report": draw_report,
    }
    try:
        result = asyncio.run(_with_app(config, clock, lambda app: commands[args.command](app, args)))
    except Refused as exc:
        _print({"ok": False, "error": str(exc), **exc.data} if as_json else str(exc), as_json, stream=sys.stderr)
        return 1
    _print({"ok": True, **result} if as_json else result["message"], as_json)
    return 0


def show_calendar(config: Config, year: int | None, as_json: bool, clock: Clock) -> int:
    """What the reminders take as working days in `year`: its exceptions to Monday-Friday, and their source."""
    year = clock.now().astimezone(config.unit.tz).year if year is None else year
    if not 2000 <= year <= 2100:
        print("the year must be from 2000 to 2100", file=sys.stderr)
        return 2
    calendar = config.calendar
    source = calendar.source(year)
    exceptions = calendar.exceptions(year)
    off = [d for d, working in exceptions if not working]
    worked = [d for d, working in exceptions if working]
    declared = sorted(d for d in calendar.holidays | calendar.workdays if d.year == year)
    if as_json:
        _print({"ok": True, "year": year, "source": source, "days_off": [d.isoformat() for d in off],
                "working_weekend_days": [d.isoformat() for d in worked],
                "declared": [d.isoformat() for d in declared]}, True)
        return 0
    heading = {
        "package": f"{year}: the mainland calendar of the chinese-calendar package"
                   + (f", with {len(declared)} day(s) declared under [calendar]" if declared else ""),
        "config": f"{year}: the days declared under [calendar] (the chinese-calendar package does not know {year})",
        "weekdays": f"{year}: neither the chinese-calendar package nor [calendar] knows this year, so Monday to"
                    " Friday is assumed; declare its holidays and make-up working days under [calendar]"
                    " (config.example.toml) once the State Council publishes them",
    }[source]
    lines = [heading,
             "days off, Monday to Friday: " + (format_days(off) or "none"),
             "working days on a weekend: " + (format_days(worked) or "none")]
    print("\n".join(lines))
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


PROBLEMS = {
    "missing": "line {line}: {column} is missing",
    "invalid_body": "line {line}: {value!r} is not 人大代表/政协委员 (npc/cppcc)",
    "invalid_supervisor": "line {line}: {value!r} is not 是/否 (yes/no)",
    "invalid_phone": "line {line}: {value!r} is not a phone number",
    "duplicate": "line {line}: {value!r} appears twice in the file",
    "too_long": "line {line}: {column} is too long",
    "no_header": "line {line}: no header row (姓名/name, 类别/body, ...)",
    "missing_column": "the column {column} is missing",
    "unknown_format": "not a CSV or XLSX file ({value})",
    "empty": "the file holds no representatives",
    "too_large": "the file is refused, too large to import: {value}; split it into smaller files",
}


async def import_roster(app: App, args: argparse.Namespace) -> dict[str, Any]:
    try:
        rows = read_roster(args.file)
    except FileNotFoundError:
        raise Refused(f"no such file: {args.file}") from None
    except RosterFileError as exc:
        lines = [PROBLEMS[p.problem].format(line=p.line, column=p.column, value=p.value) for p in exc.problems]
        raise Refused("nothing imported; the file has problems:\n" + "\n".join(lines)) from None
    now = app.clock.now()
    async with app.db.transaction() as tx:
        result = await roster.upsert(tx, rows, now)
        missing = await access_store.representatives_not_in(tx, set(result.seen))
        if args.disable_missing:
            for person_id, _name in missing:
                person = await people.get(tx, person_id)
                assert person is not None
                await access.disable(tx, now, None, person)
    message = f"imported {len(rows)} rows: {result.added} added, {result.updated} updated, {result.unchanged} unchanged"
    if missing:
        names = ", ".join(f"{name} (person {person_id})" for person_id, name in missing)
        message += (f"\n{len(missing)} representative(s) no longer on the roster "
                    + ("were disabled" if args.disable_missing else "(to disable them: --disable-missing)")
                    + f": {names}")
    return {"message": message, "added": result.added, "updated": result.updated, "unchanged": result.unchanged,
            "missing": [person_id for person_id, _ in missing], "disabled": bool(args.disable_missing and missing)}


async def change_access(app: App, args: argparse.Namespace) -> dict[str, Any]:
    """`access show|disable|enable|unbind|roles`: as the office does with /access in chat, audited (actor: none,
    the operator)."""
    from handlers.access import describe
    from bot.i18n import Translator

    now = app.clock.now()
    async with app.db.transaction() as tx:
        person = await _person_of(tx, args)
        try:
            if args.action == "show":
                text = await describe(tx, Translator("en", app.config.unit.tz), person)
                return {"message": text, "person": person.id}
            if args.action == "disable":
                done = await access.disable(tx, now, None, person)
                message = (f"{person.name} (person {person.id}) disabled: {done.accounts} chat account(s) stopped,"
                           f" {done.dialogues} open dialogue(s) ended, {done.withdrawn} unsent message(s) withdrawn")
                if done.open_matters:
                    message += (f"; open matters {', '.join(done.open_matters)} stay with the unit, and what the bot"
                                " would send them goes to the liaison office")
                if done.urged:
                    message += f"; they urge the open matters {', '.join(done.urged)}: reassign them"
                return {"message": message, "person": person.id, "open_matters": done.open_matters,
                        "urged": done.urged}
            if args.action == "enable":
                await access.enable(tx, now, None, person)
                return {"message": f"{person.name} (person {person.id}) enabled again", "person": person.id}
            if args.action == "unbind":
                ended = await access.unbind(tx, now, None, person, args.channel.strip().lower(), args.account)
                return {"message": f"{person.name} (person {person.id}): {len(ended)} account(s) on {args.channel}"
                                   " unbound", "person": person.id, "unbound": len(ended)}
            given = args.roles.strip()
            roles = frozenset() if given.lower() in ("none", "-", "") else frozenset(
                r.strip() for r in given.split(",") if r.strip())
            await access.set_roles(tx, now, None, person, roles)
            return {"message": f"{person.name} (person {person.id}): roles {','.join(sorted(roles)) or 'none'}",
                    "person": person.id, "roles": sorted(roles)}
        except UserError as exc:
            raise Refused(exc.msgid.format(**exc.params)) from None


async def import_contacts(app: App, args: argparse.Namespace) -> dict[str, Any]:
    """Every row a contact (source 'import'), each row once however often the file is imported; any problem
    in the file or with a name on it, and nothing is imported."""
    now = app.clock.now()
    try:
        rows, problems = read_contacts(args.file, now.astimezone(app.config.unit.tz).date()), []
    except FileNotFoundError:
        raise Refused(f"no such file: {args.file}") from None
    except ContactsFileError as exc:  # the good rows are checked against the roster too: one complete list
        rows, problems = list(exc.rows), list(exc.problems)
    try:
        async with app.db.transaction() as tx:
            result = await contacts.import_rows(tx, rows, now, problems)
    except ContactsFileError as exc:
        lines = [describe(p) for p in exc.problems]
        raise Refused("nothing imported; the file has problems:\n" + "\n".join(lines)) from None
    message = f"imported {len(rows)} rows: {result.added} contacts added, {result.unchanged} already recorded"
    return {"message": message, "added": result.added, "unchanged": result.unchanged}


async def add_department(app: App, args: argparse.Namespace) -> dict[str, Any]:
    name = args.name.strip()
    if not name or len(name) > 50:
        raise Refused("a department name is 1 to 50 characters")
    async with app.db.transaction() as tx:
        if await people.department_by_name(tx, name) is not None:
            raise Refused(f"department {name} exists already")
        dept_id = await people.add_department(tx, name, app.clock.now())
    return {"message": f"department {name} added (id {dept_id})", "id": dept_id}


async def add_staff(app: App, args: argparse.Namespace) -> dict[str, Any]:
    roles = sorted({r.strip() for r in args.roles.split(",") if r.strip()})
    unknown = [r for r in roles if r not in STAFF_ROLES]
    if not roles or unknown:
        raise Refused(f"unknown role(s) {', '.join(unknown) or '(none given)'}; roles are {', '.join(STAFF_ROLES)}")
    name = args.name.strip()
    if not name or len(name) > 50:
        raise Refused("a name is 1 to 50 characters")
    async with app.db.transaction() as tx:
        dept_id = None
        if args.department:
            dept_id = await people.department_by_name(tx, args.department.strip())
            if dept_id is None:
                raise Refused(f"no department {args.department}; add it first: department add NAME")
        if "handler" in roles and dept_id is None:
            raise Refused("a handler belongs to a department: give --department")
        person_id = await people.add_staff(tx, name, dept_id, roles, normalise_phone(args.phone), app.clock.now())
    return {"message": f"staff {name} added (person {person_id}, roles {','.join(roles)})", "person": person_id}


async def _person_of(tx: Any, args: argparse.Namespace) -> people.Person:
    """The person named by --person ID or --name NAME (one only)."""
    if args.person is not None:
        person = await people.get(tx, args.person)
        if person is None:
            raise Refused(f"no person with id {args.person}")
        return person
    found = await people.find_by_name(tx, args.name.strip())
    if not found:
        raise Refused(f"nobody named {args.name} on the roster or staff list")
    if len(found) > 1:
        ids = ", ".join(str(p.id) for p in found)
        raise Refused(f"{len(found)} people are named {args.name} (ids {ids}); use --person ID")
    return found[0]


async def wecom_member(app: App, args: argparse.Namespace) -> dict[str, Any]:
    """`wecom bind`: the person bound to the WeCom member directly; `wecom view`: their presentation."""
    from handlers.accounts import valid_userid

    now = app.clock.now()
    async with app.db.transaction() as tx:
        person = await _person_of(tx, args)
        if args.action == "view":
            await people.set_presentation(tx, person.id, None if args.mode == "default" else args.mode, now)
            await audit.record(tx, now, None, "presentation_set", detail={"person_id": person.id,
                                                                        "presentation": args.mode})
            return {"message": f"{person.name} (person {person.id}): choices on WeCom shown as {args.mode}",
                    "person": person.id, "mode": args.mode}
        userid = args.userid.strip()
        if not valid_userid(userid):
            raise Refused(f"{userid!r} is not a WeCom userid (letters, digits and _-@. only, at most 64)")
        holder = await people.by_identity(tx, "wecom", userid)
        if holder is not None:
            raise Refused(f"the WeCom member {userid} is already bound to {holder.name} (person {holder.id})")
        await people.bind_identity(tx, "wecom", userid, userid, person.id, now)
        await access.end_other_accounts(tx, now, person, ("wecom", userid))  # a staff member's old member ends
        await audit.record(tx, now, None, "bound", detail={"channel": "wecom", "person_id": person.id,
                                                          "by": "operator"})
    return {"message": f"{person.name} (person {person.id}) bound to the WeCom member {userid}",
            "person": person.id, "userid": userid}


async def make_invite(app: App, args: argparse.Namespace) -> dict[str, Any]:
    async with app.db.transaction() as tx:
        person = await _person_of(tx, args)
        ttl = app.config.binding.invite_ttl_days
        code = await create_invite(tx, person.id, app.clock.now(), ttl, keep_accounts=args.keep_accounts)
    # the t.me link only where Telegram is the channel (or may be: no WeCom); a WeCom unit gives the words
    telegram = bool(app.config.telegram.token) or not app.config.wecom.enabled
    link = f"https://t.me/{app.config.telegram.bot_username}?start={code}" if telegram else None
    lines = [f"  code: {code}", f"  link: {link}" if link else "",
             f"  WeCom: send the app the message 绑定 {code}" if app.config.wecom.enabled else "",
             f"  console: /start {code}"]
    message = "\n".join([f"invite for {person.name} (person {person.id}), valid {ttl} days, single use:",
                          *filter(None, lines)])
    return {"message": message, "person": person.id, "code": code, "link": link}


async def add_event(app: App, args: argparse.Namespace) -> dict[str, Any]:
    """`event add`: the event, its preparation tasks and invitations, as the office creates one in chat; the
    invitations are queued for the channel the bot runs on (Telegram with a token, else the console)."""
    from bot.context import Context
    from bot.i18n import Translator
    from bot.messages import Incoming
    from handlers import events
    from storage import matters

    config, now = app.config, app.clock.now()
    starts_at = events.parse_when(args.at, config.unit.tz)
    if starts_at is None:
        raise Refused(f"--at {args.at!r} is not a date and time like 2026-12-05 09:30")
    invite = args.invite.strip()
    sector = invite.startswith("sector:") and bool(invite.removeprefix("sector:").strip())
    if invite not in ("all", "npc", "cppcc", "supervisors") and not sector:
        raise Refused("--invite is all, npc, cppcc, supervisors or sector:NAME")
    if bool(args.matter) != (args.kind == "case_discussion"):
        raise Refused("a case discussion, and only a case discussion, needs --matter")
    channels = running_channels(config)
    async with app.db.transaction() as tx:
        departments = []
        for name in args.department:
            department = await people.department_by_name(tx, name.strip())
            if department is None:
                raise Refused(f"no department {name}; add it first: department add NAME")
            departments.append(department)
        matter = await matters.by_number(tx, args.matter) if args.matter else None
        if args.matter and matter is None:
            raise Refused(f"no matter {args.matter}")
        ctx = Context(tx, Incoming(channel="cli", user_id="operator", chat_id=""), now, config, None,
                      Translator("en", config.unit.tz, config.terms), channels=channels, records=RECORDS)
        new = events.NewEvent(kind=args.kind, title=args.title, starts_at=starts_at, place=args.place,
                              audience=invite, departments=departments, matter_id=matter.id if matter else None)
        try:
            created = await events.create(ctx, new, operator=True)
        except UserError as exc:
            raise Refused(ctx._(exc.msgid, **exc.params)) from None
    message = (f"event {created.event_id} created: {created.invited} invited, {created.reached} with a chat bound; "
               "the bot sends the invitations")
    return {"message": message, "event": created.event_id, "invited": created.invited, "reached": created.reached}


def running_channels(config: Config) -> frozenset[str]:
    """The channels `run` starts with this configuration: where queued messages can go."""
    names = {name for name, on in (("telegram", bool(config.telegram.token)), ("wecom", config.wecom.enabled)) if on}
    return frozenset(names or {"console"})


async def verify_audit(app: App, args: argparse.Namespace) -> dict[str, Any]:
    """`audit verify [--head HASH] [--heads FILE]`: recompute the chain; a broken one is refused (exit 1) naming
    the first broken entry, and so is a head published earlier that the log no longer holds (entries removed
    from its end, or the table emptied: the chain alone cannot tell, the published head can)."""
    anchors = [a for value in args.head for a in audit.parse_anchors(value.replace(":", " "))]
    if len(anchors) != len(args.head):
        raise Refused("--head takes a 64-digit hash, or COUNT:HASH, as the audit verify output or a report prints it")
    if args.heads is not None:
        try:
            from_file = audit.parse_anchors(args.heads.read_text("utf-8"))
        except OSError as exc:
            raise Refused(f"cannot read {args.heads}: {exc.strerror}") from None
        if not from_file:
            raise Refused(f"{args.heads} holds no head (a 64-digit hash on a line)")
        anchors += from_file
    async with app.db.snapshot() as q:
        checked, broken = await audit.verify(q)
        head = await audit.head(q)
        missing = await audit.missing_anchors(q, anchors)
    head_hash = None if head is None else head[1]
    if broken is not None:
        raise Refused(f"audit log broken at entry {broken.id}: {broken.reason}",
                      entries=checked, broken=broken.id, reason=broken.reason, head=head_hash)
    if missing:
        first = missing[0]
        where = f"entry {first.count}, " if first.count is not None else ""
        raise Refused(f"audit log cut short or rewritten: the head published earlier ({where}{first.hash}) is not in "
                      f"it; it holds {checked} entries now. Put back the last backup that holds it, and find out who "
                      "had the database file", entries=checked, broken=None, reason="published head missing",
                      head=head_hash, missing=[a.hash for a in missing])
    message = f"audit log intact: {checked} entries, head {head_hash}"
    result: dict[str, Any] = {"entries": checked, "broken": None, "reason": None, "head": head_hash}
    if anchors:
        message += f"; the {len(anchors)} head(s) published earlier are in it"
        result["anchors"] = len(anchors)
    return {"message": message, **result}


async def draw_report(app: App, args: argparse.Namespace) -> dict[str, Any]:
    """`report half-year PERIOD --out FILE.docx` (and FILE.xlsx) or `report assessment YEAR --out FILE.xlsx`,
    as of today in the unit's time zone; an existing file is replaced."""
    from bot import office_files
    from handlers import report_text
    from handlers import reports

    config, out = app.config, Path(args.out)
    today = app.clock.now().astimezone(config.unit.tz).date()
    if args.action == "half-year":
        try:
            period = reports.HalfYear.parse(args.period)
        except reports.PeriodError:
            raise Refused(f"{args.period!r} is not a half-year: write 2026H1 (January-June) or 2026H2 "
                          "(July-December)") from None
        if out.suffix.lower() != ".docx":
            raise Refused(f"--out {out} must be a .docx file (the workbook is written beside it)")
        if period.first > today:
            raise Refused(f"the half-year {period.code} has not begun")
        async with app.db.snapshot() as q:
            figures = await reports.half_year(q, period, today, config.unit.tz, config.unit.name)
        docx, xlsx = report_text.half_year_files(
            report_text.half_year_report(figures, app.clock.now(), config.unit.tz, config.report, args.to,
                                         config.terms.regulation))
        workbook = out.with_suffix(".xlsx")
        office_files.save(out, docx)
        office_files.save(workbook, xlsx)
        return {"message": f"half-year report {period.code} (as of {figures.as_of}) written to {out} and {workbook}",
                "period": period.code, "as_of": figures.as_of.isoformat(), "docx": str(out), "xlsx": str(workbook),
                "registered": figures.registered, "contacts": figures.contacts}
    if args.action == "ledger":
        return await draw_ledger(app, args)
    try:
        year = reports.parse_year(args.year)
    except reports.PeriodError:
        raise Refused(f"{args.year!r} is not a year, e.g. 2026") from None
    if out.suffix.lower() != ".xlsx":
        raise Refused(f"--out {out} must be an .xlsx file")
    if year > today.year:
        raise Refused(f"the year {year} has not begun")
    async with app.db.snapshot() as q:
        assessed = await reports.assessment(q, year, today, config.unit.tz, config.unit.name)
    office_files.save(out, report_text.assessment_file(assessed, app.clock.now(), config.unit.tz))
    return {"message": f"assessment {year} (as of {assessed.as_of}) written to {out}", "year": year,
            "as_of": assessed.as_of.isoformat(), "xlsx": str(out), "departments": len(assessed.departments),
            "staff": len(assessed.staff)}



async def draw_ledger(app: App, args: argparse.Namespace) -> dict[str, Any]:
    """`report ledger PERIOD --out FILE.xlsx [--kind K] [--department D] [--state S]`, on a snapshot."""
    from bot import office_files
    from handlers import ledger
    from storage import people as people_store

    config, out = app.config, Path(args.out)
    now = app.clock.now()
    if out.suffix.lower() != ".xlsx":
        raise Refused(f"--out {out} must be an .xlsx file")
    if ledger.period(args.period, now.astimezone(config.unit.tz).date()) is None:
        raise Refused(f"{args.period!r} is not a period: write 2026, 2026H1, 2026-03 or 2026-01-01..2026-03-31")
    async with app.db.snapshot() as q:
        try:
            found = ledger.parse([args.period, *args.kind, *args.department, *args.state],
                                 now.astimezone(config.unit.tz).date(), await people_store.departments(q))
        except ledger.FilterError as exc:
            raise Refused(f"{exc.params['word']!r} is not a kind, a department or a state") from None
        data, count = await ledger.ledger_file(q, found, config.unit.name, now, config.unit.tz)
    office_files.save(out, data)
    return {"message": f"ledger {found.first}..{found.last}: {count} matters written to {out}",
            "first": found.first.isoformat(), "last": found.last.isoformat(), "matters": count, "xlsx": str(out)}


if __name__ == "__main__":
    try:
        sys.exit(main())
    except UserError as exc:  # a refusal that reached the top: show it, never a traceback
        print(exc.msgid, file=sys.stderr)
        sys.exit(1)
