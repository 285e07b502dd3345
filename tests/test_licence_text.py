"""Materiality of licence text edits (bot.licences.full_text), on the real LICENSE histories of
``corpus/licence-history``: every term and figure counts, copyright years and release
versions do not, a new copyright holder is told quietly."""

from __future__ import annotations

import pytest

from bot.domain.model import Severity
from bot.licences.full_text import RULES_VERSION, Materiality, compare, text_change
from tests.conftest import corpus_path


def corpus(relative: str) -> str:
    path = corpus_path("licence-history", *relative.split("/"))
    return path.read_text(encoding="utf-8")


USE_GRANT = "terraform/LICENSE.2023-11-07-busl-1.1-use-grant-rewritten"


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        pytest.param(
            "vagrant/LICENSE.2022-11-before-mit-reformat",
            "vagrant/LICENSE.2023-08-before-mit",
            Materiality.COSMETIC,
            id="Vagrant MIT: holder and title line only",
        ),
        pytest.param(
            "terraform/LICENSE.2023-08-10-after-busl-1.1",
            "terraform/LICENSE.2023-08-16-busl-1.1-param-edit",
            Materiality.MATERIAL,
            id="Terraform: Licensed Work named",
        ),
        pytest.param(
            "terraform/LICENSE.2023-08-16-busl-1.1-param-edit",
            USE_GRANT,
            Materiality.MATERIAL,
            id="Terraform: Additional Use Grant rewritten",
        ),
        pytest.param(
            USE_GRANT,
            "terraform/LICENSE.2026-03-11-busl-1.1-licensor-ibm",
            Materiality.MATERIAL,
            id="Terraform: Licensor IBM",
        ),
        pytest.param(
            "text-generation-inference/LICENSE.2023-07-before-apache-2.0",
            "text-generation-inference/LICENSE.2024-04-08-after-apache-2.0",
            Materiality.SAME,
            id="TGI revert: same bytes",
        ),
    ],
)
def test_real_licence_edits(before: str, after: str, expected: Materiality) -> None:
    assert compare(corpus(before), corpus(after)).materiality is expected


def test_vagrant_holder_is_named() -> None:
    verdict = compare(
        corpus("vagrant/LICENSE.2022-11-before-mit-reformat"),
        corpus("vagrant/LICENSE.2023-08-before-mit"),
    )
    assert verdict.holders == ("Mitchell Hashimoto", "HashiCorp, Inc.")
    assert verdict.title == "The MIT License"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param("Terraform 1.7.0-dev", "Terraform 1.7.0-alpha20231025", id="release"),
        pytest.param("(c) 2023 HashiCorp", "(c) 2024 HashiCorp", id="copyright year"),
        pytest.param("\u201cBusiness Source License\u201d", '"Business Source License"'),
    ],
)
def test_noise_stays_silent(old: str, new: str) -> None:
    text = corpus(USE_GRANT)
    assert old in text
    assert compare(text, text.replace(old, new, 1)).materiality in (
        Materiality.NOISE,
        Materiality.SAME,
    )
    assert (
        text_change(
            text, text.replace(old, new, 1), old_rules=RULES_VERSION, still="x", relicensed=False
        )
        is None
    )


@pytest.mark.parametrize(
    ("old", "new", "figure"),
    [
        pytest.param("Change License:       MPL 2.0", "Change License:       MPL 3.0",
                     "2.0 → 3.0", id="licence version is a term"),
        pytest.param("Four years from", "Five years from", None, id="a duration in words"),
        pytest.param("Four years from the date", "2031-08-10, or four years from the date",
                     "Four → 2031-08-10, or four", id="a date"),
        pytest.param("HashiCorp considers", "HashiCorp (with 25% of its affiliates) considers",
                     "added “(with 25% of its affiliates)”", id="a percentage"),
    ],
)  # fmt: skip
def test_terms_and_figures_are_material(old: str, new: str, figure: str | None) -> None:
    text = corpus(USE_GRANT)
    assert old in text
    change = text_change(
        text, text.replace(old, new, 1), old_rules=RULES_VERSION, still="BUSL", relicensed=False
    )
    assert change is not None and change.severity is Severity.NOTICE
    if figure:
        assert figure in change.summary


def test_an_old_snapshot_is_compared_like_with_like_once() -> None:
    text = corpus(USE_GRANT)
    edited = text.replace("MPL 2.0", "MPL 3.0")
    assert text_change(text, edited, old_rules=None, still="x", relicensed=False) is None
    later = text_change(text, edited, old_rules=RULES_VERSION, still="x", relicensed=False)
    assert later is not None and "2.0 → 3.0" in later.summary
    reworded = text.replace("Four years from", "Two years from")
    assert text_change(text, reworded, old_rules=None, still="x", relicensed=False) is not None
