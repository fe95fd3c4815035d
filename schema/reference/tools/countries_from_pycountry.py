#!/usr/bin/env python3
"""Writes countries.tsv (ISO 3166-1) from the PyPI package `pycountry`.

Only facts are taken (codes, English short names from its iso3166-1.json, Vietnamese names from the
Debian iso-codes translations it ships); none of its (LGPL-2.1) code is used or copied.

    pip download --no-deps pycountry==26.2.16 -d /tmp/pyc
    python3 schema/reference/tools/countries_from_pycountry.py \
        /tmp/pyc/pycountry-26.2.16-py3-none-any.whl schema/reference
"""

import gettext
import io
import json
import sys
import unicodedata
import zipfile
from pathlib import Path

DATABASE = "pycountry/databases/iso3166-1.json"
VIETNAMESE = "pycountry/locales/vi/LC_MESSAGES/iso3166-1.mo"


def upstream_version(wheel: zipfile.ZipFile) -> str:
    for name in wheel.namelist():
        if name.endswith(".dist-info/METADATA"):
            for line in wheel.read(name).decode("utf-8").splitlines():
                if line.startswith("Version: "):
                    return line.removeprefix("Version: ").strip()
    sys.exit("no Version in the wheel's METADATA")


def nfc(text: str) -> str:
    # Upstream has stray double spaces ("Xã  Bắc Đông Quan"): names are compared exactly, so
    # runs of whitespace become one space.
    return " ".join(unicodedata.normalize("NFC", text).split())


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    wheel_path, out = Path(sys.argv[1]), Path(sys.argv[2])
    with zipfile.ZipFile(wheel_path) as wheel:
        version = f"pycountry-{upstream_version(wheel)}"
        countries = json.loads(wheel.read(DATABASE).decode("utf-8"))["3166-1"]
        vi = gettext.GNUTranslations(io.BytesIO(wheel.read(VIETNAMESE)))

    rows = []
    for c in countries:
        translated = vi.gettext(c["name"])
        # An untranslated name stays empty rather than pretending the English one is Vietnamese.
        name_vi = nfc(translated) if translated != c["name"] else ""
        rows.append((c["alpha_3"], c["alpha_2"], c["numeric"], nfc(c["name"]), name_vi))
    rows.sort()

    lines = [
        "# Countries and territories, ISO 3166-1 (alpha-3, alpha-2, numeric, English short name, Vietnamese name).",
        "# name_vi is empty where no Vietnamese name is known.",
        f"# source: PyPI package {version} (databases/iso3166-1.json, locales/vi iso3166-1.mo), facts only",
        f"# version: {version}",
        "# columns: alpha3\talpha2\tnumeric\tname\tname_vi",
    ] + ["\t".join(r) for r in rows]
    (out / "countries.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(rows)} countries ({version})")


if __name__ == "__main__":
    main()
