//! The two tiers of administrative units since 2025-07-01: provinces and communes.

use serde::Serialize;

use super::codes::{CommuneCode, ProvinceCode};
use super::table::{text, Format, LineProblem};

/// Whether a province is a province or a centrally governed city.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ProvinceKind {
    /// Tỉnh.
    Tinh,
    /// Thành phố (trực thuộc trung ương).
    ThanhPho,
}

impl ProvinceKind {
    /// The Vietnamese word, as in the data file: `tỉnh`, `thành phố`.
    pub fn label(self) -> &'static str {
        match self {
            ProvinceKind::Tinh => "tỉnh",
            ProvinceKind::ThanhPho => "thành phố",
        }
    }

    fn from_label(label: &str) -> Option<ProvinceKind> {
        [ProvinceKind::Tinh, ProvinceKind::ThanhPho]
            .into_iter()
            .find(|k| k.label() == label)
    }
}

/// Whether a commune is a rural commune, a ward or a special zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum CommuneKind {
    /// Xã.
    Xa,
    /// Phường.
    Phuong,
    /// Đặc khu (islands).
    DacKhu,
}

impl CommuneKind {
    /// The Vietnamese word, as in the data file: `xã`, `phường`, `đặc khu`.
    pub fn label(self) -> &'static str {
        match self {
            CommuneKind::Xa => "xã",
            CommuneKind::Phuong => "phường",
            CommuneKind::DacKhu => "đặc khu",
        }
    }

    fn from_label(label: &str) -> Option<CommuneKind> {
        [CommuneKind::Xa, CommuneKind::Phuong, CommuneKind::DacKhu]
            .into_iter()
            .find(|k| k.label() == label)
    }
}

/// A province (or centrally governed city) since 2025-07-01.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Province {
    /// Its code; the same digits may mean another province as a legacy ID prefix.
    pub code: ProvinceCode,
    /// Its name without the kind, e.g. `Hồ Chí Minh`.
    pub name: &'static str,
    /// Tỉnh or thành phố.
    pub kind: ProvinceKind,
    /// How many communes it has, as published (checked against the commune list).
    pub commune_count: u16,
}

impl Province {
    /// The name with its kind, as written on documents: `Thành phố Hồ Chí Minh`, `Tỉnh Gia Lai`.
    pub fn full_name(&self) -> String {
        with_kind(self.kind.label(), self.name)
    }
}

/// A commune (xã, phường or đặc khu) since 2025-07-01.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Commune {
    /// Its code.
    pub code: CommuneCode,
    /// Its name without the kind, e.g. `Hoàn Kiếm`.
    pub name: &'static str,
    /// Xã, phường or đặc khu.
    pub kind: CommuneKind,
    /// The province it belongs to.
    pub province: ProvinceCode,
}

impl Commune {
    /// The name with its kind, as written on documents: `Phường Hoàn Kiếm`.
    pub fn full_name(&self) -> String {
        with_kind(self.kind.label(), self.name)
    }
}

fn with_kind(kind: &str, name: &str) -> String {
    let mut chars = kind.chars();
    let capital: String = chars
        .next()
        .into_iter()
        .flat_map(char::to_uppercase)
        .collect();
    format!("{capital}{} {name}", chars.as_str())
}

pub(crate) const PROVINCES: Format<Province, ProvinceCode> = Format {
    file: "provinces.tsv",
    columns: &["code", "name", "kind", "communes"],
    row: |cells| {
        let kind = cells[2];
        let count = cells[3];
        Ok(Province {
            code: ProvinceCode::parse(cells[0])?,
            name: text("name", cells[1])?,
            kind: ProvinceKind::from_label(kind).ok_or_else(|| LineProblem::Kind {
                column: "kind",
                value: kind.to_owned(),
            })?,
            commune_count: count.parse().map_err(|_| LineProblem::Number {
                column: "communes",
                value: count.to_owned(),
            })?,
        })
    },
    key: |p| p.code,
};

pub(crate) const COMMUNES: Format<Commune, CommuneCode> = Format {
    file: "communes.tsv",
    columns: &["code", "name", "kind", "province"],
    row: |cells| {
        let kind = cells[2];
        Ok(Commune {
            code: CommuneCode::parse(cells[0])?,
            name: text("name", cells[1])?,
            kind: CommuneKind::from_label(kind).ok_or_else(|| LineProblem::Kind {
                column: "kind",
                value: kind.to_owned(),
            })?,
            province: ProvinceCode::parse(cells[3])?,
        })
    },
    key: |c| c.code,
};
