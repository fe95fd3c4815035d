//! The legacy (before 2025-07-01, 63-province) codes: the only valid labels for the first three
//! digits of a personal ID number, which never change.

use serde::Serialize;

use super::table::{text, Format, LineProblem};

/// Country codes in an ID prefix: the birth was registered abroad.
const ABROAD: std::ops::RangeInclusive<u16> = 101..=295;

/// Where a birth was registered, as the ID number's first three digits say.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum LegacyProvince {
    /// A province of the legacy 63-province list.
    Province {
        /// Three-digit code.
        code: u16,
        /// Its name at the time.
        name: &'static str,
    },
    /// Registered abroad: a country code 101–295.
    Abroad {
        /// Three-digit country code.
        code: u16,
    },
}

impl LegacyProvince {
    /// Classifies a three-digit prefix; `None` when it is neither a province nor a country code.
    pub fn from_code(code: u16) -> Option<LegacyProvince> {
        super::legacy_province(code).cloned()
    }

    /// Every prefix an ID number may start with: the legacy provinces, then the country codes.
    pub(crate) fn all(provinces: &[LegacyProvince]) -> Vec<LegacyProvince> {
        let abroad = ABROAD.map(|code| LegacyProvince::Abroad { code });
        provinces.iter().cloned().chain(abroad).collect()
    }

    /// The three-digit code.
    pub fn code(&self) -> u16 {
        match self {
            LegacyProvince::Province { code, .. } | LegacyProvince::Abroad { code } => *code,
        }
    }
}

/// The legacy province name for a three-digit prefix, if it is one.
pub fn legacy_province_name(code: u16) -> Option<&'static str> {
    match super::legacy_province(code)? {
        LegacyProvince::Province { name, .. } => Some(name),
        LegacyProvince::Abroad { .. } => None,
    }
}

pub(crate) const LEGACY_PROVINCES: Format<LegacyProvince, u16> = Format {
    file: "legacy-provinces.tsv",
    columns: &["code", "name"],
    row: |cells| {
        let raw = cells[0];
        let bad = || LineProblem::Malformed {
            column: "code",
            value: raw.to_owned(),
        };
        if raw.len() != 3 || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let code: u16 = raw.parse().map_err(|_| bad())?;
        // A province code in the country range would make an ID prefix ambiguous.
        if code == 0 || ABROAD.contains(&code) {
            return Err(bad());
        }
        Ok(LegacyProvince::Province {
            code,
            name: text("name", cells[1])?,
        })
    },
    key: LegacyProvince::code,
};
