"""bot.licences.classify: what a licence id or text means, and what a change from one to another
means."""

from collections import Counter

import pytest

from bot.licences.classify import (
    Category,
    Direction,
    Licence,
    LicenceSet,
    classify_hub,
    classify_id,
    consequence,
    direction,
    first_heading,
    identify_text,
    licensedb,
)
from bot.licences.tables import HUB_ALIASES, HUB_DECIDED, TITLE_PATTERNS
from tests.conftest import CORPUS as SHARED_CORPUS
from tests.conftest import skip_unless_ci

C = Category
CORPUS = SHARED_CORPUS / "licence-history"

# The Hub's own list (huggingface/hub-docs docs/hub/repositories-licenses.md, 69 ids) plus the
# Llama ids seen on real repos but missing from that list.
HUB_LIST = """
apache-2.0 mit openrail bigscience-openrail-m creativeml-openrail-m bigscience-bloom-rail-1.0
bigcode-openrail-m afl-3.0 artistic-2.0 bsl-1.0 bsd bsd-2-clause bsd-3-clause bsd-3-clause-clear
c-uda cc cc0-1.0 cc-by-2.0 cc-by-2.5 cc-by-3.0 cc-by-4.0 cc-by-sa-3.0 cc-by-sa-4.0 cc-by-nc-2.0
cc-by-nc-3.0 cc-by-nc-4.0 cc-by-nd-4.0 cc-by-nc-nd-3.0 cc-by-nc-nd-4.0 cc-by-nc-sa-2.0
cc-by-nc-sa-3.0 cc-by-nc-sa-4.0 cdla-sharing-1.0 cdla-permissive-1.0 cdla-permissive-2.0 wtfpl
ecl-2.0 epl-1.0 epl-2.0 etalab-2.0 eupl-1.1 agpl-3.0 gfdl gpl gpl-2.0 gpl-3.0 lgpl lgpl-2.1
lgpl-3.0 isc lppl-1.3c ms-pl mpl-2.0 odc-by odbl openrail++ osl-3.0 postgresql ofl-1.1 ncsa
unlicense zlib pddl lgpl-lr deepfloyd-if-license llama2 gemma unknown other llama3 llama3.1
llama3.2 llama3.3 llama4
""".split()  # noqa: SIM905 (a list literal would be 74 lines)


def one(identifier: str, name: str | None = None) -> LicenceSet:
    return LicenceSet((classify_id(identifier, name=name),))


# --- one id ----------------------------------------------------------------------------------

HUB_IDS = [
    ("apache-2.0", C.PERMISSIVE, "Apache-2.0"),
    ("mit", C.PERMISSIVE, "MIT"),
    ("llama2", C.PROPRIETARY_FREE, "llama2"),
    ("llama3", C.PROPRIETARY_FREE, "llama3"),
    ("llama3.1", C.PROPRIETARY_FREE, "llama3.1"),
    ("llama3.2", C.PROPRIETARY_FREE, "llama3.2"),
    ("llama3.3", C.PROPRIETARY_FREE, "llama3.3"),
    ("llama4", C.PROPRIETARY_FREE, "llama4"),
    ("gemma", C.PROPRIETARY_FREE, "gemma"),
    ("openrail", C.PROPRIETARY_FREE, "openrail"),
    ("openrail++", C.PROPRIETARY_FREE, "openrail++"),
    ("bigscience-openrail-m", C.PROPRIETARY_FREE, "bigscience-openrail-m"),
    ("bigscience-bloom-rail-1.0", C.PROPRIETARY_FREE, "bigscience-bloom-rail-1.0"),
    ("bigcode-openrail-m", C.PROPRIETARY_FREE, "bigcode-openrail-m"),
    ("creativeml-openrail-m", C.PROPRIETARY_FREE, "creativeml-openrail-m"),
    ("bsl-1.0", C.PERMISSIVE, "BSL-1.0"),  # Boost, not Business Source
    ("cc-by-nc-4.0", C.NON_COMMERCIAL, "CC-BY-NC-4.0"),
    ("cc-by-nc-sa-4.0", C.NON_COMMERCIAL, "CC-BY-NC-SA-4.0"),
    ("cc-by-sa-4.0", C.WEAK_COPYLEFT, "CC-BY-SA-4.0"),
    ("gpl-3.0", C.COPYLEFT, "GPL-3.0-only"),
    ("agpl-3.0", C.COPYLEFT, "AGPL-3.0-only"),
    ("cc0-1.0", C.PUBLIC_DOMAIN, "CC0-1.0"),
    ("odbl", C.COPYLEFT, "ODbL-1.0"),
    ("pddl", C.PUBLIC_DOMAIN, "PDDL-1.0"),
    ("c-uda", C.FREE_RESTRICTED, "C-UDA-1.0"),
    ("odc-by", C.PERMISSIVE, "ODC-By-1.0"),
    ("lgpl-lr", C.WEAK_COPYLEFT, "LGPLLR"),
    ("deepfloyd-if-license", C.NON_COMMERCIAL, "deepfloyd-if-license"),
    ("bsd", C.PERMISSIVE, "bsd"),
    ("lgpl", C.WEAK_COPYLEFT, "lgpl"),
    ("gfdl", C.WEAK_COPYLEFT, "gfdl"),
    ("gpl", C.COPYLEFT, "gpl"),
]


@pytest.mark.parametrize(
    ("hub_id", "category", "label"),
    [pytest.param(*row, id=f"Hub {row[0]} is {row[1]} as {row[2]}") for row in HUB_IDS],
)
def test_hub_id_has_a_category_and_a_label(hub_id: str, category: Category, label: str) -> None:
    licence = classify_id(hub_id)
    assert (licence.category, licence.label, licence.raw) == (category, label, hub_id)
    assert licence.describe() == f"{label} ({category})"


@pytest.mark.parametrize("hub_id", [pytest.param(i, id=f"Hub {i} classifies") for i in HUB_LIST])
def test_every_hub_id_but_other_unknown_and_cc_is_classified(hub_id: str) -> None:
    expected_unknown = hub_id in {"other", "unknown", "cc"}
    assert (classify_id(hub_id).category is C.UNKNOWN) == expected_unknown


def test_hub_bsl_1_0_is_boost_never_the_business_source_licence() -> None:
    licence = classify_id("bsl-1.0")
    assert (licence.key, licence.spdx) == ("boost-1.0", "BSL-1.0")
    assert licensedb()["bsl-1.0"].category == "Source-available"  # the trap is real


@pytest.mark.parametrize(
    ("identifier", "category", "label", "key"),
    [
        pytest.param("BUSL-1.1", C.SOURCE_AVAILABLE, "BUSL-1.1", "bsl-1.1", id="SPDX BUSL-1.1"),
        pytest.param("bsl-1.1", C.SOURCE_AVAILABLE, "BUSL-1.1", "bsl-1.1", id="key bsl-1.1"),
        pytest.param(
            "Elastic-2.0", C.SOURCE_AVAILABLE, "Elastic-2.0", "elastic-license-v2", id="Elastic"
        ),
        pytest.param("SSPL-1.0", C.SOURCE_AVAILABLE, "SSPL-1.0", "mongodb-sspl-1.0", id="SSPL"),
        pytest.param("hfoil-1.0", C.SOURCE_AVAILABLE, "hfoil-1.0", "hfoil-1.0", id="HFOIL key"),
        pytest.param(
            "LicenseRef-scancode-hfoil-1.0",
            C.SOURCE_AVAILABLE,
            "hfoil-1.0",
            "hfoil-1.0",
            id="HFOIL as a LicenseRef",
        ),
        pytest.param("LicenseRef-scancode-mit", C.PERMISSIVE, "MIT", "mit", id="MIT LicenseRef"),
        pytest.param("MPL-2.0", C.WEAK_COPYLEFT, "MPL-2.0", "mpl-2.0", id="MPL-2.0 is weak"),
        pytest.param("BSD-3-Clause", C.PERMISSIVE, "BSD-3-Clause", "bsd-new", id="BSD-3"),
    ],
)
def test_spdx_ids_and_scancode_keys(
    identifier: str, category: Category, label: str, key: str
) -> None:
    licence = classify_id(identifier)
    assert (licence.category, licence.label, licence.key) == (category, label, key)


@pytest.mark.parametrize(
    "identifier",
    [
        pytest.param(i, id=f"{i!r} is unknown, raw kept")
        for i in ["NOASSERTION", "unknown", "", "other", "no-such-licence"]
    ],
)
def test_no_statement_is_unknown_with_raw_kept(identifier: str) -> None:
    licence = classify_id(identifier)
    assert (licence.category, licence.key, licence.raw) == (C.UNKNOWN, None, identifier)


@pytest.mark.parametrize(
    ("name", "category", "label"),
    [
        pytest.param("llama3", C.PROPRIETARY_FREE, "llama3", id="other named llama3 is Llama 3"),
        pytest.param("hfoil-1.0", C.SOURCE_AVAILABLE, "hfoil-1.0", id="other named hfoil-1.0"),
        pytest.param(
            "Llama 3.1 Community License Agreement",
            C.PROPRIETARY_FREE,
            "llama3.1",
            id="other named by a licence title",
        ),
        pytest.param("yi-license", C.UNKNOWN, "yi-license", id="other with a custom name"),
        pytest.param(None, C.UNKNOWN, "other", id="other with no name"),
    ],
)
def test_other_is_classified_by_its_name(name: str | None, category: Category, label: str) -> None:
    licence = classify_id("other", name=name)
    assert (licence.raw, licence.name, licence.category, licence.label) == (
        "other",
        name,
        category,
        label,
    )


# --- the tables stay true to the index ---------------------------------------------------------


@pytest.mark.parametrize(
    ("hub_id", "key"), [pytest.param(h, k, id=f"{h} -> {k} exists") for h, k in HUB_ALIASES.items()]
)
def test_every_alias_points_at_a_live_index_key(hub_id: str, key: str) -> None:
    assert key in licensedb(), f"{hub_id}: index has no key {key!r} any more"
    assert not licensedb()[key].deprecated
    assert classify_id(hub_id).key == key


@pytest.mark.parametrize(
    "hub_id", [pytest.param(h, id=f"{h} has no index entry") for h in HUB_DECIDED]
)
def test_decided_ids_are_really_missing_from_the_index(hub_id: str) -> None:
    # If the index learns one of these, move it to HUB_ALIASES and let the index decide.
    # (gpl is the deliberate exception: kept as a family, see bot.licences.tables.)
    assert hub_id == "gpl" or hub_id not in licensedb()
    assert hub_id not in HUB_ALIASES
    assert Category(HUB_DECIDED[hub_id]) is classify_id(hub_id).category


@pytest.mark.parametrize(
    "family",
    [
        pytest.param(f, id=f"family {f} agrees with its members")
        for f in ["bsd", "lgpl", "gfdl", "gpl"]
    ],
)
def test_family_category_is_its_members_majority(family: str) -> None:
    members = Counter(
        classify_id(entry.key).category
        for entry in licensedb().values()
        if entry.key.startswith(family + "-") and not entry.deprecated
    )
    assert members.most_common(1)[0][0] is classify_id(family).category


@pytest.mark.parametrize(
    "identifier", sorted({i for _, i in TITLE_PATTERNS}), ids=lambda i: f"title -> {i} is known"
)
def test_every_title_maps_to_a_known_licence(identifier: str) -> None:
    assert classify_id(identifier).category is not C.UNKNOWN


# --- a change --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        pytest.param("apache-2.0", "hfoil-1.0", Direction.MORE_RESTRICTIVE, id="Apache to HFOIL"),
        pytest.param("hfoil-1.0", "apache-2.0", Direction.LESS_RESTRICTIVE, id="HFOIL to Apache"),
        pytest.param("MIT", "BSD-3-Clause", Direction.LATERAL, id="MIT to BSD-3 is lateral"),
        pytest.param("apache-2.0", "other", Direction.UNKNOWN, id="Apache to unnamed other"),
        pytest.param("MPL-2.0", "BUSL-1.1", Direction.MORE_RESTRICTIVE, id="MPL to BUSL"),
        pytest.param("cc-by-nc-4.0", "llama3", Direction.LATERAL, id="NC to Llama is lateral"),
        pytest.param("cc0-1.0", "mit", Direction.MORE_RESTRICTIVE, id="CC0 to MIT"),
    ],
)
def test_direction_of_a_change(before: str, after: str, expected: Direction) -> None:
    assert direction(one(before), one(after)) is expected


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        pytest.param((), ("mit",), Direction.LESS_RESTRICTIVE, id="none to MIT grants rights"),
        pytest.param(("mit",), (), Direction.MORE_RESTRICTIVE, id="MIT to none removes rights"),
        pytest.param((), ("other",), Direction.UNKNOWN, id="none to unnamed other is unknown"),
        pytest.param((), (), Direction.LATERAL, id="none to none"),
        pytest.param(("mit",), ("mit", "cc-by-nc-4.0"), Direction.MORE_RESTRICTIVE, id="NC added"),
    ],
)
def test_direction_when_nothing_is_declared(
    before: tuple[str, ...], after: tuple[str, ...], expected: Direction
) -> None:
    old = LicenceSet(tuple(classify_id(i) for i in before))
    new = LicenceSet(tuple(classify_id(i) for i in after))
    assert direction(old, new) is expected


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        pytest.param("apache-2.0", "cc-by-nc-4.0", "commercial use now restricted", id="to NC"),
        pytest.param("MIT", "BUSL-1.1", "commercial use now restricted", id="to BUSL"),
        pytest.param("mit", "gpl-3.0", "copyleft obligations added", id="to GPL"),
        pytest.param("hfoil-1.0", "apache-2.0", "now permissive", id="back to Apache"),
        pytest.param("MIT", "BSD-3-Clause", None, id="nothing to say when lateral"),
        pytest.param("apache-2.0", "other", None, id="nothing to say when unknown"),
    ],
)
def test_consequence_in_plain_english(before: str, after: str, expected: str | None) -> None:
    assert consequence(one(before), one(after)) == expected


# --- a Hub repo --------------------------------------------------------------------------------


def test_hub_string_licence() -> None:
    assert classify_hub("apache-2.0").describe() == "Apache-2.0 (permissive)"


def test_hub_list_is_as_restrictive_as_its_most_restrictive_member() -> None:
    declared = classify_hub(["mit", "cc-by-nc-4.0", "mit"])
    assert declared.describe() == "MIT (permissive) + CC-BY-NC-4.0 (non-commercial)"
    assert (declared.category, declared.rank) == (C.NON_COMMERCIAL, 4)


def test_hub_without_card_licence_falls_back_to_tags() -> None:
    declared = classify_hub(None, tags=["transformers", "license:llama3.1", "region:us"])
    assert declared.category is C.PROPRIETARY_FREE
    assert [lic.raw for lic in declared.licences] == ["llama3.1"]


def test_hub_other_with_license_name_llama3() -> None:
    declared = classify_hub("other", license_name="llama3")
    assert declared.describe() == "llama3 (proprietary-free)"


def test_hub_with_no_licence_at_all_says_none_declared() -> None:
    declared = classify_hub(None, tags=["transformers"])
    assert (declared.describe(), declared.label, declared.category) == (
        "none declared",
        "none declared",
        C.UNKNOWN,
    )


def test_an_unrankable_member_makes_the_set_unknown() -> None:
    assert classify_hub(["mit", "other"]).rank is None


# --- naming a licence from its text ------------------------------------------------------------

# Expected licences from ../shared/corpus/MANIFEST.md section 1.
CORPUS_TEXTS = [
    ("text-generation-inference/LICENSE.2023-07-before-apache-2.0", "Apache-2.0"),
    ("text-generation-inference/LICENSE.2023-07-28-after-hfoil-1.0", "hfoil-1.0"),
    ("text-generation-inference/LICENSE.2024-04-08-after-apache-2.0", "Apache-2.0"),
    ("terraform/LICENSE.2023-08-before-mpl-2.0", "MPL-2.0"),
    ("terraform/LICENSE.2023-08-10-after-busl-1.1", "BUSL-1.1"),
    ("terraform/LICENSE.2023-08-16-busl-1.1-param-edit", "BUSL-1.1"),
    ("terraform/LICENSE.2023-11-07-busl-1.1-use-grant-rewritten", "BUSL-1.1"),
    ("terraform/LICENSE.2026-03-11-busl-1.1-licensor-ibm", "BUSL-1.1"),
    ("vagrant/LICENSE.2022-11-before-mit-reformat", "MIT"),
    ("vagrant/LICENSE.2023-08-before-mit", "MIT"),
    ("vagrant/LICENSE.2023-08-10-after-busl-1.1", "BUSL-1.1"),
    ("redis/COPYING.2024-03-before-bsd-3-clause", "BSD-3-Clause"),
    ("redis/LICENSE.txt.2024-03-20-after-rsalv2-sspl", "rsalv2 OR SSPL-1.0"),
    ("yi-model-card/MODEL_LICENSE_AGREEMENT.txt.2024-05-30-after-apache-2.0", "Apache-2.0"),
    ("yi-model-card/MODEL_LICENSE_AGREEMENT.txt.2024-05-before-yi-community-license-2.1", None),
]

# The relicensings, as a user would read the alert.
CORPUS_CHANGES = [
    (
        "text-generation-inference",
        "LICENSE.2023-07-before-apache-2.0",
        "LICENSE.2023-07-28-after-hfoil-1.0",
    ),
    ("terraform", "LICENSE.2023-08-before-mpl-2.0", "LICENSE.2023-08-10-after-busl-1.1"),
    ("vagrant", "LICENSE.2023-08-before-mit", "LICENSE.2023-08-10-after-busl-1.1"),
    ("redis", "COPYING.2024-03-before-bsd-3-clause", "LICENSE.txt.2024-03-20-after-rsalv2-sspl"),
]


def corpus_text(relative: str) -> str:
    if not CORPUS.is_dir():
        skip_unless_ci(f"licence corpus not found at {CORPUS}")
    return (CORPUS / relative).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("relative", "label"),
    [pytest.param(r, lab, id=f"{r} is {lab or 'custom'}") for r, lab in CORPUS_TEXTS],
)
def test_identify_real_licence_texts(relative: str, label: str | None) -> None:
    text = corpus_text(relative)
    licence = identify_text(text)
    assert (licence.label if licence else None) == label
    if licence is not None:
        assert licence.raw == first_heading(text)


@pytest.mark.parametrize(
    ("repo", "before", "after"),
    [pytest.param(*row, id=f"{row[0]} relicensing is more restrictive") for row in CORPUS_CHANGES],
)
def test_real_relicensings_read_as_more_restrictive(repo: str, before: str, after: str) -> None:
    old, new = (identify_text(corpus_text(f"{repo}/{name}")) for name in (before, after))
    assert old is not None and new is not None
    assert direction(LicenceSet((old,)), LicenceSet((new,))) is Direction.MORE_RESTRICTIVE
    assert consequence(LicenceSet((old,)), LicenceSet((new,))) == "commercial use now restricted"


def test_redis_dual_licence_is_either_licence() -> None:
    licence = identify_text(corpus_text("redis/LICENSE.txt.2024-03-20-after-rsalv2-sspl"))
    assert licence == Licence(
        raw="Starting on March 20th, 2024, Redis follows a dual-licensing model with all Redis "
        "project code",
        label="rsalv2 OR SSPL-1.0",
        key="rsalv2 OR mongodb-sspl-1.0",
        spdx=None,
        category=C.SOURCE_AVAILABLE,
    )


CUSTOM = """\
# Acme Model Licence

You may run the Acme model for evaluation. Any other use needs a written agreement with Acme.
"""


def test_a_custom_text_is_not_identified_and_keeps_its_heading() -> None:
    assert identify_text(CUSTOM) is None
    assert first_heading(CUSTOM) == "Acme Model Licence"


def test_an_spdx_identifier_line_names_the_licence() -> None:
    licence = identify_text("Acme tools\nSPDX-License-Identifier: Apache-2.0\n")
    assert licence is not None and licence.label == "Apache-2.0"


def test_a_sentence_that_mentions_a_licence_is_not_a_title() -> None:
    text = (
        "The Apache License, Version 2.0 used to cover this project; since 2024 our own terms do.\n"
    )
    assert identify_text(text) is None


def test_hand_written_titles_are_only_for_licences_no_matcher_knows() -> None:
    """Issue 13: SPDX licences are named by askalono; the table keeps only the others."""
    for _, identifier in TITLE_PATTERNS:
        assert classify_id(identifier).spdx is None, identifier


@pytest.mark.parametrize(
    ("relative", "label"),
    [
        pytest.param("vagrant/LICENSE.2023-08-before-mit", "MIT", id="MIT without a title"),
        pytest.param("redis/COPYING.2024-03-before-bsd-3-clause", "BSD-3-Clause", id="BSD-3"),
        pytest.param("terraform/LICENSE.2026-03-11-busl-1.1-licensor-ibm", "BUSL-1.1", id="BUSL"),
    ],
)
def test_spdx_texts_are_named_by_the_matcher(relative: str, label: str) -> None:
    from bot.licences.classify import MATCH_THRESHOLD, match_spdx

    text = corpus_text(relative)
    found = match_spdx(text)
    assert found is not None and found.spdx == label and found.score >= MATCH_THRESHOLD
    named = identify_text(text)
    assert named is not None and named.label == label
