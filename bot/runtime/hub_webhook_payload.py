"""Hugging Face Hub webhook calls: is the secret right, and which of our targets does it name.
Pure.

The Hub POSTs JSON (platform-facts 1.6) with the shared secret verbatim in ``X-Webhook-Secret``
(or ``?secret=`` in the URL); there is no signature. The payload does not carry licence or
gating (``updatedConfig`` has only ``private`` and ``xetEnabled``), so an event is only a
reason to re-read the repo at once: polling stays the safety net for missed calls.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass

from bot.domain.model import TargetRef
from bot.domain.refs import HF_ORG

# ``repo.type`` in the payload → the prefix of our ``hf:`` locator.
_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}


class BadPayload(ValueError):
    """The body is not a Hub webhook payload (not JSON, or without event/repo)."""


@dataclass(frozen=True, slots=True)
class HubEvent:
    scope: str  # "repo", "repo.content", "repo.config", "discussion", ...
    action: str  # "create", "update", "delete", "move"
    repo_type: str  # "model" | "dataset" | "space"
    repo_name: str  # "org/x"

    @property
    def about_repo(self) -> bool:
        """Scopes that can change a licence or gating: ``repo`` and its sub-scopes (the Hub
        may add ``a.b.c``, to be read as an update of ``a.b``)."""
        return self.scope == "repo" or self.scope.startswith("repo.")


def secret_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison; a missing or non-ASCII secret never matches."""
    if not given or not expected:
        return False
    try:
        return hmac.compare_digest(given.encode("ascii"), expected.encode("ascii"))
    except UnicodeEncodeError:
        return False


def parse_event(body: bytes) -> HubEvent:
    """Read the parts of a payload that decide what to do; raises :class:`BadPayload`."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise BadPayload("the body is not JSON") from e
    if not isinstance(data, dict):
        raise BadPayload("the body is not a JSON object")
    event, repo = data.get("event"), data.get("repo")
    if not isinstance(event, dict) or not isinstance(repo, dict):
        raise BadPayload("no event or repo object")
    scope, action = event.get("scope"), event.get("action")
    kind, name = repo.get("type"), repo.get("name")
    if not all(isinstance(v, str) and v for v in (scope, action, kind, name)):
        raise BadPayload("event.scope, event.action, repo.type and repo.name must be strings")
    assert isinstance(scope, str) and isinstance(action, str)  # for the type checker
    assert isinstance(kind, str) and isinstance(name, str)
    return HubEvent(scope, action, kind, name)


def targets_for(event: HubEvent) -> list[TargetRef]:
    """Our targets an event may concern: the repo itself and its owner's organisation watch.

    Empty for events that cannot change a licence or gating (discussions, comments) and for
    repo types we do not watch.
    """
    prefix = _PREFIX.get(event.repo_type)
    if prefix is None or not event.about_repo:
        return []
    refs = [TargetRef("hf", prefix + event.repo_name)]
    owner, sep, _ = event.repo_name.partition("/")
    if sep and owner:
        refs.append(TargetRef(HF_ORG, owner))
    return refs
