"""The lifecycle every fake server shares: an aiohttp app bound on 127.0.0.1 (port 0 picks a
free one), ``url`` once started, and ``async with`` that starts and closes it."""

from __future__ import annotations

from types import TracebackType
from typing import Any, ClassVar, Self

from aiohttp import web


class LocalServer:
    url: str = ""
    port: int = 0
    bind: tuple[str, int] = ("127.0.0.1", 0)
    runner_options: ClassVar[dict[str, Any]] = {}  # extra AppRunner arguments of one fake
    _runner: web.AppRunner | None = None

    def build_app(self) -> web.Application:
        raise NotImplementedError

    async def start(self) -> None:
        runner = web.AppRunner(self.build_app(), access_log=None, **self.runner_options)
        await runner.setup()
        await web.TCPSite(runner, *self.bind).start()
        self._runner = runner
        host, self.port = runner.addresses[0][:2]
        self.url = f"http://{host}:{self.port}"

    async def close(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
