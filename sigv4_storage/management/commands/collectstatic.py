"""``collectstatic``, Django's own, answered from one listing for our storages.

With ``"sigv4_storage"`` listed before ``"django.contrib.staticfiles"`` in
``INSTALLED_APPS``, this command replaces Django's. For any other staticfiles
storage (or ``--link``) it is Django's command unchanged. For ours it keeps
Django's algorithm, options and output, and changes three things (see
``sigv4_storage.collect``): a file is unmodified when its bytes are stored
(not when the stored copy is newer), nothing is deleted before it is
replaced, and every write is sent at the end — in parallel, the manifest
last.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from django.contrib.staticfiles.management.commands import collectstatic
from django.core.management.base import CommandError, CommandParser

from sigv4_storage.checkids import PREFIX, SettingError
from sigv4_storage.collect import DEFAULT_WORKERS, MAX_WORKERS, Run, Summary, UploadFailed, every
from sigv4_storage.storage import SigV4S3Storage


class Names(list[str]):
    """Django's lists of the names a run copied, skipped and post-processed, with
    the ``in`` of a set.

    Django's command asks ``prefixed_path in self.copied_files`` (and
    ``unmodified_files``) for every file it finds: a list search per file,
    minutes at 100,000 files. These stay lists (Django returns them, in order)
    and append-only, as Django uses them.
    """

    def __init__(self, names: Iterable[str] = ()) -> None:
        super().__init__(names)
        self._seen = set(self)

    def __contains__(self, name: object) -> bool:
        return name in self._seen

    def append(self, name: str) -> None:
        super().append(name)
        self._seen.add(name)

    def extend(self, names: Iterable[str]) -> None:
        for name in names:
            self.append(name)

    def __iadd__(self, names: Iterable[str]) -> Names:  # type: ignore[override,misc]
        self.extend(names)
        return self

    def _append_only(self, *_: Any, **__: Any) -> Any:
        raise TypeError("collectstatic's lists of names only grow (append, extend)")

    insert = remove = pop = clear = __setitem__ = __delitem__ = _append_only


#: The lists Django searches per file (its ``skipped_files``, newer, is only appended to).
NAME_LISTS = ("copied_files", "symlinked_files", "unmodified_files", "post_processed_files")


class Command(collectstatic.Command):
    help = (
        collectstatic.Command.help + " On sigv4_storage's storages: one listing of the "
        "location, only changed files uploaded, in parallel, the manifest last."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for attribute in NAME_LISTS:
            setattr(self, attribute, Names(getattr(self, attribute)))

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help=f"uploads at a time on sigv4_storage's storages (default "
            f"AWS_S3_COLLECTSTATIC_WORKERS, else {DEFAULT_WORKERS}; 1 to {MAX_WORKERS})",
        )

    def handle(self, **options: Any) -> str | None:
        try:
            return super().handle(**options)
        except SettingError as refused:  # a bad setting: its message, not a traceback
            raise CommandError(str(refused)) from None

    def set_options(self, **options: Any) -> None:
        super().set_options(**options)
        self.workers_asked = options.get("workers")
        self.run: Run | None = None

    def collect(self) -> dict[str, list[str]]:
        if self.symlink or not isinstance(self.storage, SigV4S3Storage):
            return super().collect()
        # staticfiles_storage is a LazyObject: the storage itself, set up by isinstance().
        storage = cast(SigV4S3Storage, getattr(self.storage, "_wrapped", self.storage))
        workers = self.workers(storage)  # a bad value fails before any request
        with storage.collecting(clear=self.clear) as run:
            self.run = run
            collected: dict[str, list[str]] = super().collect()
            if self.dry_run:
                return collected
            due = every(2.0)

            def progress(done: int, total: int, summary: Summary) -> None:
                if done == total or due():
                    self.log(
                        f"{PREFIX}: {done}/{total} files settled "
                        f"({len(summary.uploaded)} uploaded, {len(summary.unchanged)} "
                        f"already stored)",
                        level=1,
                    )

            try:
                summary = run.finish(
                    workers,
                    progress,
                    manifest=getattr(storage, "manifest_name", None)
                    if getattr(storage, "manifest_storage", None) is storage
                    else None,
                    hashed=getattr(storage, "hashed_files", {}).values(),
                )
            except UploadFailed as failed:
                raise CommandError(
                    f"{PREFIX}: collectstatic stopped: uploading {failed.name!r} "
                    f"failed ({failed.error}). Nothing after it was sent: the previous "
                    f"manifest is still the live one and nothing was deleted. Run "
                    f"collectstatic again."
                ) from failed.error
        for key in summary.aborted:
            self.log(f"Aborted an upload an earlier run left open: '{key}'", level=1)
        for name in summary.deleted:
            self.log(f"Deleting '{name}'", level=1)
        summary.requests = run.requests
        self.log(summary.line(), level=1)
        return collected

    def workers(self, storage: SigV4S3Storage) -> int:
        """``--workers``, else the storage's resolved ``collectstatic_workers``."""
        value = self.workers_asked
        if value is None:
            return storage.s3_config.collectstatic_workers
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_WORKERS:
            raise CommandError(
                f"{PREFIX}: --workers must be a whole number from 1 to {MAX_WORKERS}, "
                f"not {value!r}."
            )
        return value

    def clear_dir(self, path: str) -> None:
        if self.run is None:
            return super().clear_dir(path)
        # The run deletes them at its end, after the new manifest is stored.
        if self.dry_run:
            for name in sorted(self.run.listing):
                self.log(f"Pretending to delete '{name}'", level=1)
        return None

    def delete_file(self, path: str, prefixed_path: str, source_storage: Any) -> bool:
        run = self.run
        if run is None:
            return bool(super().delete_file(path, prefixed_path, source_storage))
        if not run.exists(prefixed_path):
            return True
        try:
            local_path = source_storage.path(path)
        except NotImplementedError:
            local_path = None
        with source_storage.open(path) as content:
            unchanged = run.unchanged(prefixed_path, local_path, content)
        if unchanged:
            if prefixed_path not in self.unmodified_files:
                self.unmodified_files.append(prefixed_path)
            self.log(f"Skipping '{path}' (not modified)")
            return False
        if self.dry_run:
            self.log(f"Pretending to delete '{path}'")
        else:
            run.delete(prefixed_path)  # replaced by the upload: no DELETE is sent
        return True
