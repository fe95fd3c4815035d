#!/usr/bin/env python3
"""Writes provinces.tsv and communes.tsv from the PyPI package `vietnam-provinces`.

Only facts are taken from the package (codes, names, kinds of administrative units, as published by
the statistics office); none of its (GPL-3.0) code is used or copied.

    pip download --no-deps vietnam-provinces==2025.10.1 -d /tmp/vp
    python3 schema/reference/tools/communes_from_vietnam_provinces.py \
        /tmp/vp/vietnam_provinces-2025.10.1-py3-none-any.whl schema/reference
"""

import json
import sys
import unicodedata
import zipfile
from pathlib import Path

DIVISIONS = "vietnam_provinces/data/nested-divisions.json"

# The package says "thành phố trung ương"; the record only needs tỉnh vs thành phố.
PROVINCE_KINDS = {"tỉnh": "tỉnh", "thành phố trung ương": "thành phố"}
COMMUNE_KINDS = {"xã", "phường", "đặc khu"}


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


def short_name(full: str, kind: str) -> str:
    """'Phường Hoàn Kiếm' of kind 'phường' -> 'Hoàn Kiếm' (the kind is its own column)."""
    prefix = kind[0].upper() + kind[1:] + " "
    if not full.startswith(prefix):
        sys.exit(f"{full!r} does not start with its kind {kind!r}")
    return full[len(prefix):]


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    wheel_path, out = Path(sys.argv[1]), Path(sys.argv[2])
    with zipfile.ZipFile(wheel_path) as wheel:
        version = f"vietnam-provinces-{upstream_version(wheel)}"
        divisions = json.loads(wheel.read(DIVISIONS).decode("utf-8"))

    provinces, communes = [], []
    for p in divisions:
        kind = PROVINCE_KINDS[p["division_type"]]
        name = nfc(p["name"])
        if kind == "thành phố":
            name = short_name(name, kind)
        code = f"{p['code']:03}"
        provinces.append((code, name, kind, str(len(p["wards"]))))
        for w in p["wards"]:
            wkind = nfc(w["division_type"])
            if wkind not in COMMUNE_KINDS:
                sys.exit(f"unknown commune kind {wkind!r}")
            communes.append((f"{w['code']:05}", short_name(nfc(w["name"]), wkind), wkind, code))
    provinces.sort()
    communes.sort()

    source = f"PyPI package {version} (vietnam_provinces/data/nested-divisions.json), facts only"
    write(out / "provinces.tsv", [
        "Current provinces of Việt Nam since 2025-07-01: 34 units.",
        "Codes were REUSED from the legacy list for other provinces: never label a legacy ID prefix with them.",
        f"source: {source}",
        f"version: {version}",
        "columns: code\tname\tkind\tcommunes",
    ], provinces)
    write(out / "communes.tsv", [
        "Communes (xã, phường, đặc khu) of Việt Nam since 2025-07-01: the second and last tier.",
        f"source: {source}",
        f"version: {version}",
        "columns: code\tname\tkind\tprovince",
    ], communes)
    print(f"{len(provinces)} provinces, {len(communes)} communes ({version})")


def write(path: Path, header: list[str], rows: list[tuple[str, ...]]) -> None:
    lines = [f"# {h}" for h in header] + ["\t".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
