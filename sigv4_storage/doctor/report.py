"""What ``s3doctor`` reports: one ``Finding`` per probe, in a ``Report`` with the
configuration and the source of each value. Never a secret: ``mask``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

OK, WARN, FAIL, SKIP = "OK", "WARN", "FAIL", "SKIP"


@dataclass
class Finding:
    name: str
    status: str
    detail: str
    fix: str = ""


@dataclass
class Report:
    alias: str
    storage_class: str
    configuration: dict[str, dict[str, Any]]
    notes: list[str]
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(f.status != FAIL for f in self.findings)

    def as_dict(self) -> dict[str, Any]:
        return {
            "storage": self.alias,
            "class": self.storage_class,
            "ok": self.ok,
            "configuration": self.configuration,
            "notes": self.notes,
            "checks": [asdict(f) for f in self.findings],
        }

    def as_text(self) -> str:
        lines = [f"s3doctor: storage {self.alias!r} ({self.storage_class})", "", "Configuration"]
        width = max(len(name) for name in self.configuration)
        for name, item in self.configuration.items():
            lines.append(f"  {name:<{width}}  {item['value']!s:<32}  {item['source']}")
        for note in self.notes:
            lines.append(f"  note: {note}")
        lines += ["", "Checks"]
        width = max(len(f.name) for f in self.findings)
        for f in self.findings:
            lines.append(f"  {f.status:<4}  {f.name:<{width}}  {f.detail}")
            if f.fix:
                lines.append(f"        {'':<{width}}  fix: {f.fix}")
        failed = sum(f.status == FAIL for f in self.findings)
        lines += ["", "s3doctor: all checks passed" if self.ok else f"s3doctor: {failed} failed"]
        return "\n".join(lines)


def mask(access_key: str | None) -> str:
    if not access_key:
        return "(none)"
    if len(access_key) <= 8:
        return "…" + access_key[-2:]
    return f"{access_key[:4]}…{access_key[-4:]}"
