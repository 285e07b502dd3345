"""``/policy`` as discord.py application commands, and the alert buttons.

Each subcommand has typed options and builds one :mod:`bot.commands.grammar` dataclass; the shared
executor (:class:`bot.service.executor.Service`) runs it, exactly as for Slack and the CLI. This
module only does Discord's part: the 3-second rule (defer when a fetch is needed, then a follow-up),
ephemeral errors, permissions, autocomplete and persistent buttons.

Each option set is turned into a command by the grammar's builders
(:func:`bot.commands.grammar.watch_command`, …), so a mistake reads exactly as when typed in Slack
or on the CLI; what a command needs (defer first? refuse to non-managers?) is
:func:`bot.commands.grammar.needs`, the same table every front end asks.

Permissions: ``/policy`` carries ``default_member_permissions`` (Manage Channels by default),
so Discord shows it only to members who have it unless a server admin widens it under
Server Settings → Integrations. Changing watches (watch, unwatch, mute, digest and quiet with a
value, settings with a value, and the Unwatch / Mute buttons) is also checked here against the
member's permissions in the channel, so widening the command lets everyone read (list, history,
diff, check, help, and the current digest, quiet and server settings) without letting them
change.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
from collections.abc import Callable
from typing import Any, Literal, cast

import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket

from adapters.discord_embeds import CUSTOM_ID_TEMPLATE, clip, custom_id, reply_text, target_digest
from bot.commands import grammar as cmds
from bot.commands.invocation import Invocation
from bot.domain.errors import InvalidTarget, UsageError
from bot.i18n import joined, msg
from bot.i18n.catalogs import translations
from bot.i18n.languages import DEFAULT_LANGUAGE, normalise
from bot.service.executor import Service

log = logging.getLogger(__name__)
NO_MENTIONS = discord.AllowedMentions.none()
SeverityName = Literal["info", "notice", "warning", "critical"]
# The server setting "who may change watches" as the Discord permission it needs.
_WHO_PERMISSION = {"managers": "manage_channels", "admins": "administrator"}
_INTERNAL_ERROR = msg("Something went wrong on our side; the details are in the bot's log.")


class CommandHandler:
    """Turns interactions into Invocations and Replies into interaction responses."""

    def __init__(
        self,
        service: Service,
        permission: str | None,
        on_watch: Callable[[int], None] | None = None,
    ) -> None:
        self.service = service
        self.permission = permission  # a discord.Permissions flag name, or None for anyone
        self.on_watch = on_watch  # told when a watch succeeds in a channel (it works again)

    def invocation(self, interaction: discord.Interaction[Any]) -> Invocation:
        guild = str(interaction.guild_id) if interaction.guild_id else None
        # The server's own setting (/policy settings who …) decides when it has one; else the
        # operator's DISCORD_MANAGE_PERMISSION.
        who = None
        if guild is not None:
            chosen = self.service.tenants.settings_now(f"discord:{guild}")
            who = chosen.who_may_change
            # The server's community language: its alerts' language unless it sets one.
            locale = interaction.guild_locale.value if interaction.guild_locale else None
            if locale and locale != chosen.locale:
                self.service.tenants.note_locale_now(f"discord:{guild}", locale)
        permission = _WHO_PERMISSION.get(who or "", self.permission)
        may_change = True
        if who != "everyone" and permission is not None:
            may_change = bool(getattr(interaction.permissions, permission, False))
            if who == "admins":  # server owners and admins: Administrator or Manage Server
                may_change = may_change or bool(interaction.permissions.manage_guild)
        label = (permission or "").replace("_", " ").title()
        return Invocation(
            channel=f"discord:{interaction.channel_id}",
            actor=str(interaction.user.id),
            may_change=may_change,
            refusal=msg(
                "changing watches needs the {permission} permission in this channel",
                permission=label,
            ),
            workspace=guild,
            # The member's client language, then the server's (a setting outranks both).
            locales=tuple(
                str(tag.value) for tag in (interaction.locale, interaction.guild_locale) if tag
            ),
        )

    async def build_and_run(
        self,
        interaction: discord.Interaction[Any],
        build: Callable[[], cmds.Command],
        *,
        private: bool = True,
    ) -> None:
        """Build the command through the grammar (a mistake is answered at once, privately,
        in the grammar's words), then :meth:`run` it."""
        try:
            command = build()
        except UsageError as e:
            await self.answer(interaction, cmds.Reply((e.message,), ok=False))
            return
        await self.run(interaction, command, private=private)

    async def run(
        self,
        interaction: discord.Interaction[Any],
        command: cmds.Command,
        *,
        private: bool = True,
    ) -> None:
        """Execute ``command``; defer first when it fetches (a first check can be slow). A
        check delivers what it found at once, as in Slack."""
        inv = self.invocation(interaction)
        early = self._early_refusal(command, inv)
        if early is not None:
            await self.respond(interaction, await self.service.localized(early, inv))
            return
        if cmds.needs(command).fetches:
            await interaction.response.defer(thinking=True, ephemeral=private)
        try:
            if isinstance(command, cmds.Check):
                reply = await self.service.check_now(command.refs, inv)
            else:
                reply = await self.service.execute(command, inv)
        except Exception:
            log.exception("discord command failed command=%s", type(command).__name__)
            reply = await self.service.localized(cmds.Reply((_INTERNAL_ERROR,), ok=False), inv)
        if isinstance(command, cmds.Watch) and reply.ok and self.on_watch is not None:
            self.on_watch(interaction.channel_id or 0)
        await self.respond(interaction, reply, deferred_private=private)

    def _early_refusal(self, command: cmds.Command, inv: Invocation) -> cmds.Reply | None:
        """Refusals and typos are answered at once, privately, before anything is fetched."""
        if cmds.needs(command).changes_watches and not inv.may_change:
            return self.service.refused(inv)
        if isinstance(command, cmds.Watch):  # its options: checked by the grammar's builder
            problems = []
            for ref in command.refs:
                try:
                    self.service.parse_ref(ref)
                except InvalidTarget as e:
                    problems.append(joined("", ["✗ ", e.message]))
            if problems:
                return cmds.Reply((*problems, msg("Nothing was watched.")), ok=False)
        return None

    async def answer(self, interaction: discord.Interaction[Any], reply: cmds.Reply) -> None:
        """:meth:`respond` with an answer of the adapter's own, in the asker's language."""
        inv = self.invocation(interaction)
        await self.respond(interaction, await self.service.localized(reply, inv))

    async def respond(
        self,
        interaction: discord.Interaction[Any],
        reply: cmds.Reply,
        *,
        deferred_private: bool = True,
    ) -> None:
        """Errors are always private; a public defer is removed before a private answer."""
        private = reply.ephemeral or not reply.ok
        text = reply_text(reply)
        extra: dict[str, Any] = {}
        if text.attachment is not None:
            data = io.BytesIO(text.attachment.data)
            extra["file"] = discord.File(data, filename=text.attachment.filename)
        if not interaction.response.is_done():
            await interaction.response.send_message(
                text.content, ephemeral=private, allowed_mentions=NO_MENTIONS, **extra
            )
            return
        if private and not deferred_private:
            with contextlib.suppress(discord.HTTPException):  # already gone is fine
                await interaction.delete_original_response()
        await interaction.followup.send(
            text.content, ephemeral=private, allowed_mentions=NO_MENTIONS, **extra
        )

    async def button(self, interaction: discord.Interaction[Any], action: str, target: str) -> None:
        """An alert's Unwatch / Mute 7 days / Show diff button."""
        ref = self._resolve(interaction, target)
        if ref is None:
            reply = cmds.Reply((msg("That watch no longer exists in this channel."),), ok=False)
            await self.answer(interaction, reply)
            return
        command = cmds.button_command(action, ref)
        if command is None:  # the custom_id template admits only the three
            await self.answer(interaction, cmds.Reply((msg("Unknown button."),), ok=False))
            return
        await self.run(interaction, command)

    def _resolve(self, interaction: discord.Interaction[Any], target: str) -> str | None:
        if not target.startswith("#h"):
            return target
        for _sub, row in self.service.watches(self.invocation(interaction)):
            if target_digest(row.ref) == target[2:]:
                return row.ref
        return None

    def watched_choices(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        """The channel's watched targets that contain what the user typed (at most 25)."""
        needle = current.strip().lower()
        choices = []
        for sub, row in self.service.watches(self.invocation(interaction)):
            if needle and needle not in row.ref.lower():
                continue
            value = row.ref if len(row.ref) <= 100 else f"#{sub.id}"
            choices.append(app_commands.Choice(name=clip(row.ref, 100), value=value))
        return choices[:25]


def _handler(interaction: discord.Interaction[Any]) -> CommandHandler:
    return cast(PolicyClient, interaction.client).handler


async def _watched(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    return _handler(interaction).watched_choices(interaction, current)


def _l(text: str) -> app_commands.locale_str:
    """A command's name or description that Discord shows in the member's language: the
    :class:`CatalogTranslator` looks its English text (a message id) up in the catalogs."""
    return app_commands.locale_str(text)


class CatalogTranslator(app_commands.Translator):
    """Italian (and any language with a catalog) names and descriptions of ``/policy``, sent
    with the commands when they are synced (``name_localizations`` and
    ``description_localizations``); the group's own name, ``policy``, stays the same
    everywhere."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        lang = normalise(locale.value)
        if lang is None or lang == DEFAULT_LANGUAGE:
            return None
        said = translations(lang).gettext(string.message)
        if said == string.message:
            return None
        if context.location in _NAMES:  # names: lowercase, no spaces (Discord's rule)
            said = said.lower().replace(" ", "_")
        return said


_NAMES = (
    app_commands.TranslationContextLocation.command_name,
    app_commands.TranslationContextLocation.group_name,
    app_commands.TranslationContextLocation.parameter_name,
)


class PolicyGroup(app_commands.Group):
    """``/policy …``: one subcommand per command of the shared grammar."""

    def __init__(self, default_permissions: discord.Permissions | None) -> None:
        super().__init__(
            name="policy",
            description=_l(msg("Watch platforms for licence, access and terms changes")),
            guild_only=True,
            allowed_contexts=app_commands.AppCommandContext(guild=True),
            default_permissions=default_permissions,
        )

    @app_commands.command(
        name=_l(msg("watch")),
        description=_l(msg("Watch a target in this channel and take its baseline")),
    )
    @app_commands.describe(
        target=_l(
            msg("hf:owner/name, hf:datasets/owner/name, a huggingface.co URL … (several: spaces)")
        ),
        min_severity=_l(msg("only alert at or above this severity")),
        select=_l(msg("pages: CSS selector of the region that matters")),
        ignore=_l(msg("pages: regex of lines to drop")),
        keywords=_l(msg("feeds: comma-separated keywords")),
    )
    @app_commands.rename(
        target=_l(msg("target")),
        min_severity=_l(msg("min_severity")),
        select=_l(msg("select")),
        ignore=_l(msg("ignore")),
        keywords=_l(msg("keywords")),
    )
    async def watch(
        self,
        interaction: discord.Interaction[Any],
        target: str,
        min_severity: SeverityName | None = None,
        select: str | None = None,
        ignore: str | None = None,
        keywords: str | None = None,
    ) -> None:
        await _handler(interaction).build_and_run(
            interaction,
            lambda: cmds.watch_command(
                target.split(),
                select=select,
                ignore=(ignore,) if ignore else (),
                keywords=keywords,
                min_severity=min_severity,  # None: the server's default
            ),
            private=False,
        )

    @app_commands.command(
        name=_l(msg("unwatch")), description=_l(msg("Stop watching a target in this channel"))
    )
    @app_commands.describe(target=_l(msg("a watched target, or #id from /policy list")))
    @app_commands.rename(target=_l(msg("target")))
    @app_commands.autocomplete(target=_watched)
    async def unwatch(self, interaction: discord.Interaction[Any], target: str) -> None:
        await _handler(interaction).run(interaction, cmds.Unwatch(target))

    @app_commands.command(name=_l(msg("list")), description=_l(msg("List this channel's watches")))
    async def list_(self, interaction: discord.Interaction[Any]) -> None:
        await _handler(interaction).run(interaction, cmds.ListWatches())

    @app_commands.command(
        name=_l(msg("history")), description=_l(msg("Recorded changes, newest first"))
    )
    @app_commands.describe(
        target=_l(msg("a watched target (default: everything)")), limit=_l(msg("how many"))
    )
    @app_commands.rename(target=_l(msg("target")), limit=_l(msg("limit")))
    @app_commands.autocomplete(target=_watched)
    async def history(
        self,
        interaction: discord.Interaction[Any],
        target: str | None = None,
        limit: app_commands.Range[int, 1, 100] = 10,
    ) -> None:
        await _handler(interaction).run(interaction, cmds.History(target, limit))

    @app_commands.command(
        name=_l(msg("diff")),
        description=_l(msg("What differs between a target's last two versions")),
    )
    @app_commands.rename(target=_l(msg("target")))
    @app_commands.autocomplete(target=_watched)
    async def diff(self, interaction: discord.Interaction[Any], target: str) -> None:
        await _handler(interaction).run(interaction, cmds.Diff(target))

    @app_commands.command(
        name=_l(msg("check")),
        description=_l(msg("Check now (one target, or all of this channel's)")),
    )
    @app_commands.rename(target=_l(msg("target")))
    @app_commands.autocomplete(target=_watched)
    async def check(self, interaction: discord.Interaction[Any], target: str | None = None) -> None:
        await _handler(interaction).run(interaction, cmds.Check((target,) if target else ()))

    @app_commands.command(
        name=_l(msg("mute")),
        description=_l(msg("Mute a watch in this channel for a while (0 unmutes)")),
    )
    @app_commands.rename(target=_l(msg("target")), days=_l(msg("days")))
    @app_commands.autocomplete(target=_watched)
    async def mute(
        self,
        interaction: discord.Interaction[Any],
        target: str,
        days: app_commands.Range[float, 0, 365] = 7.0,
    ) -> None:
        await _handler(interaction).build_and_run(
            interaction, lambda: cmds.mute_command(target, f"{days:g}")
        )

    @app_commands.command(
        name=_l(msg("digest")),
        description=_l(msg("This channel's digest time (nothing: show it)")),
    )
    @app_commands.describe(
        at="HH:MM",
        tz=_l(msg("a time zone like Europe/Rome")),
        weekday=_l(msg("weekly digests: mon … sun")),
    )
    @app_commands.rename(at=_l(msg("at")), tz=_l(msg("tz")), weekday=_l(msg("weekday")))
    async def digest(
        self,
        interaction: discord.Interaction[Any],
        at: str | None = None,
        tz: str | None = None,
        weekday: str | None = None,
    ) -> None:
        await _handler(interaction).build_and_run(
            interaction,
            lambda: cmds.digest_command(
                cmds.slotted_words("digest", (("at", at), ("tz", tz), ("weekday", weekday)))
            ),
        )

    @app_commands.command(
        name=_l(msg("quiet")),
        description=_l(msg("This channel's quiet hours (nothing: show them)")),
    )
    @app_commands.describe(
        window=_l(msg("HH:MM-HH:MM, or off")), tz=_l(msg("a time zone like Europe/Rome"))
    )
    @app_commands.rename(window=_l(msg("window")), tz=_l(msg("tz")))
    async def quiet(
        self,
        interaction: discord.Interaction[Any],
        window: str | None = None,
        tz: str | None = None,
    ) -> None:
        await _handler(interaction).build_and_run(
            interaction,
            lambda: cmds.quiet_command(
                cmds.slotted_words("quiet", (("window", window), ("tz", tz)))
            ),
        )

    @app_commands.command(
        name=_l(msg("settings")),
        description=_l(msg("This server's settings (channels override them)")),
    )
    @app_commands.describe(
        setting=_l(msg("who may change watches, default minimum severity, digest time, language")),
        value=_l(msg("everyone|managers|admins · info…critical · HH:MM [Europe/Rome] · en|it")),
    )
    @app_commands.rename(setting=_l(msg("setting")), value=_l(msg("value")))
    async def settings(
        self,
        interaction: discord.Interaction[Any],
        setting: Literal["who", "severity", "digest", "language"] | None = None,
        value: str | None = None,
    ) -> None:
        words = [*([setting] if setting else []), *(value or "").split()]
        await _handler(interaction).build_and_run(interaction, lambda: cmds.settings_command(words))

    @app_commands.command(name=_l(msg("help")), description=_l(msg("How to use /policy")))
    async def help_(self, interaction: discord.Interaction[Any]) -> None:
        await _handler(interaction).run(interaction, cmds.Help())


class AlertButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=CUSTOM_ID_TEMPLATE
):
    """A button on an alert; its custom_id (``policybot:<action>:<target>``) is its state, so
    it keeps working after restarts and for alerts sent by another process."""

    def __init__(self, action: str, target: str) -> None:
        super().__init__(discord.ui.Button(custom_id=custom_id(action, target)))
        self.action = action
        self.target = target

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> AlertButton:
        return cls(match["action"], match["target"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _handler(interaction).button(interaction, self.action, self.target)


class PolicyClient(discord.Client):
    """The gateway client: receives commands and button clicks (it never posts alerts)."""

    def __init__(
        self,
        handler: CommandHandler,
        *,
        default_permissions: discord.Permissions | None,
        dev_guild_id: int | None,
        sync: bool,
    ) -> None:
        super().__init__(intents=discord.Intents(guilds=True))
        self.handler = handler
        self.tree = app_commands.CommandTree(self)
        self.tree.add_command(PolicyGroup(default_permissions))
        self.add_dynamic_items(AlertButton)
        self._dev_guild_id = dev_guild_id
        self._sync = sync

    async def setup_hook(self) -> None:
        """Ask for the gateway URL (so ``POLICYBOT_DISCORD_API_URL`` decides it too) and sync
        the commands: to one guild when ``DISCORD_DEV_GUILD_ID`` is set (instant), else
        globally."""
        _shards, url, _limits = await self.http.get_bot_gateway()
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
        if not self._sync:
            return
        await self.tree.set_translator(CatalogTranslator())
        try:
            if self._dev_guild_id is not None:
                guild = discord.Object(id=self._dev_guild_id)
                self.tree.copy_global_to(guild=guild)
                synced = await self.tree.sync(guild=guild)
                log.info("discord: /policy synced to guild %s (%d)", guild.id, len(synced))
            else:
                synced = await self.tree.sync()
                log.info("discord: /policy synced globally (%d commands)", len(synced))
        except (discord.HTTPException, app_commands.AppCommandError) as e:
            log.error("discord: could not sync /policy, existing commands stay: %s", e)
