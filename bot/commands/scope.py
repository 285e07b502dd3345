"""Channels are tenants (design §6, invariant 9): the one lookup from what a user typed to the
watches they may see.

A command typed in a chat channel may read and change only that channel's subscriptions; the
operator (the CLI) sees every channel. Every command that names a target or a ``#id`` —
history, diff, the alerts' Show diff / Unwatch / Mute buttons, check, mute, unwatch, list,
Discord's autocomplete — resolves it here, never with the store's raw lookups
(``tests/test_scope_rule.py`` enforces this). A target the channel does not watch gets exactly
the answer a target nobody watches gets, so a channel cannot even learn that another channel
watches something (URLs may carry tokens in their query strings).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.domain.errors import UsageError
from bot.i18n import msg
from bot.store import ChangeRow, Store, SubscriptionRow, TargetRow


@dataclass(frozen=True, slots=True)
class Watched:
    """A target and the subscriptions to it that the asker may see (never none)."""

    target: TargetRow
    subscriptions: tuple[SubscriptionRow, ...]


class NotWatched(UsageError):
    """The same refusal whether the target is unknown or watched only elsewhere."""


class Scope:
    """The store as one asker sees it.

    ``channel`` None is the operator's unrestricted view; ``operator`` True with a channel is
    the operator looking at one channel (``--to``), who may be told that channel's name.
    ``candidates`` turns typed text into the references it may name (a bare URL names
    whichever ``feed:`` or ``page:`` target it became); it raises UsageError on a typo, which
    depends on the text alone and so reveals nothing.
    """

    def __init__(
        self,
        store: Store,
        channel: str | None,
        candidates: Callable[[str], Sequence[str]],
        *,
        operator: bool = False,
    ) -> None:
        self._store = store
        self.channel = channel
        self.operator = operator or channel is None
        self._candidates = candidates

    def _visible(self, sub: SubscriptionRow) -> bool:
        return self.channel is None or sub.channel == self.channel

    def not_watched(self, text: str) -> NotWatched:
        if not self.operator:
            return NotWatched(msg("{ref} is not watched in this channel; see list", ref=text))
        if self.channel:
            said = msg(
                "{ref} is not watched in {channel}; see list", ref=text, channel=self.channel
            )
            return NotWatched(said)
        return NotWatched(msg("{ref} is not watched; see list", ref=text))

    def find(self, text: str) -> Watched:
        """The target ``text`` (a reference, a URL or a subscription's ``#id``) names, with
        the subscriptions to it in scope; :class:`NotWatched` when there are none."""
        number = text.strip().lstrip("#")
        if text.strip() and number.isdigit():
            sub = self._store.subscription_by_id(int(number))
            if sub is None or not self._visible(sub):
                raise self.not_watched(text)
            target = self._store.get_target_by_id(sub.target_id)
            if target is None:  # removed meanwhile
                raise self.not_watched(text)
            return Watched(target, (sub,))
        for ref in self._candidates(text):
            target = self._store.get_target(ref)
            if target is None:
                continue
            subs = tuple(s for s in self._store.subscriptions_for(target.id) if self._visible(s))
            if subs:
                return Watched(target, subs)
        raise self.not_watched(text)

    def subscription(self, text: str) -> tuple[SubscriptionRow, TargetRow]:
        """The one subscription of this scope's channel that ``text`` names."""
        found = self.find(text)
        for sub in found.subscriptions:
            if self.channel is None or sub.channel == self.channel:
                return sub, found.target
        raise self.not_watched(text)  # pragma: no cover - find returns visible ones only

    def watches(self) -> list[tuple[SubscriptionRow, TargetRow]]:
        """Every subscription in scope, with its target."""
        return self._store.list_watches(self.channel)

    def recent_changes(self, limit: int) -> list[tuple[ChangeRow, str]]:
        """The newest changes of the targets in scope, with their references."""
        return self._store.recent_changes(limit, channel=self.channel)
