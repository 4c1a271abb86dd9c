"""Tables the docs show, made from the code (``sigv4_storage.options``)."""

from __future__ import annotations

from sigv4_storage.options import OPTIONS, Where


def settings_rows() -> list[str]:
    """One row per Django setting: setting, option, default."""
    rows = ["| setting | option | default |", "| --- | --- | --- |"]
    for row in OPTIONS:
        for i, (name, option) in enumerate(row.pairs()):
            shown = f"`{option}`" if option else "—"
            rows.append(f"| `{name}` | {shown} | {row.default if i == 0 else '—'} |")
    return rows


def precedence_rows() -> list[str]:
    """One row per resolved value: where it may come from, first found wins."""
    rows = ["| value | first found wins |", "| --- | --- |"]
    rows += [f"| `{row.field}` | {row.precedence()} |" for row in OPTIONS if row.field]
    return rows


def environment_variables() -> list[str]:
    return sorted(
        {place.name for row in OPTIONS for place in row.order if place.where is Where.ENVIRONMENT}
    )


def options_markdown() -> str:
    variables = ", ".join(f"`{name}`" for name in environment_variables())
    return "\n".join(
        [
            "## Where each value comes from",
            "",
            *precedence_rows(),
            "",
            "## Every setting",
            "",
            *settings_rows(),
            "",
            f"Environment variables read, each after every setting: {variables}.",
            "",
        ]
    )
