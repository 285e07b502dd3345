"""The ``policybot`` command (the console script's entry point) and ``python -m bot``: the CLI,
imported only when it runs.

A worker process (:mod:`bot.cpu`) imports the main module of the bot's process again before
its first job: multiprocessing's forkserver and spawn start methods do, so that functions of
``__main__`` unpickle. The console script pip writes imports its entry point's module at the
top; with ``bot.cli:app`` that made every worker import the whole bot (aiohttp, pydantic,
SQLAlchemy, typer, every source: 0.3-0.4 s of CPU each) however slim the fork server's
preload. This module imports nothing, and ``python -m bot`` is not imported at all (a module
named ``__main__`` is skipped).
"""


def main() -> None:
    from bot.cli import main as cli

    cli()


if __name__ == "__main__":
    main()
