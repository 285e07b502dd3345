"""What changed across a whole organisation between two listings (Hub or GitHub). Pure.

Facts shape of an organisation watch: :class:`bot.domain.facts.OrgFacts`, whose ``repos`` map a key
to the :class:`bot.domain.facts.RepoFacts` of one repository.

``<key>`` names one repo in the listing (``model:org/x``, ``dataset:org/d``, or ``org/x`` on
GitHub). Each repo present on both sides is compared with :func:`bot.detect.repo.detect_repo`, so a
licence or gating change means and weighs exactly what it does for a single-repo watch; a repo
that appears or disappears is an access change. Everything found in one check becomes one
alert (the checker makes one alert per check); a kind of change that touches more than
``group_over`` repos is folded into one line with a count, so a relicensing of 300 repos is a
readable message, not 300 lines.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from bot.alerts.compose import top_severity
from bot.detect.history import History
from bot.detect.repo import access_state, detect_repo, licence_set
from bot.domain.facts import OrgFacts, RepoFacts
from bot.domain.model import Change, ChangeKind, Severity
from bot.i18n import joined, msg, nmsg
from bot.licences.classify import LicenceSet

NAMES_SHOWN = 5  # names listed in a grouped line before "and N more"


def repo_label(key: str) -> str:
    """``dataset:org/x`` → ``org/x (dataset)``; models and GitHub repos are just the name."""
    kind, sep, name = key.partition(":")
    if not sep:
        return key
    if kind == "dataset":
        return msg("{name} (dataset)", name=name)
    if kind == "space":
        return msg("{name} (space)", name=name)
    return name if kind == "model" else f"{name} ({kind})"


def describe_repo_brief(
    facts: RepoFacts, licences: Callable[[RepoFacts], LicenceSet] = licence_set
) -> str:
    """``apache-2.0, gated (manual)``: what a new repo in the listing looks like."""
    access = access_state(facts)
    state = licences(facts).describe()
    return state if access == "public" else joined(", ", [state, access])


def detect_org(
    prev: OrgFacts,
    new: OrgFacts,
    *,
    group_over: int,
    licences: Callable[[RepoFacts], LicenceSet] = licence_set,
) -> list[Change]:
    """Changes from one listing of an organisation to the next."""
    was, now = bool(prev.get("exists", True)), bool(new.get("exists", True))
    if was and not now:
        return [
            Change(
                ChangeKind.ACCESS,
                Severity.CRITICAL,
                msg(
                    "no repositories listed any more: the account was deleted or renamed, or "
                    "everything was made private"
                ),
                before=msg("listed"),
                after=access_state({"exists": False}),
            )
        ]
    old_repos: Mapping[str, RepoFacts] = prev.get("repos") or {}
    new_repos: Mapping[str, RepoFacts] = new.get("repos") or {}
    added = sorted(set(new_repos) - set(old_repos))
    removed = sorted(set(old_repos) - set(new_repos))
    licence: list[tuple[Change, str]] = []
    access: list[tuple[Change, str]] = []
    for key in sorted(set(old_repos) & set(new_repos)):
        label = repo_label(key)
        for change in detect_repo(old_repos[key], new_repos[key], licences=licences):
            named = Change(
                change.kind,
                change.severity,
                msg("{repo}: {change}", repo=label, change=change.summary),
                detail=change.detail,
            )
            short = joined(" → ", [label, change.after]) if change.after else label
            (licence if change.kind is ChangeKind.LICENCE else access).append((named, short))
    new_lines = [
        (
            Change(
                ChangeKind.ACCESS,
                Severity.NOTICE,
                msg(
                    "new: {repo} ({state})",
                    repo=repo_label(k),
                    state=describe_repo_brief(new_repos[k], licences),
                ),
            ),
            repo_label(k),
        )
        for k in added
    ]
    gone_lines = [
        (
            Change(
                ChangeKind.ACCESS,
                Severity.WARNING,
                msg(
                    "no longer listed: {repo} (deleted, made private or renamed)",
                    repo=repo_label(k),
                ),
            ),
            repo_label(k),
        )
        for k in removed
    ]
    found: list[Change] = []
    found += _group(licence, group_over, _licence_changes, ChangeKind.LICENCE)
    found += _group(access, group_over, _access_changes, ChangeKind.ACCESS)
    found += _group(new_lines, group_over, _new_repos, ChangeKind.ACCESS)
    found += _group(gone_lines, group_over, _gone_repos, ChangeKind.ACCESS)
    if not was and now:
        found.append(
            Change(ChangeKind.ACCESS, Severity.NOTICE, msg("repositories are listed again"))
        )
    return found


def _counted(severity: Severity, n: int) -> str:
    """``3 critical``: a count of changes of one severity, agreeing with the count."""
    if severity is Severity.CRITICAL:
        return nmsg("{n} critical", "{n} critical", n)
    if severity is Severity.WARNING:
        return nmsg("{n} warning", "{n} warning", n)
    if severity is Severity.NOTICE:
        return nmsg("{n} notice", "{n} notice", n)
    return nmsg("{n} info", "{n} info", n)


def _licence_changes(n: int) -> str:
    return nmsg("{n} licence change", "{n} licence changes", n)


def _access_changes(n: int) -> str:
    return nmsg("{n} access change", "{n} access changes", n)


def _new_repos(n: int) -> str:
    return nmsg("{n} new repository", "{n} new repositories", n)


def _gone_repos(n: int) -> str:
    return nmsg("{n} repository no longer listed", "{n} repositories no longer listed", n)


def _group(
    items: list[tuple[Change, str]],
    group_over: int,
    counted: Callable[[int], str],
    kind: ChangeKind,
) -> list[Change]:
    """Up to ``group_over`` changes stay one line each; more become one line with a count,
    the severities tallied and the first few named in short (``org/x → CC-BY-NC-4.0``)."""
    changes = [c for c, _ in items]
    if len(changes) <= group_over:
        return changes
    shown = joined("; ", [short for _, short in items[:NAMES_SHOWN]])
    more = len(items) - NAMES_SHOWN
    tally: dict[Severity, int] = {}
    for c in changes:
        tally[c.severity] = tally.get(c.severity, 0) + 1
    weights = joined(
        ", ",
        [_counted(s, n) for s, n in sorted(tally.items(), key=lambda kv: -kv[0].rank)],
    )
    said = msg(
        "{count} ({weights}): {names}", count=counted(len(changes)), weights=weights, names=shown
    )
    if more:
        said = msg("{listed}; and {n} more", listed=said, n=more)
    return [Change(kind, top_severity(changes), said)]


def describe_org(facts: OrgFacts, licences: Callable[[RepoFacts], LicenceSet] = licence_set) -> str:
    """``1,000 repos · 600 apache-2.0, 200 mit, … · 100 gated``: one line of current state."""
    if not facts.get("exists", True):
        return msg("no repositories listed (deleted, renamed or all private)")
    repos: Mapping[str, RepoFacts] = facts.get("repos") or {}
    kinds: dict[str, int] = {}
    names: dict[str, int] = {}
    gated = 0
    for key, repo in repos.items():
        kind = key.partition(":")[0] if ":" in key else "repo"
        kinds[kind] = kinds.get(kind, 0) + 1
        name = licences(repo).describe()
        names[name] = names.get(name, 0) + 1
        gated += 1 if repo.get("gated") in ("auto", "manual") else 0
    # Counts written as they always were ("1,000"); the Hub's kinds ("models") said by kind.
    head: str = msg("{count} repos", count=f"{len(repos):,}")
    if len(kinds) > 1 or "repo" not in kinds:
        by_kind = joined(", ", [_kind_count(k, n) for k, n in sorted(kinds.items())])
        head = msg("{count} repos ({kinds})", count=f"{len(repos):,}", kinds=by_kind)
    parts = [head]
    top = sorted(names.items(), key=lambda kv: (-kv[1], kv[0]))
    if top:
        # the dict keeps each description as first made: a message, said in the reader's language
        counted = [joined(" ", [f"{n:,}", name]) for name, n in top[:4]]
        shown = joined(", ", [*counted, *(["…"] if len(top) > 4 else [])])
        parts.append(msg("licences: {shown}", shown=shown))
    if gated:
        parts.append(msg("{count} gated", count=f"{gated:,}"))
    return joined(" · ", parts)


def _kind_count(kind: str, count: int) -> str:
    """``1,000 models``: a count of one kind of Hub repo (plural in English whatever the
    count, as the Hub's own listing names say)."""
    shown = f"{count:,}"
    if kind == "model":
        return msg("{count} models", count=shown)
    if kind == "dataset":
        return msg("{count} datasets", count=shown)
    if kind == "space":
        return msg("{count} spaces", count=shown)
    return f"{shown} {kind}s"


def org_lines(
    facts: OrgFacts, licences: Callable[[RepoFacts], LicenceSet] = licence_set
) -> list[str]:
    """One line per repo, for ``diff`` between two listings."""
    repos: Mapping[str, RepoFacts] = facts.get("repos") or {}
    return [f"{repo_label(k)}: {describe_repo_brief(repos[k], licences)}" for k in sorted(repos)]


class OrgSourceBase:
    """What both organisation sources (Hub and GitHub) do with the listing they fetched."""

    group_over: int

    def detect(self, prev: OrgFacts, new: OrgFacts, history: History) -> list[Change]:
        return detect_org(prev, new, group_over=self.group_over)

    def describe(self, facts: OrgFacts) -> str:
        return describe_org(facts)

    def lines(self, facts: OrgFacts) -> list[str]:
        return [self.describe(facts), "", *org_lines(facts)]
