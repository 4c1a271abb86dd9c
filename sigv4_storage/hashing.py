"""Django's hashed-names post-processing, driven in time linear in the files.

``HashedFilesMixin.post_process`` keeps the files whose references it
rewrites (CSS, and JS for source maps) in a list, and asks ``name in
adjustable_paths`` of it for every file, in every pass, and again in
``_post_process``: a list search per file, quadratic in the tree (about 5 s
at 20,000 files, minutes at 100,000). ``post_process`` here is Django's
driver (``ManifestFilesMixin``'s and ``HashedFilesMixin``'s) with that list a
dict, which keeps its order and answers ``in`` at once; each file is still
hashed, rewritten and saved by Django's own ``_post_process``, so the
manifest and every hashed name are Django's, byte for byte
(``tests/test_collectstatic.py`` compares them with stock Django's).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.contrib.staticfiles.utils import matches_patterns

__all__: list[str] = []


class LinearPostProcessMixin:
    """``post_process`` for a storage with Django's ``ManifestFilesMixin``."""

    if TYPE_CHECKING:
        hashed_files: dict[str, str]
        max_post_process_passes: int
        _patterns: dict[str, Any]

        def _post_process(
            self, paths: dict[str, Any], adjustable_paths: Any, hashed_files: dict[str, str]
        ) -> Iterator[tuple[str, str | None, Any, bool]]: ...

        def save_manifest(self) -> None: ...

    def post_process(
        self, paths: dict[str, Any], dry_run: bool = False, **options: Any
    ) -> Iterator[tuple[str, str | None, Any]]:
        self.hashed_files = {}  # ManifestFilesMixin's part: a fresh manifest
        if dry_run:
            return
        hashed_files: dict[str, str] = {}
        # Django's list, as a dict: the same order, and ``in`` without a search.
        adjustable = dict.fromkeys(path for path in paths if matches_patterns(path, self._patterns))
        processed_adjustable: dict[str, tuple[str, str | None, Any]] = {}
        # One pass over every file: yield the others (and errors), keep the adjustable.
        for name, hashed_name, processed, _ in self._post_process(paths, adjustable, hashed_files):
            if name not in adjustable or isinstance(processed, Exception):
                yield name, hashed_name, processed
            else:
                processed_adjustable[name] = (name, hashed_name, processed)
        paths = {path: paths[path] for path in adjustable}
        unresolved: list[str] = []
        for _ in range(self.max_post_process_passes):
            unresolved = []
            for name, hashed_name, processed, substituted in self._post_process(
                paths, adjustable, hashed_files
            ):
                processed_adjustable[name] = (name, hashed_name, processed)  # the newest name
                if substituted:
                    unresolved.append(name)
            if not unresolved:
                break
        if unresolved:
            problem_paths = ", ".join(sorted(unresolved))
            yield problem_paths, None, RuntimeError("Max post-process passes exceeded.")
        self.hashed_files.update(hashed_files)
        yield from processed_adjustable.values()
        self.save_manifest()
