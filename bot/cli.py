"""``policybot``: the command line and the composition root.

This is the one place that builds real things (settings, store, sources, adapters) and wires
them together; everything else receives what it needs.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from adapters.console import ConsoleAdapter
from adapters.discord_webhook import DiscordWebhookAdapter
from adapters.slack_webhook import SlackWebhookAdapter
from adapters.webhooks import WebhookAdapter
from bot import commands as cmds
from bot.config import Settings, load_settings
from bot.dispatch import Adapter
from bot.errors import BotError, ConfigError, UsageError
from bot.logs import setup_logging
from bot.model import Severity
from bot.owner import OwnerLock, lock_dir_for, new_owner_id, sweep_dead
from bot.refs import parse_channel
from bot.runlock import single_runner
from bot.service import Invocation, Service
from bot.sources import build_sources
from bot.store import Store
from bot.store.migrate import upgrade
from bot.watchlist import dumps as dumps_watchlist
from bot.watchlist import load as load_watchlist

app = typer.Typer(
    help="Watch platforms for licence, access and terms changes; alert in chat.",
    no_args_is_help=True,
    # Tracebacks with local variables could print tokens from the settings.
    pretty_exceptions_show_locals=False,
    add_completion=False,
)
db_app = typer.Typer(help="Database maintenance.")
app.add_typer(db_app, name="db")
discord_app = typer.Typer(help="Discord helpers.", no_args_is_help=True)
app.add_typer(discord_app, name="discord")
log = logging.getLogger("policybot")
T = TypeVar("T")


def utcnow() -> datetime:
    return datetime.now(UTC)


def build_adapters(settings: Settings) -> dict[str, Adapter]:
    """Every adapter whose credentials are set; the console and plain webhooks always."""
    adapters: dict[str, Adapter] = {"console": ConsoleAdapter()}
    webhook = WebhookAdapter(settings)
    adapters[webhook.platform] = webhook
    adapters["slack-webhook"] = SlackWebhookAdapter(settings)
    # The Slack and Discord bot adapters import their SDKs (about 0.4 s of start-up CPU
    # together): only when their tokens are set, so a `policybot check` without them starts
    # fast.
    if settings.slack_bot_token is not None:
        from adapters.slack import SlackAdapter

        adapters["slack"] = SlackAdapter(settings)
    discord_webhook = DiscordWebhookAdapter(settings)
    adapters[discord_webhook.platform] = discord_webhook
    if settings.discord_bot_token is not None:
        from adapters.discord_bot import DiscordBotAdapter

        discord_bot = DiscordBotAdapter(settings)
        adapters[discord_bot.platform] = discord_bot
    return adapters


def build_service(settings: Settings) -> Service:
    store = Store.open(settings.database_url)
    owner = new_owner_id()
    lock_dir = lock_dir_for(settings.database_url)
    try:  # held until this process exits, however it exits: proof of life for sweep_dead
        OwnerLock(lock_dir, owner).acquire()
    except OSError as e:
        log.debug(
            "no owner lock in %s (%s): crashed predecessors wait for their leases", lock_dir, e
        )
    dead = sweep_dead(lock_dir) | store.release_dead_owners(utcnow())
    if dead & store.lease_owners():
        log.info("taking back work leased by %d crashed process(es)", len(dead))
    store.release_leases_of(dead)
    return Service(
        settings, store, build_sources(settings), build_adapters(settings), utcnow, owner
    )


def _main(work: Callable[[Service, Settings], Awaitable[T]]) -> T:
    """Load settings, build the service, run ``work``, close everything; exit 2 on bad config."""
    try:
        settings = load_settings()
    except ConfigError as e:
        typer.echo(f"policybot: {e}", err=True)
        raise typer.Exit(2) from None
    setup_logging(settings.log_level, settings.log_format, settings.secrets())

    async def go() -> T:
        service = build_service(settings)
        try:
            return await work(service, settings)
        finally:
            for adapter in service.dispatcher.adapters.values():
                close = getattr(adapter, "aclose", None)
                if close is not None:  # webhook adapters keep an HTTP session open
                    await close()
            await service.aclose()

    try:
        return asyncio.run(go())
    except (UsageError, ConfigError) as e:
        typer.echo(f"policybot: {e}", err=True)
        raise typer.Exit(2) from None
    except BotError as e:
        typer.echo(f"policybot: {e}", err=True)
        raise typer.Exit(1) from None


def _cli_invocation(settings: Settings) -> Invocation:
    return Invocation(
        channel=str(parse_channel(settings.default_channel)), actor="cli", allow_to=True
    )


def _print_reply(reply: cmds.Reply) -> None:
    typer.echo(reply.text, err=not reply.ok)
    if not reply.ok:
        raise typer.Exit(2)


@app.command()
def run() -> None:
    """Run the bot: scheduled checks, deliveries, and every adapter whose credentials are set."""
    # The scheduler, the ops HTTP server and Prometheus are only needed here: importing them
    # at the top would add ~0.1 s to every other command's start-up.
    from bot.runner import run_forever

    async def work(service: Service, settings: Settings) -> None:
        with single_runner(settings.database_url):
            if settings.watchlist:
                for line in service.apply_watchlist(
                    load_watchlist(Path(settings.watchlist), settings.default_channel)
                ):
                    log.info("watch list: %s", line)
            listeners = [a for a in service.dispatcher.adapters.values() if hasattr(a, "listen")]
            await run_forever(service, settings, listeners=listeners)  # type: ignore[arg-type]

    _main(work)


@app.command()
def check(
    refs: Annotated[list[str] | None, typer.Argument(help="targets (default: all)")] = None,
) -> None:
    """Check all (or the given) targets now, deliver what was found, print a summary."""

    async def work(service: Service, settings: Settings) -> None:
        result, sent = await service.check_and_deliver(refs or [])
        typer.echo(
            f"{result.summary()}; {sent.sent} delivered"
            + (f", {sent.retried} waiting for retry" if sent.retried else "")
            + (f", {sent.dropped} dropped" if sent.dropped else ""),
            err=True,
        )
        for outcome in result.outcomes:
            if outcome.status == "failed":
                typer.echo(f"  {outcome.ref}: check failed: {outcome.message}", err=True)

    _main(work)


@app.command()
def watch(
    refs: Annotated[list[str], typer.Argument(help="hf:owner/name, hf:datasets/…, URLs …")],
    to: Annotated[str | None, typer.Option(help="channel, e.g. slack:C0123ABCD")] = None,
    select: Annotated[str | None, typer.Option(help="CSS selector (pages)")] = None,
    ignore: Annotated[list[str] | None, typer.Option(help="regex of lines to drop (pages)")] = None,
    keywords: Annotated[str | None, typer.Option(help="comma-separated (feeds)")] = None,
    backfill: Annotated[
        int, typer.Option(min=0, max=cmds.MAX_BACKFILL, help="post the newest N entries (feeds)")
    ] = 0,
    min_severity: Annotated[str, typer.Option(help="info|notice|warning|critical")] = "info",
    digest: Annotated[str | None, typer.Option(help="daily|weekly: collect into a digest")] = None,
    digest_all: Annotated[bool, typer.Option(help="critical changes wait too")] = False,
    at: Annotated[str | None, typer.Option(help="the channel's digest time HH:MM")] = None,
    tz: Annotated[str | None, typer.Option(help="the channel's time zone")] = None,
) -> None:
    """Subscribe to targets and take their baseline now."""
    try:
        severity = Severity.parse(min_severity)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--min-severity") from None
    given = {
        "--digest": digest,
        "--at": at,
        "--tz": tz,
        "--digest-all": "yes" if digest_all else None,
    }
    try:
        digest, at, tz = cmds.digest_options({k: v for k, v in given.items() if v is not None})
    except UsageError as e:
        raise typer.BadParameter(str(e).removeprefix("watch: ")) from None
    command = cmds.Watch(
        tuple(refs),
        to=to,
        select=select,
        ignore=tuple(ignore or ()),
        keywords=tuple(k.strip() for k in (keywords or "").split(",") if k.strip()),
        min_severity=severity,
        backfill=backfill,
        digest=digest,
        digest_all=digest_all,
        at=at,
        tz=tz,
    )
    _run_command(command)


@app.command()
def unwatch(
    ref: Annotated[str, typer.Argument(help="target or #id")],
    to: Annotated[str | None, typer.Option(help="channel")] = None,
) -> None:
    """Stop watching a target in a channel."""
    _run_command(cmds.Unwatch(ref, to=to))


@app.command("list")
def list_(to: Annotated[str | None, typer.Option(help="only this channel")] = None) -> None:
    """List watches with their state."""
    _run_command(cmds.ListWatches(to=to))


@app.command()
def history(
    ref: Annotated[str | None, typer.Argument(help="target (default: all)")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 10,
) -> None:
    """Show recorded changes, newest first."""
    _run_command(cmds.History(ref, limit))


@app.command()
def diff(ref: Annotated[str, typer.Argument(help="target")]) -> None:
    """Show what differs between a target's last two versions."""
    _run_command(cmds.Diff(ref))


@app.command()
def mute(
    ref: Annotated[str, typer.Argument(help="target or #id")],
    duration: Annotated[str, typer.Argument(help="e.g. 7d, 12h; 0 unmutes")] = "7d",
    to: Annotated[str | None, typer.Option(help="channel")] = None,
) -> None:
    """Mute a watch for a while."""
    try:
        days = cmds.parse_duration_days(duration)
    except UsageError as e:
        raise typer.BadParameter(str(e), param_hint="duration") from None
    _run_command(cmds.Mute(ref, days, to=to))


@app.command("digest")
def digest_(
    when: Annotated[list[str] | None, typer.Argument(help="HH:MM [Europe/Rome] [mon…sun]")] = None,
    to: Annotated[str | None, typer.Option(help="channel")] = None,
) -> None:
    """Show or set a channel's digest time (weekly digests use the weekday)."""
    _run_text_command("digest", when or [], to)


@app.command()
def quiet(
    window: Annotated[
        list[str] | None, typer.Argument(help="22:00-08:00 [Europe/Rome] | off")
    ] = None,
    to: Annotated[str | None, typer.Option(help="channel")] = None,
) -> None:
    """Show or set a channel's quiet hours (critical alerts still go out at once)."""
    _run_text_command("quiet", window or [], to)


def _run_text_command(name: str, args: list[str], to: str | None) -> None:
    try:
        command = cmds.parse(
            shlex.join([name, *args, *(["--to", to] if to else [])]), allow_to=True
        )
    except UsageError as e:
        raise typer.BadParameter(str(e)) from None
    _run_command(command)


@app.command("import")
def import_(path: Annotated[Path, typer.Argument(help="watch list (TOML)")]) -> None:
    """Apply a watch list file; re-importing changes nothing."""

    async def work(service: Service, settings: Settings) -> None:
        for line in service.apply_watchlist(load_watchlist(path, settings.default_channel)):
            typer.echo(line)

    _main(work)


@app.command()
def export(
    to: Annotated[str | None, typer.Option(help="only this channel's watches")] = None,
) -> None:
    """Print the watches (all, or one channel's) as a watch list; import reads it back."""

    async def work(service: Service, settings: Settings) -> str:
        channel = str(parse_channel(to)) if to else None
        entries = service.export_watchlist(channel)
        header = [
            f"policybot watch list: {len(entries)} entries"
            + (f" of {channel}" if channel else "")
            + f", exported {service.clock():%Y-%m-%d %H:%M} UTC.",
            "Apply with: policybot import FILE (re-importing changes nothing).",
            "It may contain webhook URLs: keep it as private as your tokens.",
        ]
        return dumps_watchlist(entries, header)

    typer.echo(_main(work), nl=False)


@app.command("presets")
def presets_(
    name: Annotated[str | None, typer.Argument(help="show this preset's sources")] = None,
) -> None:
    """List the platform presets (watch preset:<name>), or one preset's sources and why."""
    _run_command(cmds.Presets(name))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations (``run`` also does this at start)."""
    settings = load_settings()
    store = Store.open(settings.database_url, migrate_schema=False)
    upgrade(store.engine)
    store.close()
    typer.echo("database is up to date")


@discord_app.command("invite-url")
def discord_invite_url(
    application: Annotated[
        int | None,
        typer.Option(
            "--application-id", help="the app's id (default: read from Discord with the token)"
        ),
    ] = None,
) -> None:
    """Print the URL that adds the bot to a server (scopes bot + applications.commands)."""
    from adapters.discord_bot import application_id, invite_url

    try:
        settings = load_settings()
        app_id = application or asyncio.run(application_id(settings))
    except ConfigError as e:
        typer.echo(f"policybot: {e}", err=True)
        raise typer.Exit(2) from None
    typer.echo(invite_url(app_id))


def _run_command(command: cmds.Command) -> None:
    async def work(service: Service, settings: Settings) -> cmds.Reply:
        reply = await service.execute(command, _cli_invocation(settings))
        if isinstance(command, (cmds.Check, cmds.Watch)):
            await service.dispatcher.flush()
        return reply

    _print_reply(_main(work))


def main() -> None:  # pragma: no cover - console-script shim
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
