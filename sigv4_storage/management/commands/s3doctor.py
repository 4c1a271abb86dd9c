"""``python manage.py s3doctor [ALIAS | --all] [--write] [--json] [--legacy]``."""

from __future__ import annotations

import json
import warnings
from typing import Any, NoReturn

from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import storages
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sigv4_storage.checks import configured_storages
from sigv4_storage.doctor import Doctor, Report, origin_error
from sigv4_storage.legacy import as_python
from sigv4_storage.storage import SigV4S3Storage


class Command(BaseCommand):
    help = (
        "Probe a storage live: where each setting came from, credentials, bucket, "
        "region, clock skew, a presigned URL fetched over HTTP (and with --write a "
        "probe object). Exits 1 on any failure. --legacy prints the modern STORAGES "
        "equivalent of boto-era settings."
    )
    requires_system_checks: list[str] = []  # a broken setting is what we diagnose

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("alias", nargs="?", default="default", help="STORAGES alias")
        parser.add_argument(
            "--all",
            action="store_true",
            dest="every",
            help="every STORAGES alias that uses a sigv4_storage class",
        )
        parser.add_argument("--write", action="store_true", help="put, get, delete a probe")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="machine-readable output"
        )
        parser.add_argument(
            "--legacy", action="store_true", help="print the modern STORAGES dict and exit"
        )
        parser.add_argument(
            "--origin",
            help="a site origin (https://www.example.com): check the bucket's CORS lets it "
            "upload directly (POST, PUT, ETag exposed)",
        )

    def handle(
        self,
        *args: Any,
        alias: str,
        every: bool,
        write: bool,
        as_json: bool,
        legacy: bool,
        origin: str | None = None,
        **_: Any,
    ) -> None:
        if legacy:
            try:
                self.stdout.write(as_python())
            except ImproperlyConfigured as error:
                raise CommandError(str(error)) from None
            return
        if origin is not None and (wrong := origin_error(origin)):
            raise CommandError(wrong)  # before any storage is built or request sent
        aliases = [found.alias for found in configured_storages()] if every else [alias]
        if not aliases:
            raise CommandError("s3doctor: no STORAGES entry uses a sigv4_storage class.")
        reports = [self._report(name, write, origin, as_json) for name in aliases]
        self._write_out(reports, as_json=as_json, every=every)
        if not all(report.ok for report in reports):
            raise CommandError("s3doctor: some checks failed", returncode=1)

    def _report(self, alias: str, write: bool, origin: str | None, as_json: bool) -> Report:
        storage = self._storage(alias, as_json=as_json)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            report = Doctor(storage, alias, write=write, origin=origin).run()
        report.notes.extend(str(w.message) for w in caught)
        return report

    def _write_out(self, reports: list[Report], *, as_json: bool, every: bool) -> None:
        if not as_json:
            self.stdout.write("\n\n".join(report.as_text() for report in reports))
            return
        data: dict[str, Any] = reports[0].as_dict()
        if every:
            data = {"ok": all(r.ok for r in reports), "storages": [r.as_dict() for r in reports]}
        self.stdout.write(self._dumps(data))

    def _storage(self, alias: str, as_json: bool) -> SigV4S3Storage:
        storage: Any = None
        try:
            storage = storages[alias]
        except ImproperlyConfigured as error:
            self._fail_early(alias, str(error), as_json)
        except Exception as error:  # InvalidStorageError and friends
            self._fail_early(alias, f"{type(error).__name__}: {error}", as_json)
        if not isinstance(storage, SigV4S3Storage):
            self._fail_early(
                alias,
                f"STORAGES[{alias!r}] is {type(storage).__module__}.{type(storage).__name__}, "
                "not a sigv4_storage class.",
                as_json,
            )
        return storage

    def _fail_early(self, alias: str, message: str, as_json: bool) -> NoReturn:
        if as_json:
            self.stdout.write(
                self._dumps(
                    {
                        "storage": alias,
                        "ok": False,
                        "checks": [
                            {
                                "name": "configuration",
                                "status": "FAIL",
                                "detail": message,
                                "fix": "",
                            }
                        ],
                    }
                )
            )
        raise CommandError(message, returncode=1)

    @staticmethod
    def _dumps(data: dict[str, Any]) -> str:
        return json.dumps(data, indent=2, ensure_ascii=False, default=str)
