"""The boundary, enforced: the core never imports chat platforms or adapters; adapters never
import each other. Only the composition root (bot/cli.py) wires adapters in."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN_IN_CORE = ("adapters", "slack_bolt", "slack_sdk", "discord")
COMPOSITION_ROOT = ROOT / "bot" / "cli.py"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _top(name: str) -> str:
    return name.split(".", 1)[0]


@pytest.mark.parametrize(
    "path",
    [p for p in sorted((ROOT / "bot").rglob("*.py")) if p != COMPOSITION_ROOT],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_core_module_imports_no_platform(path: Path) -> None:
    bad = sorted(n for n in _imports(path) if _top(n) in FORBIDDEN_IN_CORE)
    assert bad == [], f"{path.relative_to(ROOT)} imports {bad}"


@pytest.mark.parametrize("path", sorted((ROOT / "adapters").glob("*.py")), ids=lambda p: p.name)
def test_adapters_do_not_import_each_other(path: Path) -> None:
    own = path.stem.split("_", 1)[0]
    others = sorted(
        n
        for n in _imports(path)
        if n.startswith("adapters.") and n.split(".")[1].split("_", 1)[0] != own
    )
    assert others == [], f"{path.name} imports {others}"


def test_no_module_shadows_a_library() -> None:
    names = {p.stem for p in (ROOT / "adapters").glob("*.py")} | {
        p.stem for p in (ROOT / "bot").rglob("*.py")
    }
    assert not names & {"discord", "slack_bolt", "slack_sdk", "http", "feedparser"}


# Adapters whose HTTP belongs to a chat library's own client (slack_sdk, discord.py).
LIBRARY_CLIENTS = frozenset({"slack.py", "discord_bot.py", "slack_commands.py"})
NET = ROOT / "bot" / "net.py"


def _builds_session(path: Path) -> list[int]:
    """Lines where ``aiohttp.ClientSession(...)`` / ``ClientSession(...)`` is called."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == "ClientSession":
                lines.append(node.lineno)
    return lines


@pytest.mark.parametrize(
    "path",
    [
        p
        for p in sorted([*(ROOT / "bot").rglob("*.py"), *(ROOT / "adapters").glob("*.py")])
        if p != NET and p.name not in LIBRARY_CLIENTS
    ],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_only_bot_net_opens_http_sessions(path: Path) -> None:
    """One HTTP path (invariant 8): every request of ours goes through bot.net.HttpClient,
    with its SSRF guard, limits and credential policy."""
    assert _builds_session(path) == [], f"{path.relative_to(ROOT)} builds its own ClientSession"


def test_the_session_check_sees_a_session() -> None:
    assert _builds_session(NET), "bot/net.py builds the one session: the check must find it"
