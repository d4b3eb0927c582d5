"""Importing the register file (registry.csv): idempotent on entity_id, a line-numbered outcome per row."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from service.db.database import Database
from service.formats.files import FileFormatError, read_rows
from service.matching.uscc import valid_uscc_or_none
from service.registry.csv_rows import REQUIRED_COLUMNS, RegistryRow, RegistryRowRejected, parse_registry_row
from service.registry.models import Entity
from service.registry.service import RowOutcome, upsert_registry_row

IMPORT_CHUNK = 500


def _rejected(line: int, entity_id: str | None, field: str, reason: str) -> RowOutcome:
    return RowOutcome(line, entity_id, "rejected", [{"field": field, "reason": reason}])


async def import_registry_file(db: Database, data: bytes, filename: str) -> list[RowOutcome]:
    """Every row ends created, updated, unchanged or rejected; a bad row never stops the rest."""
    try:
        rows = read_rows(data, filename, None, required_columns=REQUIRED_COLUMNS)
    except FileFormatError as exc:
        return [_rejected(exc.line_number or 0, None, "file", str(exc))]
    outcomes = [_rejected(p.line_number, None, "(row)", p.reason) for p in rows.malformed_rows]
    parsed: list[tuple[int, RegistryRow]] = []
    first_line: dict[str, int] = {}
    for line, raw in rows:
        try:
            row = parse_registry_row(raw)
        except RegistryRowRejected as exc:
            errors = [{"field": e.field, "reason": e.reason} for e in exc.errors]
            outcomes.append(RowOutcome(line, exc.entity_id, "rejected", errors))
            continue
        if row.entity_id in first_line:
            outcomes.append(
                _rejected(
                    line, row.entity_id, "entity_id", f"appears again (first on line {first_line[row.entity_id]})"
                )
            )
            continue
        first_line[row.entity_id] = line
        parsed.append((line, row))
    holders = await _holders_of_shared_codes(db, parsed)
    for start in range(0, len(parsed), IMPORT_CHUNK):
        chunk = parsed[start : start + IMPORT_CHUNK]
        async with db.transaction() as uow:
            ids = {row.entity_id for _, row in chunk}
            existing = {e.id: e for e in (await uow.session.scalars(select(Entity).where(Entity.id.in_(ids)))).all()}
            for line, row in chunk:
                outcome = upsert_registry_row(uow.session, existing.get(row.entity_id), line, row)
                others = sorted(holders.get(valid_uscc_or_none(row.uscc) or "", set()) - {row.entity_id})
                if others:
                    outcome.warnings.append(
                        f"uscc: also the code of {', '.join(others)}; records carrying it link by name and address"
                    )
                outcomes.append(outcome)
    outcomes.sort(key=lambda o: o.line)
    return outcomes


async def _holders_of_shared_codes(db: Database, parsed: list[tuple[int, RegistryRow]]) -> dict[str, set[str]]:
    """The valid credit codes that more than one open entity will hold after this import, each with
    its holders: the matcher does not link by a code two entities hold, so the import says so."""
    holders: dict[str, set[str]] = defaultdict(set)
    for _, row in parsed:
        code = valid_uscc_or_none(row.uscc)
        if code:
            holders[code].add(row.entity_id)
    in_file = {row.entity_id for _, row in parsed}  # their stored codes are about to be replaced
    codes = list(holders)
    async with db.session() as session:
        for start in range(0, len(codes), IMPORT_CHUNK):
            stored = await session.execute(
                select(Entity.id, Entity.uscc).where(
                    Entity.uscc.in_(codes[start : start + IMPORT_CHUNK]), Entity.status != "closed"
                )
            )
            for entity_id, code in stored:
                if entity_id not in in_file:
                    holders[str(code)].add(entity_id)  # not None: it matched one of the codes
    return {code: ids for code, ids in holders.items() if len(ids) > 1}
