//! Flat code lists: ethnic groups, religions, countries.

use serde::Serialize;

use super::codes::{CountryCode, EthnicGroupCode, ReligionCode};
use super::table::{optional_text, text, Format, LineProblem};

/// An ethnic group (dân tộc).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EthnicGroup {
    /// Its code.
    pub code: EthnicGroupCode,
    /// Its name, e.g. `Kinh`.
    pub name: &'static str,
}

/// A religion (tôn giáo), or none (`00 Không`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Religion {
    /// Its code.
    pub code: ReligionCode,
    /// Its name, e.g. `Phật giáo`.
    pub name: &'static str,
}

/// A country or territory of ISO 3166-1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Country {
    /// Its alpha-3 code, the one Ghi Danh stores (also the MRZ's).
    pub code: CountryCode,
    /// Its alpha-2 code, e.g. `VN`.
    pub alpha2: &'static str,
    /// Its numeric code, e.g. 704.
    pub numeric: u16,
    /// Its English short name, e.g. `Viet Nam`.
    pub name: &'static str,
    /// Its Vietnamese name where one is known, e.g. `Việt Nam`.
    pub name_vi: Option<&'static str>,
}

pub(crate) const ETHNIC_GROUPS: Format<EthnicGroup, EthnicGroupCode> = Format {
    file: "ethnic-groups.tsv",
    columns: &["code", "name"],
    row: |cells| {
        Ok(EthnicGroup {
            code: EthnicGroupCode::parse(cells[0])?,
            name: text("name", cells[1])?,
        })
    },
    key: |e| e.code,
};

pub(crate) const RELIGIONS: Format<Religion, ReligionCode> = Format {
    file: "religions.tsv",
    columns: &["code", "name"],
    row: |cells| {
        Ok(Religion {
            code: ReligionCode::parse(cells[0])?,
            name: text("name", cells[1])?,
        })
    },
    key: |r| r.code,
};

pub(crate) const COUNTRIES: Format<Country, CountryCode> = Format {
    file: "countries.tsv",
    columns: &["alpha3", "alpha2", "numeric", "name", "name_vi"],
    row: |cells| {
        let (alpha2, numeric) = (cells[1], cells[2]);
        if alpha2.len() != 2 || !alpha2.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(LineProblem::Malformed {
                column: "alpha2",
                value: alpha2.to_owned(),
            });
        }
        let bad_numeric = || LineProblem::Number {
            column: "numeric",
            value: numeric.to_owned(),
        };
        if numeric.len() != 3 || !numeric.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad_numeric());
        }
        Ok(Country {
            code: CountryCode::parse(cells[0])?,
            alpha2,
            numeric: numeric.parse().map_err(|_| bad_numeric())?,
            name: text("name", cells[3])?,
            name_vi: optional_text("name_vi", cells[4])?,
        })
    },
    key: |c| c.code,
};
