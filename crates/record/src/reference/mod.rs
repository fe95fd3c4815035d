//! Versioned reference data: legacy and current provinces, communes, ethnic groups, religions and
//! countries, from the TSV files of `schema/reference/` (see its README for sources).
//!
//! The files are embedded in the binary and parsed once, on first use. Parsing never panics: a bad
//! line is left out of its table and reported by [`check`], which tests and the app's startup call.
//! Lookups answer from whatever parsed.
//!
//! The registry may publish newer releases of five of the files (not the legacy prefixes, which
//! are fixed forever): [`prepare`] builds and checks tables with them, [`Prepared::install`]
//! makes those the ones every lookup answers from (see [`List`], `docs/reference-updates.md`).
//!
//! Current province codes were reused for other provinces in 2025 (044 is Quảng Trị today, Quảng
//! Bình as a legacy ID prefix): an ID prefix is looked up with [`legacy_province`], never [`province`].

mod admin;
mod codes;
mod legacy;
mod lists;
mod table;
mod update;

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use serde::Serialize;

pub use admin::{Commune, CommuneKind, Province, ProvinceKind};
pub use codes::{
    CodeError, CodeKind, CommuneCode, CountryCode, EthnicGroupCode, ProvinceCode, ReligionCode,
};
pub use legacy::{legacy_province_name, LegacyProvince};
pub use lists::{Country, EthnicGroup, Religion};
pub use table::{Header, LineProblem, ReferenceError};
pub use update::{is_newer, prepare, List, ListUpdate, Prepared, MAX_LIST_BYTES};

use table::{parse, Format, Parsed};

const LEGACY_PROVINCES_TSV: &str =
    include_str!("../../../../schema/reference/legacy-provinces.tsv");
const PROVINCES_TSV: &str = include_str!("../../../../schema/reference/provinces.tsv");
const COMMUNES_TSV: &str = include_str!("../../../../schema/reference/communes.tsv");
const ETHNIC_GROUPS_TSV: &str = include_str!("../../../../schema/reference/ethnic-groups.tsv");
const RELIGIONS_TSV: &str = include_str!("../../../../schema/reference/religions.tsv");
const COUNTRIES_TSV: &str = include_str!("../../../../schema/reference/countries.tsv");

/// Which release of each reference file this build holds, by file name without `.tsv`
/// (`communes` → `vietnam-provinces-2025.10.1`). A bundle carries it, so the registry knows
/// which lists a record was validated against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ReferenceVersions(BTreeMap<&'static str, &'static str>);

impl ReferenceVersions {
    /// The version of one file, by its name without `.tsv`.
    pub fn get(&self, name: &str) -> Option<&'static str> {
        self.0.get(name).copied()
    }

    /// Every (file name, version), sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
        self.0.iter().map(|(name, version)| (*name, *version))
    }
}

struct Tables {
    legacy: HashMap<u16, LegacyProvince>,
    provinces: Vec<Province>,
    communes: Vec<Commune>,
    ethnic_groups: Vec<EthnicGroup>,
    religions: Vec<Religion>,
    countries: Vec<Country>,
    versions: ReferenceVersions,
    errors: Vec<ReferenceError>,
    /// The text of every list that replaced the embedded one (by [`Prepared::install`]), so
    /// that installing the same texts again is recognised and costs nothing.
    replaced: BTreeMap<List, &'static str>,
}

/// The embedded tables, parsed on first use.
fn embedded() -> &'static Tables {
    static EMBEDDED: OnceLock<Tables> = OnceLock::new();
    EMBEDDED.get_or_init(|| {
        let mut reader = Reader::default();
        let legacy = reader.read(&legacy::LEGACY_PROVINCES, LEGACY_PROVINCES_TSV);
        Tables {
            legacy: LegacyProvince::all(&legacy)
                .into_iter()
                .map(|p| (p.code(), p))
                .collect(),
            provinces: reader.read(&admin::PROVINCES, PROVINCES_TSV),
            communes: reader.read(&admin::COMMUNES, COMMUNES_TSV),
            ethnic_groups: reader.read(&lists::ETHNIC_GROUPS, ETHNIC_GROUPS_TSV),
            religions: reader.read(&lists::RELIGIONS, RELIGIONS_TSV),
            countries: reader.read(&lists::COUNTRIES, COUNTRIES_TSV),
            versions: ReferenceVersions(reader.versions),
            errors: reader.errors,
            replaced: BTreeMap::new(),
        }
    })
}

/// The tables every lookup answers from: the embedded ones until [`Prepared::install`] swaps
/// in others.
///
/// Why a leaked `&'static Tables` behind a lock, not an `Arc`: every lookup hands out
/// `&'static` rows (`province()`, `communes_of()`, the names inside them), and the record's
/// validation, the kit and the UI keep those freely. Installed tables are therefore never
/// freed (`Box::leak`, with the texts they borrow from). That is a few hundred kilobytes per
/// distinct update, which happen a few times a year; installing the same texts again leaks
/// nothing (see `replaced`). The lock is held only to copy the pointer.
fn tables() -> &'static Tables {
    match *current().read().unwrap_or_else(|p| p.into_inner()) {
        Some(installed) => installed,
        None => embedded(),
    }
}

fn current() -> &'static std::sync::RwLock<Option<&'static Tables>> {
    static CURRENT: std::sync::RwLock<Option<&'static Tables>> = std::sync::RwLock::new(None);
    &CURRENT
}

/// Gathers the versions and errors of every file while the tables are read.
#[derive(Default)]
pub(crate) struct Reader {
    versions: BTreeMap<&'static str, &'static str>,
    errors: Vec<ReferenceError>,
}

impl Reader {
    pub(crate) fn read<T, K: Ord + ToString>(
        &mut self,
        format: &Format<T, K>,
        text: &'static str,
    ) -> Vec<T> {
        let Parsed {
            version,
            rows,
            errors,
        } = parse(format, text);
        if let Some(version) = version {
            self.versions
                .insert(format.file.trim_end_matches(".tsv"), version);
        }
        self.errors.extend(errors);
        rows
    }
}

/// The current province with this code (`"044"` → Quảng Trị). Not for ID prefixes.
pub fn province(code: &str) -> Option<&'static Province> {
    let code = ProvinceCode::parse(code).ok()?;
    let provinces = &tables().provinces;
    let index = provinces.binary_search_by_key(&code, |p| p.code).ok()?;
    provinces.get(index)
}

/// All current provinces, by code.
pub fn provinces() -> &'static [Province] {
    &tables().provinces
}

/// The commune with this code (`"00070"` → Phường Hoàn Kiếm).
pub fn commune(code: &str) -> Option<&'static Commune> {
    let code = CommuneCode::parse(code).ok()?;
    let communes = &tables().communes;
    let index = communes.binary_search_by_key(&code, |c| c.code).ok()?;
    communes.get(index)
}

/// The communes of a current province, by code; none for an unknown province.
pub fn communes_of(province: &str) -> impl Iterator<Item = &'static Commune> {
    let code = ProvinceCode::parse(province).ok();
    tables()
        .communes
        .iter()
        .filter(move |c| Some(c.province) == code)
}

/// The ethnic group with this code (`"01"` → Kinh).
pub fn ethnic_group(code: &str) -> Option<&'static EthnicGroup> {
    let code = EthnicGroupCode::parse(code).ok()?;
    tables().ethnic_groups.iter().find(|e| e.code == code)
}

/// The religion with this code (`"00"` → Không, `"01"` → Phật giáo).
pub fn religion(code: &str) -> Option<&'static Religion> {
    let code = ReligionCode::parse(code).ok()?;
    tables().religions.iter().find(|r| r.code == code)
}

/// The country with this ISO 3166-1 code, alpha-3 (`"VNM"`), alpha-2 (`"VN"`) or numeric
/// (`"704"`); letters in either case, since MRZ and forms differ.
pub fn country(code: &str) -> Option<&'static Country> {
    let countries = &tables().countries;
    let bytes = code.as_bytes();
    if bytes.len() == 3 && bytes.iter().all(u8::is_ascii_digit) {
        let numeric: u16 = code.parse().ok()?;
        return countries.iter().find(|c| c.numeric == numeric);
    }
    let upper = code.to_ascii_uppercase();
    if bytes.len() == 2 {
        return countries.iter().find(|c| c.alpha2 == upper);
    }
    let alpha3 = CountryCode::parse(&upper).ok()?;
    countries.iter().find(|c| c.code == alpha3)
}

/// What the first three digits of an ID number mean: a legacy province (labelled with its legacy
/// name, even where the code now means another province) or a country code 101–295.
pub fn legacy_province(code: u16) -> Option<&'static LegacyProvince> {
    tables().legacy.get(&code)
}

/// The version of every reference file the lookups answer from: the embedded ones, or those of
/// the installed updates (what a sealed bundle names).
pub fn versions() -> &'static ReferenceVersions {
    &tables().versions
}

/// Checks the reference data the lookups answer from: every line parsed (codes unique, names non-empty and NFC,
/// headers present), every commune's province exists, and each province's commune count matches.
/// Returns the first problem.
pub fn check() -> Result<(), ReferenceError> {
    let tables = tables();
    if let Some(error) = tables.errors.first() {
        return Err(error.clone());
    }
    check_communes(&tables.provinces, &tables.communes)
}

fn check_communes(provinces: &[Province], communes: &[Commune]) -> Result<(), ReferenceError> {
    let mut listed: BTreeMap<ProvinceCode, usize> = BTreeMap::new();
    for commune in communes {
        if provinces.iter().all(|p| p.code != commune.province) {
            return Err(ReferenceError::UnknownProvince {
                commune: commune.code.to_string(),
                province: commune.province.to_string(),
            });
        }
        *listed.entry(commune.province).or_default() += 1;
    }
    for province in provinces {
        let listed = listed.get(&province.code).copied().unwrap_or(0);
        if listed != usize::from(province.commune_count) {
            return Err(ReferenceError::CommuneCount {
                province: province.code.to_string(),
                declared: province.commune_count,
                listed,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
