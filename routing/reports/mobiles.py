"""`routing report mobiles`: the yearly review of mobiles (R19): who holds one, their forwarding
(R14) and pay-service (R18) approvals with dates; an approval older than a year is flagged."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date

from routing.config.schema import Approval, Config


@dataclass(frozen=True)
class MobileLine:
    person: str
    name: str
    unit: str
    mobile: str
    forwarding: str  # approved by, on — or "-"
    pay_services: str
    flags: tuple[str, ...]


def mobiles_review(config: Config, today: date) -> list[MobileLine]:
    """R19: who holds a mobile, their forwarding (R14) and pay-service (R18) approvals with
    dates; an approval older than a year is flagged for renewal."""
    lines = []
    for person in sorted(config.people, key=lambda p: (p.unit, p.id)):
        if person.mobile is None and person.forward_to_mobile is None and person.pay_services is None:
            continue
        flags = []
        for label, approval in (("forwarding", person.forward_to_mobile), ("pay services", person.pay_services)):
            if approval is not None and (today - approval.approved_on).days > 365:
                flags.append(f"{label} approval older than a year (R19)")
        if person.mobile is None:
            flags.append("approval but no mobile number")
        lines.append(
            MobileLine(
                person.id,
                person.name,
                person.unit,
                person.mobile or "-",
                _approval(person.forward_to_mobile),
                _approval(person.pay_services),
                tuple(flags),
            )
        )
    return lines


def _approval(approval: Approval | None) -> str:
    return f"{approval.approved_by}, {approval.approved_on.isoformat()}" if approval is not None else "-"


def render_mobiles(lines: Sequence[MobileLine], fmt: str) -> str:
    if fmt == "json":
        return json.dumps([asdict(line) for line in lines], ensure_ascii=False, indent=2)
    header = ("person", "name", "unit", "mobile", "forwarding (R14)", "pay services (R18)", "review")
    rows = [header] + [
        (m.person, m.name, m.unit, m.mobile, m.forwarding, m.pay_services, "; ".join(m.flags) or "ok") for m in lines
    ]
    if fmt == "csv":
        out = io.StringIO()
        csv.writer(out).writerows(rows)
        return out.getvalue()
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows)
