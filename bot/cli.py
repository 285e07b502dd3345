"""``policybot``: the command line and the composition root.

This is the one place that builds real things (settings, store, sources, adapters) and wires
them together; everything else receives what it needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer

from adapters.console import ConsoleAdapter
from adapters.discord_webhook import DiscordWebhookAdapter
from adapters.slack_webhook import SlackWebhookAdapter
from adapters.webhooks import WebhookAdapter
from bot.commands import grammar as cmds
from bot.commands.invocation import Invocation
from bot.config import Settings, load_settings, unworkable
from bot.deliver.dispatcher import Adapter
from bot.domain.errors import BotError, ConfigError, DatabaseUnavailable, UsageError
from bot.domain.refs import parse_channel
from bot.logs import setup_logging
from bot.service.executor import Service
from bot.service.progress import bar as progress_bar
from bot.sources import build_sources
from bot.store import Store
from bot.store.engine import masked_url, unavailable
from bot.store.migrate import upgrade
from bot.store.owner import OwnerLock, lock_dir_for, new_owner_id, sweep_dead

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


def build_adapters(settings: Settings, store: Store | None = None) -> dict[str, Adapter]:
    """Every adapter whose credentials are set; the console and plain webhooks always."""
    adapters: dict[str, Adapter] = {"console": ConsoleAdapter()}
    webhook = WebhookAdapter(settings)
    adapters[webhook.platform] = webhook
    adapters["slack-webhook"] = SlackWebhookAdapter(settings)
    # The Slack and Discord bot adapters import their SDKs (about 0.4 s of start-up CPU
    # together): only when their tokens are set, so a `policybot check` without them starts
    # fast.
    if settings.slack_bot_token is not None or settings.slack_many_workspaces:
        from adapters.slack import SlackAdapter
        from bot.store.tenants import Tenants

        adapters["slack"] = SlackAdapter(settings, tenants=Tenants(store) if store else None)
    discord_webhook = DiscordWebhookAdapter(settings)
    adapters[discord_webhook.platform] = discord_webhook
    if settings.discord_bot_token is not None:
        from adapters.discord_bot import DiscordBotAdapter

        discord_bot = DiscordBotAdapter(settings)
        adapters[discord_bot.platform] = discord_bot
    return adapters


def open_store(settings: Settings) -> Store:
    """The migrated store, or DatabaseUnavailable (one line, password masked) when the
    database does not answer; a malformed URL is a ConfigError from the engine."""
    import sqlalchemy as sa

    try:
        return Store.open(settings.database_url)
    except sa.exc.OperationalError as e:
        raise unavailable(settings.database_url, e) from None


async def open_store_patiently(settings: Settings, stop: asyncio.Event) -> Store | None:
    """``run``'s start-up: a database that is down (restarting, not up yet in a compose file)
    is waited for with backoff, one log line per attempt, until it answers or ``stop`` is
    set (then ``None``)."""
    delay, attempt = 1.0, 1
    while True:
        try:
            return await asyncio.to_thread(open_store, settings)
        except DatabaseUnavailable as e:
            if settings.database_url.startswith("sqlite"):
                raise  # a file that cannot be opened does not come back by waiting
            log.warning("%s; attempt %d, retrying in %.0f s", e, attempt, delay)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        if stop.is_set():
            return None
        delay, attempt = min(delay * 2, 30.0), attempt + 1


def build_service(settings: Settings, store: Store | None = None) -> Service:
    store = store or open_store(settings)
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
        settings, store, build_sources(settings), build_adapters(settings, store), utcnow, owner
    )


def fail(message: object, code: int) -> NoReturn:
    """The CLI's one way to give up: ``error: <one line>`` on stderr and exit ``code``
    (2 for configuration or usage, 1 for everything else)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _settings() -> Settings:
    """Settings that can work, or one line and exit 2."""
    try:
        settings = load_settings()
    except ConfigError as e:
        fail(e, 2)
    problem = unworkable(settings)
    if problem is not None:
        fail(f"invalid configuration: {problem}", 2)
    return settings


def _main(
    work: Callable[[Service, Settings], Awaitable[T]], *, wait_for_database: bool = False
) -> T:
    """Load settings, build the service, run ``work``, close everything. Exit 2 on bad
    configuration, 1 on other failures, each as one line. With ``wait_for_database`` (``run``)
    an unreachable database is retried with backoff instead."""
    settings = _settings()
    setup_logging(settings.log_level, settings.log_format, settings.secrets())

    async def go() -> T | None:
        store = None
        if wait_for_database:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.add_signal_handler(sig, stop.set)
            try:
                store = await open_store_patiently(settings, stop)
            finally:
                # Hand SIGINT/SIGTERM back (run_forever installs its own): a signal that came
                # in between must not be swallowed by this event nobody watches any more.
                for sig in (signal.SIGINT, signal.SIGTERM):
                    with contextlib.suppress(NotImplementedError, RuntimeError):
                        loop.remove_signal_handler(sig)
            if stop.is_set() and store is not None:
                store.close()
                store = None
            if store is None:
                log.info("stopped before the database at %s answered",
                         masked_url(settings.database_url))  # fmt: skip
                return None
        service = build_service(settings, store)
        try:
            return await work(service, settings)
        finally:
            await service.aclose()  # its adapters too: webhook adapters keep an HTTP session

    try:
        result = asyncio.run(go())
    except (UsageError, ConfigError) as e:
        fail(e, 2)
    except BotError as e:
        fail(e, 1)
    if result is None and wait_for_database:
        raise typer.Exit(0)
    return result  # type: ignore[return-value]


def _cli_invocation(settings: Settings) -> Invocation:
    return Invocation(
        channel=str(parse_channel(settings.default_channel)), actor="cli", allow_to=True
    )


def _print_reply(reply: cmds.Reply) -> None:
    if not reply.ok:  # "error: <what>", not "error: ✗ <what>" (the mark is for chat lists)
        fail(reply.text.removeprefix("✗ "), 2)
    typer.echo(reply.text)


@app.command()
def run() -> None:
    """Run the bot: scheduled checks, deliveries, and every adapter whose credentials are set."""
    # The scheduler, the ops HTTP server and Prometheus are only needed here: importing them
    # at the top would add ~0.1 s to every other command's start-up.
    from bot.commands.watchlist import read as read_watchlist
    from bot.runtime.runlock import single_runner
    from bot.runtime.runner import run_forever

    async def work(service: Service, settings: Settings) -> None:
        with single_runner(settings.database_url):
            if settings.watchlist:
                listed = read_watchlist(Path(settings.watchlist), settings.default_channel)
                for line in service.apply_watchlist(listed.entries, problems=listed.problems):
                    log.info("watch list: %s", line)
            await run_forever(service, settings, listeners=service.listeners())

    _main(work, wait_for_database=True)


@app.command()
def check(
    refs: Annotated[list[str] | None, typer.Argument(help="targets (default: all)")] = None,
) -> None:
    """Check all (or the given) targets now, deliver what was found, print a summary."""

    async def work(service: Service, settings: Settings) -> None:
        with progress_bar("checking") as report:
            result, sent = await service.check_and_deliver(refs or [], progress=report)
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
        str | None, typer.Option(help=f"post the newest N (1-{cmds.MAX_BACKFILL}) entries (feeds)")
    ] = None,
    min_severity: Annotated[
        str | None, typer.Option(help="info|notice|warning|critical (default: info)")
    ] = None,
    digest: Annotated[str | None, typer.Option(help="daily|weekly: collect into a digest")] = None,
    digest_all: Annotated[bool, typer.Option(help="critical changes wait too")] = False,
    at: Annotated[str | None, typer.Option(help="the channel's digest time HH:MM")] = None,
    tz: Annotated[str | None, typer.Option(help="the channel's time zone")] = None,
) -> None:
    """Subscribe to targets and take their baseline now."""
    _run_command(
        lambda: cmds.watch_command(
            refs,
            to=to,
            select=select,
            ignore=ignore or (),
            keywords=keywords,
            min_severity=min_severity,
            backfill=backfill,
            digest=digest,
            digest_all=digest_all,
            at=at,
            tz=tz,
        )
    )


@app.command()
def unwatch(
    ref: Annotated[str, typer.Argument(help="target or #id")],
    to: Annotated[str | None, typer.Option(help="channel")] = None,
) -> None:
    """Stop watching a target in a channel."""
    _run_command(lambda: cmds.Unwatch(ref, to=to))


@app.command("list")
def list_(to: Annotated[str | None, typer.Option(help="only this channel")] = None) -> None:
    """List watches with their state."""
    _run_command(lambda: cmds.ListWatches(to=to))


@app.command()
def history(
    ref: Annotated[str | None, typer.Argument(help="target (default: all)")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 10,
) -> None:
    """Show recorded changes, newest first."""
    _run_command(lambda: cmds.History(ref, limit))


@app.command()
def diff(ref: Annotated[str, typer.Argument(help="target")]) -> None:
    """Show what differs between a target's last two versions."""
    _run_command(lambda: cmds.Diff(ref))


@app.command()
def mute(
    ref: Annotated[str, typer.Argument(help="target or #id")],
    duration: Annotated[str, typer.Argument(help="e.g. 7d, 12h; 0 unmutes")] = "7d",
    to: Annotated[str | None, typer.Option(help="channel")] = None,
) -> None:
    """Mute a watch for a while."""
    _run_command(lambda: cmds.mute_command(ref, duration, to=to))


@app.command("digest")
def digest_(
    when: Annotated[list[str] | None, typer.Argument(help="HH:MM [Europe/Rome] [mon…sun]")] = None,
    to: Annotated[str | None, typer.Option(help="channel")] = None,
) -> None:
    """Show or set a channel's digest time (weekly digests use the weekday)."""
    _run_command(lambda: cmds.digest_command(when or (), to=to))


@app.command()
def quiet(
    window: Annotated[
        list[str] | None, typer.Argument(help="22:00-08:00 [Europe/Rome] | off")
    ] = None,
    to: Annotated[str | None, typer.Option(help="channel")] = None,
) -> None:
    """Show or set a channel's quiet hours (critical alerts still go out at once)."""
    _run_command(lambda: cmds.quiet_command(window or (), to=to))


@app.command("settings")
def settings_(
    setting: Annotated[
        list[str] | None,
        typer.Argument(
            help="who everyone|managers|admins | severity S | digest HH:MM [TZ] | language en|it"
        ),
    ] = None,
    workspace: Annotated[
        str | None, typer.Option(help="slack:<team id> or discord:<server id>")
    ] = None,
) -> None:
    """Show or set a Slack workspace's or Discord server's settings (channels override)."""
    _run_command(lambda: cmds.settings_command(setting or (), workspace=workspace))


@app.command("import")
def import_(path: Annotated[Path, typer.Argument(help="watch list (TOML)")]) -> None:
    """Apply a watch list file; re-importing changes nothing."""
    from bot.commands.watchlist import read as read_watchlist

    async def work(service: Service, settings: Settings) -> None:
        listed = read_watchlist(path, settings.default_channel)
        with progress_bar("importing") as report:
            applied = service.apply_watchlist(
                listed.entries, problems=listed.problems, progress=report
            )
        for line in applied:
            typer.echo(line)

    _main(work)


@app.command()
def export(
    to: Annotated[str | None, typer.Option(help="only this channel's watches")] = None,
) -> None:
    """Print the watches (all, or one channel's) as a watch list; import reads it back."""
    from bot.commands.watchlist import dumps as dumps_watchlist

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
    _run_command(lambda: cmds.Presets(name))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations (``run`` also does this at start)."""
    import sqlalchemy as sa

    settings = _settings()
    try:
        store = Store.open(settings.database_url, migrate_schema=False)
        upgrade(store.engine)
    except ConfigError as e:
        fail(e, 2)
    except sa.exc.OperationalError as e:
        fail(unavailable(settings.database_url, e), 1)
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

    settings = _settings()
    try:
        app_id = application or asyncio.run(application_id(settings))
    except ConfigError as e:
        fail(e, 2)
    typer.echo(invite_url(app_id))


def _run_command(build: Callable[[], cmds.Command]) -> None:
    """Build the command through the grammar (a mistake: the grammar's words, exit 2) and run
    it as the operator; what a check or a watch found is delivered before the CLI exits."""
    try:
        command = build()
    except UsageError as e:
        fail(e, 2)

    async def work(service: Service, settings: Settings) -> cmds.Reply:
        presets = isinstance(command, cmds.Watch) and any(
            r.startswith("preset:") for r in command.refs
        )
        with progress_bar("subscribing", enabled=None if presets else False) as report:
            service.progress = report
            reply = await service.execute(command, _cli_invocation(settings))
        if cmds.needs(command).fetches:
            await service.flush_deliveries()
        return reply

    _print_reply(_main(work))


def main() -> None:  # pragma: no cover - console-script shim
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
