"""The boundary, enforced: the core never imports chat platforms or adapters; adapters never
import each other. Only the composition root (bot/cli.py) wires adapters in. Nothing outside
bot/service reaches into the Service's parts (its store, checker, dispatcher)."""

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


# The flow's layers (README, "How it works"): a module may import its own package and packages of
# a lower rank, never a higher one, and never a different package of the same rank. Pure packages
# hold the decisions (what changed, what it means, when to say it) and import no I/O library, so
# they test without servers.
LAYERS = {
    "bot.i18n": 0,
    "bot.domain": 1,
    "bot.text": 2,
    "bot.licences": 3,
    "bot.alerts": 4,
    "bot.detect": 5,
    "bot.config": 6,
    "bot.logs": 6,
    "bot.cpu": 6,
    "bot.net": 7,
    "bot.store": 8,
    "bot.sources": 9,
    "bot.check": 10,
    "bot.evidence": 10,
    "bot.deliver": 11,
    "bot.commands": 12,
    "bot.service": 13,
    "bot.runtime": 14,
    "adapters": 15,
    "bot.cli": 16,
    "bot.__main__": 17,  # the console script's entry point: imports bot.cli when it runs
}
PURE = ("bot.i18n", "bot.domain", "bot.text", "bot.licences", "bot.alerts", "bot.detect")
IO_LIBRARIES = ("aiohttp", "sqlalchemy", "alembic", "huggingface_hub", "socket", "urllib.request")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _all_modules() -> dict[str, Path]:
    paths = sorted((ROOT / "bot").rglob("*.py")) + sorted((ROOT / "adapters").glob("*.py"))
    return {_module_name(p): p for p in paths if "migrations" not in p.parts}


MODULES = _all_modules()


def _layer(module: str) -> str | None:
    """The layer ``module`` belongs to: the longest key of LAYERS it is or lies under."""
    found = [k for k in LAYERS if module == k or module.startswith(k + ".")]
    return max(found, key=len) if found else None


def _project_imports(module: str) -> set[str]:
    """Project modules ``module`` imports anywhere in its body (function-level and
    TYPE_CHECKING imports included: a cycle hidden in a function is still a cycle)."""
    out: set[str] = set()
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in MODULES)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # ``from bot.x import y`` where bot.x.y is a module imports that module
            subs = {f"{node.module}.{a.name}" for a in node.names} & MODULES.keys()
            if len(subs) == len(node.names):
                out.update(subs)
            elif node.module in MODULES:
                out.add(node.module)
    out.discard(module)
    out.discard("bot")  # the package itself holds only __version__
    return out


def test_every_module_belongs_to_a_layer() -> None:
    homeless = sorted(m for m in MODULES if m not in ("bot", "adapters") and _layer(m) is None)
    assert homeless == [], f"add these to LAYERS (or move them into a package): {homeless}"


@pytest.mark.parametrize("module", sorted(MODULES), ids=str)
def test_a_module_imports_only_its_own_layer_or_lower(module: str) -> None:
    own = _layer(module)
    if own is None:
        return
    bad = []
    for dep in sorted(_project_imports(module)):
        theirs = _layer(dep)
        if theirs is None or theirs == own:
            continue
        if LAYERS[theirs] >= LAYERS[own]:
            bad.append(f"{dep} ({theirs}, rank {LAYERS[theirs]})")
    assert bad == [], f"{module} ({own}, rank {LAYERS[own]}) imports upward or sideways: {bad}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith(PURE)), ids=str)
def test_pure_packages_import_no_io_library(module: str) -> None:
    bad = sorted(
        n for n in _imports(MODULES[module]) if n in IO_LIBRARIES or n.startswith(IO_LIBRARIES)
    )
    assert bad == [], f"{module} is in a pure package but imports {bad}"


def test_there_are_no_import_cycles() -> None:
    graph = {m: _project_imports(m) for m in MODULES}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for dep in sorted(graph[m]):
            if state.get(dep) == 1:
                cycles.append([*stack[stack.index(dep) :], dep])
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert cycles == [], "import cycles: " + "; ".join(" → ".join(c) for c in cycles)


# The Service's own parts: front ends and the runtime ask the Service's methods (check_now,
# flush_deliveries, check_due, hold_lease, …), so a rule such as "a chat check delivers at once"
# is kept in one place, not once per front end.
SERVICE_PARTS = frozenset({"store", "checker", "dispatcher"})
SERVICE_HOME = ROOT / "bot" / "service"


def _reaches_into_service(path: Path) -> list[str]:
    """``service.store``, ``self.service.checker``, ``bot.service.dispatcher``, …: an attribute
    of ``SERVICE_PARTS`` read off anything named ``service``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and node.attr in SERVICE_PARTS):
            continue
        owner = node.value
        name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
        if name.lstrip("_") == "service":
            found.append((node.lineno, ast.unparse(node)))
    return [f"{line}: {text}" for line, text in sorted(found)]


@pytest.mark.parametrize(
    "path",
    [
        p
        for p in sorted([*(ROOT / "bot").rglob("*.py"), *(ROOT / "adapters").glob("*.py")])
        if SERVICE_HOME not in p.parents
    ],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_nothing_outside_bot_service_reaches_into_the_service(path: Path) -> None:
    assert _reaches_into_service(path) == [], (
        f"{path.relative_to(ROOT)} uses the Service's parts; add a Service method instead"
    )


def test_the_service_rule_sees_a_reach(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "async def f(self, service):\n"
        "    await service.dispatcher.flush()\n"
        "    self.service.store.get_target('x')\n"
        "    self.store.get_target('x')\n"  # its own store: allowed
    )
    assert _reaches_into_service(sample) == [
        "2: service.dispatcher",
        "3: self.service.store",
    ]
