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
    #: What this run did not test, and how to test it ("writes (run with --write)").
    untested: list[str] = field(default_factory=list)

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
            "untested": self.untested,
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
        lines += ["", self.summary()]
        return "\n".join(lines)

    def summary(self) -> str:
        """One line: how many failed, or that all passed; never "all passed" for a
        run that left something untested (a read-only probe is not a write)."""
        if not self.ok:
            return f"s3doctor: {sum(f.status == FAIL for f in self.findings)} failed"
        if self.untested:
            return f"s3doctor: no check failed; not tested: {'; '.join(self.untested)}"
        return "s3doctor: all checks passed"


def mask(access_key: str | None) -> str:
    if not access_key:
        return "(none)"
    if len(access_key) <= 8:
        return "…" + access_key[-2:]
    return f"{access_key[:4]}…{access_key[-4:]}"
