"""Invariant 9 as a rule of the code, not a patch per command: every command that names a
target reads the store through :class:`bot.commands.scope.Scope` (the asking channel's view), and
nothing else looks targets or subscriptions up except the paths listed here, each for a
reason that involves no chat channel asking."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RAW_LOOKUPS = {
    "get_target",
    "get_target_by_id",
    "subscription_by_id",
    "subscriptions_for",
    "list_watches",
    "recent_changes",
}
# (file, function) → why it may use the raw lookups.
ALLOWED = {
    ("bot/commands/scope.py", "find"): "the scoped lookup itself",
    ("bot/commands/scope.py", "watches"): "the scoped lookup itself",
    ("bot/commands/scope.py", "recent_changes"): "the scoped lookup itself",
    (
        "bot/service/executor.py",
        "stored_target_ids",
    ): "the Hub's webhook names a target, no channel asks",
    ("bot/service/executor.py", "_watch_one"): "re-reads the row the watch itself just wrote",
    ("bot/service/executor.py", "_backfill"): "finds the subscription the watch itself just wrote",
    ("bot/service/executor.py", "_forget"): "undoes the watch's own subscription",
    ("bot/service/executor.py", "check_and_deliver"): "the operator's `policybot check`",
    (
        "bot/service/executor.py",
        "view_of",
    ): "picks the asker's own subscription of a target in scope",
    ("bot/service/executor.py", "versions"): "the view of a target already resolved in scope",
    ("bot/service/watch_lists.py", "apply_watchlist"): "the operator's watch list",
    ("bot/evidence/queries.py", "scoped_target"): "a signed link names its channel: it finds "
    "that channel's own subscription, and nothing when the channel no longer watches",
    ("bot/service/watch_lists.py", "export_watchlist"): "the operator's `policybot export`",
}
# Command handlers that name no target (their channel is the asker's, see Service._channel).
# _workspace_settings: a workspace's defaults name no target and read no subscription.
NO_TARGET = {"_watch", "_delivery_settings", "_workspace_settings"}


def _functions(path: Path) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def _calls(node: ast.AST) -> set[str]:
    """Names of the attributes called in ``node`` (``x.y.z()`` → ``z``)."""
    return {
        n.func.attr
        for n in ast.walk(node)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
    }


def _ends_with_store(node: ast.expr) -> bool:
    """``self.store``, ``self._store``, ``service.store``, ``store``: a Store, not a Scope."""
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
    return name.lstrip("_") == "store"


class _Sites(ast.NodeVisitor):
    """Raw lookups called in each function (a call belongs to its innermost function)."""

    def __init__(self, rel: str) -> None:
        self.rel = rel
        self.stack: list[str] = ["<module>"]
        self.found: dict[tuple[str, str], set[str]] = {}

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.stack.append(node.name)
        self.generic_visit(node)
        self.stack.pop()

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr in RAW_LOOKUPS
            and _ends_with_store(func.value)
        ):
            self.found.setdefault((self.rel, self.stack[-1]), set()).add(func.attr)
        self.generic_visit(node)


def _raw_lookup_sites() -> dict[tuple[str, str], set[str]]:
    sites: dict[tuple[str, str], set[str]] = {}
    for path in sorted([*(ROOT / "bot").rglob("*.py"), *(ROOT / "adapters").glob("*.py")]):
        rel = str(path.relative_to(ROOT))
        if rel.startswith("bot/store/"):
            continue
        visitor = _Sites(rel)
        visitor.visit(ast.parse(path.read_text(encoding="utf-8")))
        sites.update(visitor.found)
    return sites


def test_only_listed_paths_look_up_targets_or_subscriptions_unscoped() -> None:
    unexpected = {
        site: names
        for site, names in _raw_lookup_sites().items()
        if site not in ALLOWED and (site[0], "*") not in ALLOWED
    }
    assert unexpected == {}, (
        "read targets/subscriptions through bot.commands.scope.Scope (Service._scope), or add the "
        f"function to ALLOWED with the reason no channel's scope applies: {unexpected}"
    )


def test_every_command_that_names_a_target_resolves_it_in_the_askers_scope() -> None:
    service = {f.name: f for f in _functions(ROOT / "bot" / "service" / "executor.py")}
    execute = service["_execute"]  # execute() says _execute's reply in the asker's language
    handlers = {  # called, or handed to a store thread (``call(self._history, …)``)
        n.attr
        for n in ast.walk(execute)
        if isinstance(n, ast.Attribute)
        and isinstance(n.value, ast.Name)
        and n.value.id == "self"
        and n.attr.startswith("_")
        and n.attr in service
    }
    reads = handlers - NO_TARGET
    assert {"_history", "_diff", "_check", "_unwatch", "_mute", "_list"} <= reads
    for name in sorted(reads):
        assert "_scope" in _calls(service[name]), f"Service.{name} does not use self._scope"
    assert "_scope" not in _calls(service["_watch"]), "watch reads nothing of other channels"


def test_adapters_ask_the_service_never_the_store() -> None:
    for path in sorted((ROOT / "adapters").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        uses = [
            n.lineno for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "store"
        ]
        assert uses == [], f"{path.name} reads the store directly at lines {uses}"
