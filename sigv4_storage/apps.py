import sys
import warnings

from django.apps import AppConfig


class SigV4StorageConfig(AppConfig):
    name = "sigv4_storage"
    verbose_name = "SigV4 S3 storage"

    def ready(self) -> None:
        from . import checks
        from .storage import SigV4StorageWarning

        # Registered by importing checks. The one mistake that loses files goes
        # to every command (shell, collectstatic...), not only to `check`; a
        # command that runs every check reports it as E005 itself, once.
        messages = checks.legacy_settings_ignored()
        if messages and not _runs_every_check(sys.argv):
            for message in messages:
                warnings.warn(f"{message.msg} {message.hint}", SigV4StorageWarning, stacklevel=2)


def _runs_every_check(argv: list[str]) -> bool:
    """Whether this process is a management command that runs every system check
    before it starts (``check``, ``migrate``, ``runserver``...)."""
    from django.core.management import get_commands, load_command_class
    from django.core.management.base import ALL_CHECKS

    if len(argv) < 2 or argv[1] not in get_commands():
        return False
    name = argv[1]
    if name in ("check", "migrate", "runserver"):  # they run them themselves
        return True
    try:
        command = load_command_class(get_commands()[name], name)
    except Exception:  # a broken command reports itself
        return False
    return command.requires_system_checks == ALL_CHECKS
