"""Units (issue 17, docs/design-units.md, green step 1): the `units` table, unit 1 the one [unit] describes,
`unit_id` on every row that belongs to a unit; a county's database of the previous version keeps every row, number
and its audit chain, all of it unit 1's; `unit add` and what it refuses, changing nothing."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from bot.app import App
from bot.config import UnitConfig
from bot.errors import ConfigError
from storage import audit, units
from tests.cast import populated
from tests.fakes import Harness, MovableClock, RecordingChannel
from tests.fakes import test_config as config_in

MIGRATIONS = Path(__file__).resolve().parents[1] / "storage" / "migrations"
OWNED = ("departments", "persons", "matters", "contacts", "events", "cards", "briefings", "invites",
         "supervisor_terms", "npc_register", "halfyear_reports", "reminders")
KEPT = ("persons", "departments", "matters", "timeline", "replies", "attachments", "audit_log", "outbox", "inbox",
        "identities", "invites")


async def _snapshot(app: App) -> dict[str, object]:
    async with app.db.snapshot() as q:
        seen: dict[str, object] = {t: await q.all(f"SELECT * FROM {t} ORDER BY 1") for t in KEPT}
        seen["numbers"] = [r[0] for r in await q.all("SELECT number FROM matters ORDER BY id")]
        seen["chain"] = await audit.verify(q)
        seen["head"] = await audit.head(q)
    return seen


async def _without_units(app: App) -> None:
    """The schema before units: 0029 (an index of a unit's representatives), 0028 (the audit log's unit), 0027 (transfers between units), 0026 (assignment to a county), 0025 (memberships), 0024 (a unit's papers: columns of `units`, dropped with it), 0023
    (half-year reports per unit), 0022 (departments unique per unit) and 0021 taken back out."""
    async with app.db.transaction() as tx:
        await tx.execute("DROP INDEX persons_unit_members")
        await tx.execute("DROP INDEX audit_log_unit")
        await tx.execute("ALTER TABLE audit_log DROP COLUMN unit_id")
        await tx.execute("ALTER TABLE matters DROP COLUMN transferred_from_id")
        await tx.execute("DROP INDEX matters_handling_unit")
        await tx.execute("ALTER TABLE matters DROP COLUMN handling_unit_id")
        await tx.execute("DROP VIEW unit_members")
        await tx.execute("DROP TABLE memberships")
    if app.db.dialect == "sqlite":  # 0001's departments and 0006's half-year reports again (SQLite rebuilds them)
        await app.db.run_script(
            "PRAGMA foreign_keys=OFF; BEGIN IMMEDIATE;"
            " CREATE TABLE departments_before (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
            " created_at TEXT NOT NULL);"
            " INSERT INTO departments_before SELECT id, name, created_at FROM departments;"
            " DROP TABLE departments; ALTER TABLE departments_before RENAME TO departments;"
            " CREATE TABLE halfyear_before (period TEXT PRIMARY KEY CHECK (period LIKE '____H_'),"
            " sent_on TEXT NOT NULL CHECK (sent_on LIKE '____-__-__'), marked_by INTEGER REFERENCES persons (id),"
            " marked_at TEXT NOT NULL);"
            " INSERT INTO halfyear_before SELECT period, sent_on, marked_by, marked_at FROM halfyear_reports;"
            " DROP TABLE halfyear_reports; ALTER TABLE halfyear_before RENAME TO halfyear_reports;"
            " COMMIT; PRAGMA foreign_keys=ON;")
    async with app.db.transaction() as tx:
        if app.db.dialect != "sqlite":
            await tx.execute("ALTER TABLE departments DROP CONSTRAINT departments_unit_name")
            await tx.execute("ALTER TABLE departments ADD CONSTRAINT departments_name_key UNIQUE (name)")
            await tx.execute("ALTER TABLE halfyear_reports DROP CONSTRAINT halfyear_reports_pkey")
            await tx.execute("ALTER TABLE halfyear_reports ADD PRIMARY KEY (period)")
        for table in OWNED:
            if table not in ("departments", "halfyear_reports") or app.db.dialect != "sqlite":
                await tx.execute(f"ALTER TABLE {table} DROP COLUMN unit_id")
        await tx.execute("DROP TABLE units")
        assert await tx.execute("DELETE FROM schema_migrations WHERE version IN (21, 22, 23, 24, 25, 26, 27, 28, 29)") == 9
    await _chain_before_units(app)


async def _chain_before_units(app: App) -> None:
    """The audit chain as the version before units wrote it (its hashes without a unit): its triggers set aside
    to write it (on SQLite dropped and made again from 0003's text), as only a test may."""
    async with app.db.snapshot() as q:
        rows = await q.all("SELECT id, at, actor_id, action, matter_id, detail FROM audit_log ORDER BY id")
    prev, updates = audit.GENESIS, []
    for r in rows:
        digest = audit.entry_hash(r["id"], r["at"], r["actor_id"], r["action"], r["matter_id"], r["detail"], prev)
        updates.append((prev, digest, r["id"]))
        prev = digest
    triggers = re.findall(r"^CREATE TRIGGER .*?^END;", (MIGRATIONS / "0003_audit.sql").read_text("utf-8"), re.S | re.M)
    assert len(triggers) == 6
    if app.db.dialect == "sqlite":
        names = [re.match(r"CREATE TRIGGER (\w+)", t)[1] for t in triggers]  # type: ignore[index]
        await app.db.run_script("".join(f"DROP TRIGGER {n};" for n in names))
    async with app.db.transaction() as tx:
        if app.db.dialect != "sqlite":
            await tx.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
            await tx.execute("ALTER TABLE audit_head DISABLE TRIGGER USER")
        for prev_hash, digest, entry_id in updates:
            await tx.execute("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?", (prev_hash, digest, entry_id))
        await tx.execute("UPDATE audit_head SET hash = ? WHERE id = 1", (prev,))
        if app.db.dialect != "sqlite":
            await tx.execute("ALTER TABLE audit_log ENABLE TRIGGER USER")
            await tx.execute("ALTER TABLE audit_head ENABLE TRIGGER USER")
    if app.db.dialect == "sqlite":
        await app.db.run_script("\n".join(triggers))


async def test_a_database_of_the_previous_version_becomes_unit_1_with_every_row_kept(tmp_path: Path) -> None:
    """A county's database as the version before units left it: made by the cast's whole year of work, then
    with 0023, 0022 and 0021 taken back out (this version's code reads `unit_id`; taking out what they added and changed
    is the previous version's schema, column for column). Migrated again in place, it keeps every row."""
    config = config_in(tmp_path / "bot")
    clock = MovableClock()
    app = clock.pace(await App.open(config, clock))
    app.add_channel(RecordingChannel(app.files))
    h = Harness(app, app.channels["test"], clock)  # type: ignore[arg-type]
    try:
        await populated(h)
        await _without_units(app)
        before = await _snapshot(app)
    finally:
        await app.close()
    app = await App.open(config, clock)  # the units migration, in place
    try:
        after = await _snapshot(app)
        for table in KEPT:  # every row as it was (the new column at the end of each owned row is unit 1)
            assert [tuple(r)[:len(tuple(b))] for r, b in zip(after[table], before[table], strict=True)] == \
                [tuple(b) for b in before[table]], table  # type: ignore[arg-type]
        assert after["numbers"] == before["numbers"] and after["numbers"]
        assert after["chain"] == before["chain"] and after["chain"][1] is None  # type: ignore[index]
        assert after["head"] == before["head"]
        async with app.db.snapshot() as q:
            for table in OWNED:
                assert await q.scalar(f"SELECT COUNT(*) FROM {table} WHERE unit_id <> 1") == 0, table
            assert [(u.id, u.name, u.prefix) for u in await units.listed(q)] == [(1, UnitConfig.name, "LS")]
    finally:
        await app.close()


async def test_unit_1_follows_the_unit_section_and_a_prefix_of_another_unit_is_refused(tmp_path: Path) -> None:
    config = config_in(tmp_path)
    app = await App.open(config, MovableClock())
    try:
        async with app.db.transaction() as tx:
            await units.add(tx, "灵宝市人民检察院", "LB", "LS", "Asia/Shanghai", app.clock.now())
    finally:
        await app.close()
    city = replace(config, unit=UnitConfig(name="三门峡市人民检察院", matter_prefix="SMX"))
    app = await App.open(city, MovableClock())
    try:
        async with app.db.snapshot() as q:
            assert [(u.id, u.prefix, u.parent_id) for u in await units.listed(q)] == [(1, "SMX", None), (2, "LB", 1)]
    finally:
        await app.close()
    with pytest.raises(ConfigError, match="unit.matter_prefix: unit.matter_prefix LB is the prefix of another unit"):
        await App.open(replace(config, unit=UnitConfig(matter_prefix="LB")), MovableClock())
    app = await App.open(city, MovableClock())
    try:
        async with app.db.snapshot() as q:  # the refused start changed nothing
            assert [u.prefix for u in await units.listed(q)] == ["SMX", "LB"]
    finally:
        await app.close()


@pytest.mark.parametrize(("name", "prefix", "parent", "timezone", "refusal"), [
    ("卢氏县人民检察院", "LB", None, "Asia/Shanghai", "there is a unit named 卢氏县人民检察院 already"),
    ("灵宝市人民检察院", "LS", None, "Asia/Shanghai", "the prefix LS is 卢氏县人民检察院's already"),
    ("灵宝市人民检察院", "lb", None, "Asia/Shanghai", "1 to 10 capital letters"),
    ("灵宝市人民检察院", "LB-1", None, "Asia/Shanghai", "1 to 10 capital letters"),
    ("灵宝市人民检察院", "LB", "SMX", "Asia/Shanghai", "no unit has the prefix SMX"),
    ("灵宝市人民检察院", "LB", None, "Mars/Olympus", "unknown time zone"),
    ("   ", "LB", None, "Asia/Shanghai", "a unit needs a name"),
])
async def test_unit_add_refuses_and_changes_nothing(harness: Harness, name: str, prefix: str, parent: str | None,
                                                    timezone: str, refusal: str) -> None:
    with pytest.raises(units.UnitError, match=refusal):
        async with harness.app.db.transaction() as tx:
            await units.add(tx, name, prefix, parent, timezone, harness.clock.now())
    async with harness.app.db.snapshot() as q:
        assert [u.prefix for u in await units.listed(q)] == ["LS"]


def test_unit_list_and_add_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.__main__ import main

    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\ndatabase = "{tmp_path / "data" / "liaison.db"}"\n'
                      f'files_dir = "{tmp_path / "files"}"\nkey_file = "{tmp_path / "liaison.key"}"\n'
                      '[unit]\nname = "三门峡市人民检察院"\nmatter_prefix = "SMX"\n', "utf-8")

    def cli(*argv: str) -> int:
        return main(["--config", str(config), *argv], MovableClock())

    assert cli("unit", "add", "--name", "卢氏县人民检察院", "--prefix", "LS", "--parent", "SMX") == 0
    assert "unit 卢氏县人民检察院 added (prefix LS, id 2)" in capsys.readouterr().out
    assert cli("unit", "add", "--name", "别的", "--prefix", "LS") == 1
    assert "the prefix LS is 卢氏县人民检察院's already" in capsys.readouterr().err
    assert cli("unit", "list") == 0
    assert capsys.readouterr().out.splitlines() == ["SMX      三门峡市人民检察院", "LS       卢氏县人民检察院  (under SMX)"]
