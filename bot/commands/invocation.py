"""Who runs a command, and from where: what every front end hands the executor with a command."""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import msg


@dataclass(frozen=True, slots=True)
class Invocation:
    """Who runs a command, from where. Adapters derive ``may_change`` from platform roles.

    Every command runs in a scope (invariant 9, :mod:`bot.commands.scope`): a chat ``channel`` sees
    and changes only its own subscriptions; the operator (``allow_to``: the CLI, which may name any
    channel with ``--to``) sees them all. ``workspace`` is the Slack team or Discord server the
    command came from, carried for the day channel addresses include it.
    """

    channel: str
    actor: str = ""
    may_change: bool = True
    refusal: str = msg("you may not change watches here")
    allow_to: bool = False  # the operator: may name another channel with --to, sees all
    workspace: str | None = None  # Slack team id / Discord guild id; None from the CLI
    # The languages the platform says the asker reads, most specific first (a Discord user's
    # client locale, then the server's); the workspace's setting outranks them
    # (:meth:`bot.service.executor.Service.reply_language`).
    locales: tuple[str, ...] = ()

    @property
    def operator(self) -> bool:
        return self.allow_to
