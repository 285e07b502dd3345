"""Hand-kept tables for `bot.licences.classify`: Hub licence ids and well-known licence titles.

Data only, so the classifier stays readable. Every decision carries its reason. Keys on the
right-hand side of `HUB_ALIASES` are ScanCode LicenseDB keys; a test checks that each one
still exists in the index that license-expression ships, so an index update that renames a
key fails loudly instead of silently turning a licence into "unknown".
"""

from typing import Final

# Hub id → ScanCode LicenseDB key, for Hub ids that are neither an SPDX id nor a ScanCode key.
# Looked up before anything else (see platform-facts 1.7).
HUB_ALIASES: Final[dict[str, str]] = {
    # Meta's per-version community licences: the index has one key per version.
    "llama2": "llama-2-license-2023",
    "llama3.1": "llama-3.1-license-2024",
    "llama3.2": "llama-3.2-license-2024",
    "llama3.3": "llama-3.3-license-2024",
    "llama4": "llama-4-license-2025",
    "gemma": "gemma-tou-2024-04-01",  # Gemma Terms of Use, the 2024-04-01 revision
    # The RAIL licences that do have an index entry, under slightly different spellings.
    "bigscience-openrail-m": "bigscience-open-rail-m",
    "bigscience-bloom-rail-1.0": "bigscience-rail-1.0",
    "bigcode-openrail-m": "bigcode-open-rail-m-v1",
    # Open Data Commons and C-UDA: the Hub drops the version the index keys carry.
    "odc-by": "odc-by-1.0",
    "odbl": "odbl-1.0",
    "pddl": "pddl-1.0",
    "c-uda": "c-uda-1.0",
    # THE TRAP: the Hub's `bsl-1.0` is the Boost Software License (SPDX BSL-1.0). ScanCode's
    # *key* `bsl-1.0` is the Business Source License 1.0 (source-available). Pinned here so a
    # Boost repo can never raise a "source-available" alarm, whatever the lookup order.
    "bsl-1.0": "boost-1.0",
    # "Lesser General Public License For Linguistic Resources": platform-facts 1.7 lists it as
    # absent, but the index has it as key `lgpllr` (SPDX LGPLLR); the hyphen defeats a direct match.
    "lgpl-lr": "lgpllr",
}

# Hub ids with no index entry at all: category decided here (values are `Category` values).
HUB_DECIDED: Final[dict[str, str]] = {
    # Open RAIL family: use-based restrictions (an attached list of forbidden uses) but free of
    # charge, the same as the RAIL licences the index does list (all "Proprietary Free").
    "openrail": "proprietary-free",
    "openrail++": "proprietary-free",  # CreativeML Open RAIL++-M (Stable Diffusion 2.x)
    "creativeml-openrail-m": "proprietary-free",  # Stable Diffusion 1.x; same terms as above
    # The Hub's own list names it "DeepFloyd IF *Research* License Agreement": it allows
    # non-commercial research only, so "non-commercial" says more than the RAIL grouping would.
    "deepfloyd-if-license": "non-commercial",
    # Meta Llama 3 Community License: no generic Llama 3 key in the index, but every Llama 3.x
    # key is "Proprietary Free", and the 3.0 terms are the same kind (AUP, 700M-MAU clause).
    "llama3": "proprietary-free",
    # Families (the Hub's "... license family" entries). Each takes its members' category where
    # they agree; a test checks it against the majority of non-deprecated index members.
    "bsd": "permissive",  # 56 of 60 members permissive; the rest are odd variants
    "lgpl": "weak copyleft",  # every lgpl-* member is Copyleft Limited
    "gfdl": "weak copyleft",  # all 18 gfdl-* members are Copyleft Limited
    # The SPDX-ish `GPL` would match ScanCode's gpl-1.0-plus (Copyleft); we keep it a family so
    # the label stays "gpl" instead of a surprising "GPL-1.0-or-later".
    "gpl": "copyleft",
    # Creative Commons ranges from CC0 (public domain) to BY-NC-ND: no honest single category.
    "cc": "unknown",
}

# Titles of licences that no SPDX matcher knows (askalono's store is the SPDX licence list):
# model licences, the source-available licences that have no SPDX id, and the Business Source
# License 1.0. Every licence on the SPDX list is named by the matcher (`bot.licences.classify`),
# so it has no row here. Each pattern is matched (after normalisation: case-folded, quotes removed,
# whitespace collapsed, leading numbering and an optional "the " dropped) at the START of a
# line joined with the next non-empty line.
TITLE_PATTERNS: Final[tuple[tuple[str, str], ...]] = (
    (r"hugging face optimized inference license,? (?:version |v)?1\.0", "hfoil-1.0"),
    # Business Source License 1.0: spelled as the LicenseRef so it can't be read as Boost.
    (r"business source license,? (?:version |v)?1\.0", "LicenseRef-scancode-bsl-1.0"),
    (r"redis source available license,? (?:version |v)?2(?:\.0)?\b", "LicenseRef-scancode-rsalv2"),
    (r"commons clause", "LicenseRef-scancode-commons-clause"),
    (r"(?:meta )?llama 2 community license", "llama2"),
    (r"(?:meta )?llama 3 community license", "llama3"),
    (r"(?:meta )?llama 3\.1 community license", "llama3.1"),
    (r"(?:meta )?llama 3\.2 community license", "llama3.2"),
    (r"(?:meta )?llama 3\.3 community license", "llama3.3"),
    (r"(?:meta )?llama 4 community license", "llama4"),
    (r"gemma terms of use", "gemma"),
    (r"creativeml open rail\+\+-m", "openrail++"),
    (r"creativeml open rail-m", "creativeml-openrail-m"),
    (r"bigscience bloom rail (?:license )?v?1\.0", "bigscience-bloom-rail-1.0"),
    (r"bigscience open rail-m", "bigscience-openrail-m"),
    (r"bigcode open rail-m", "bigcode-openrail-m"),
    (r"deepfloyd if (?:research )?license", "deepfloyd-if-license"),
)
