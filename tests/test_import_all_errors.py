"""``policybot import FILE`` reports every invalid entry at once (the README promises it):
parse problems, unreadable targets, refused URLs and bad channels, in file order, and
applies nothing."""

from __future__ import annotations

from pathlib import Path

from tests.clihelp import cli_env, policybot

BAD = """\
[[watch]]
target = "nonsense:xyz"

[[watch]]
target = "page:http://169.254.169.254/latest"

[[watch]]
target = "hf:acme/ok"

[[watch]]
target = "hf:acme/y"
to = ["nope:1"]
ignore = ["(unclosed"]
"""


async def test_import_reports_a_bad_target_a_link_local_url_and_a_bad_channel_together(
    tmp_path: Path,
) -> None:
    (tmp_path / "bad.toml").write_text(BAD)
    env = cli_env(f"sqlite:///{tmp_path / 'i.db'}", "http://127.0.0.1:9")
    env["POLICYBOT_ALLOW_PRIVATE_URLS"] = "false"  # the default a user has
    ran = await policybot(env, "import", "bad.toml", cwd=tmp_path)
    assert ran.code == 2, ran.err
    lines = ran.err.splitlines()
    assert lines[0] == "error: invalid watch list:"
    assert lines[1].startswith("bad.toml:1: [[watch]] #1: cannot read 'nonsense:xyz'")
    assert lines[2].startswith("bad.toml:4: [[watch]] #2: refused http://169.254.169.254")
    assert "link-local" in lines[2]
    entry4 = [ln for ln in lines if ln.startswith("bad.toml:10: [[watch]] #4: ")]
    assert any("unknown channel 'nope:1'" in ln for ln in entry4), lines
    assert any("not a valid regex" in ln for ln in entry4), lines
    assert not any("#3" in ln for ln in lines), "the valid entry is not blamed"
    listed = await policybot(env, "list", cwd=tmp_path)
    assert "acme/ok" not in listed.out, "nothing is half-applied"
