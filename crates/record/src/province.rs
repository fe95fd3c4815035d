use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The legacy (pre-2025, 63-province) code table, the only valid labels for an ID prefix.
/// Current province codes were reused for other provinces in 2025: never label an ID with them.
const LEGACY_PROVINCES_TSV: &str = include_str!("../data/legacy-provinces.tsv");

/// Where a birth was registered, as the ID number's first three digits say.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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

fn table() -> &'static BTreeMap<u16, &'static str> {
    static TABLE: OnceLock<BTreeMap<u16, &'static str>> = OnceLock::new();
    TABLE.get_or_init(|| {
        LEGACY_PROVINCES_TSV
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| {
                let (code, name) = l.split_once('\t')?;
                Some((code.parse().ok()?, name.trim()))
            })
            .collect()
    })
}

/// The legacy province name for a three-digit prefix, if it is one.
pub fn legacy_province_name(code: u16) -> Option<&'static str> {
    table().get(&code).copied()
}

impl LegacyProvince {
    /// Classifies a three-digit prefix; `None` when it is neither a province nor a country code.
    pub fn from_code(code: u16) -> Option<LegacyProvince> {
        if let Some(name) = legacy_province_name(code) {
            return Some(LegacyProvince::Province { code, name });
        }
        (101..=295)
            .contains(&code)
            .then_some(LegacyProvince::Abroad { code })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_the_63_legacy_provinces() {
        assert_eq!(table().len(), 63);
        assert_eq!(legacy_province_name(1), Some("Hà Nội"));
        assert_eq!(legacy_province_name(44), Some("Quảng Bình"));
        assert_eq!(legacy_province_name(79), Some("TP Hồ Chí Minh"));
        assert_eq!(legacy_province_name(3), None);
    }

    #[test]
    fn country_codes_are_abroad() {
        assert_eq!(
            LegacyProvince::from_code(101),
            Some(LegacyProvince::Abroad { code: 101 })
        );
        assert_eq!(LegacyProvince::from_code(296), None);
        assert_eq!(LegacyProvince::from_code(0), None);
    }
}
