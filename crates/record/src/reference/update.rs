//! Newer releases of the reference lists, published and signed by the registry
//! (`schema/bundle.md` § Reference updates): which lists may change, how versions compare, and
//! how replaced tables are checked and installed.
//!
//! Checking and installing are two steps ([`prepare`], then [`Prepared::install`]) so that a
//! caller can keep the update durably (the kit's vault) between them: what is kept is always
//! a set that was checked, and the lookups switch only once it is kept.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::table::ReferenceError;
use super::{
    admin, check_communes, current, legacy, lists, tables, LegacyProvince, Reader,
    ReferenceVersions, Tables,
};

/// The largest list text an update may carry, in bytes (`communes.tsv` is about 91 KB).
pub const MAX_LIST_BYTES: usize = 1024 * 1024;

/// A reference list the registry may publish a newer release of. The legacy ID prefixes are
/// not one: they are fixed forever (a prefix means the province it meant at issue).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum List {
    /// `provinces.tsv`.
    Provinces,
    /// `communes.tsv`.
    Communes,
    /// `ethnic-groups.tsv`.
    EthnicGroups,
    /// `religions.tsv`.
    Religions,
    /// `countries.tsv`.
    Countries,
}

impl List {
    /// Every list an update may replace.
    pub const ALL: [List; 5] = [
        List::Provinces,
        List::Communes,
        List::EthnicGroups,
        List::Religions,
        List::Countries,
    ];

    /// Its name on the wire and in [`super::versions`]: the file name without `.tsv`.
    pub fn name(self) -> &'static str {
        match self {
            List::Provinces => "provinces",
            List::Communes => "communes",
            List::EthnicGroups => "ethnic-groups",
            List::Religions => "religions",
            List::Countries => "countries",
        }
    }

    /// The list with this name (`communes`), if it is one an update may replace.
    pub fn parse(name: &str) -> Option<List> {
        List::ALL.into_iter().find(|l| l.name() == name)
    }

    fn file(self) -> &'static str {
        match self {
            List::Provinces => admin::PROVINCES.file,
            List::Communes => admin::COMMUNES.file,
            List::EthnicGroups => lists::ETHNIC_GROUPS.file,
            List::Religions => lists::RELIGIONS.file,
            List::Countries => lists::COUNTRIES.file,
        }
    }

    fn embedded_text(self) -> &'static str {
        match self {
            List::Provinces => super::PROVINCES_TSV,
            List::Communes => super::COMMUNES_TSV,
            List::EthnicGroups => super::ETHNIC_GROUPS_TSV,
            List::Religions => super::RELIGIONS_TSV,
            List::Countries => super::COUNTRIES_TSV,
        }
    }
}

impl std::fmt::Display for List {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One list's new text and the version it was published as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListUpdate {
    /// Which list it replaces.
    pub list: List,
    /// The version it was published (and signed) as; must equal the text's `# version:`.
    pub version: String,
    /// The whole file, in the format of `schema/reference/*.tsv`.
    pub tsv: String,
}

/// Whether version `new` is newer than `old`, in the order every publisher of reference data
/// keeps (`docs/reference-updates.md`): both are cut into runs of digits and runs of other
/// characters; runs of digits compare as numbers, other runs bytewise, the first difference
/// decides, and a version that is a prefix of the other is older. So `ghidanh-ref-2` is newer
/// than `ghidanh-ref-1`, `ghidanh-ref-10` newer than `ghidanh-ref-9`, and
/// `vietnam-provinces-2025.10.2` newer than `vietnam-provinces-2025.10.1`. Equal versions are
/// not newer.
pub fn is_newer(new: &str, old: &str) -> bool {
    compare_versions(new, old) == Ordering::Greater
}

fn compare_versions(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (runs(a), runs(b));
    loop {
        match (a.next(), b.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let order = match (is_digits(x), is_digits(y)) {
                    (true, true) => {
                        let (x, y) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
                        x.len().cmp(&y.len()).then_with(|| x.cmp(y))
                    }
                    _ => x.cmp(y),
                };
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

fn is_digits(run: &str) -> bool {
    run.bytes().next().is_some_and(|b| b.is_ascii_digit())
}

/// Maximal runs of ASCII digits and of everything else.
fn runs(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let first = rest.bytes().next()?;
        let digits = first.is_ascii_digit();
        let end = rest
            .bytes()
            .position(|b| b.is_ascii_digit() != digits)
            .unwrap_or(rest.len());
        let (run, tail) = rest.split_at(end);
        rest = tail;
        Some(run)
    })
}

/// Tables with some lists replaced, checked as [`super::check`] checks the embedded ones, and
/// not yet answering any lookup.
pub struct Prepared {
    /// `None`: the texts are already installed, nothing changes.
    tables: Option<Tables>,
}

impl Prepared {
    /// The versions lookups will answer from once installed.
    pub fn versions(&self) -> &ReferenceVersions {
        match &self.tables {
            Some(t) => &t.versions,
            None => super::versions(),
        }
    }

    /// Whether installing would change anything.
    pub fn changes_anything(&self) -> bool {
        self.tables.is_some()
    }

    /// Makes these tables the ones every lookup answers from, and returns their versions.
    /// Installs are meant to come from one place at a time (the kit's sync worker, its
    /// unlock); of two racing, the last one wins.
    pub fn install(self) -> &'static ReferenceVersions {
        let Some(tables) = self.tables else {
            return super::versions();
        };
        let tables: &'static Tables = Box::leak(Box::new(tables));
        *current().write().unwrap_or_else(|p| p.into_inner()) = Some(tables);
        &tables.versions
    }
}

/// Builds the tables the lookups answer from with `updates` replacing their lists, and checks
/// them whole: every line of every list parses, each update's `# version:` is the version it
/// was published as, every commune's province exists and each province's commune count
/// matches (so provinces and communes that change together come in one call).
/// Lists not in `updates` keep what is installed now.
///
/// Nothing changes until [`Prepared::install`]. The tables keep `&'static` text, so a text
/// that is not already installed is leaked here even when it is refused; a caller that is
/// handed the same refused update again should not ask again (the registry's publish command
/// and its server, the kit's worker at most hourly).
pub fn prepare(updates: &[ListUpdate]) -> Result<Prepared, ReferenceError> {
    let base = tables();
    let mut replaced = base.replaced.clone();
    let mut changed = false;
    for (i, update) in updates.iter().enumerate() {
        let file = update.list.file();
        if updates[..i].iter().any(|u| u.list == update.list) {
            return Err(ReferenceError::ListTwice { file });
        }
        if update.tsv.len() > MAX_LIST_BYTES {
            return Err(ReferenceError::TooLarge {
                file,
                len: update.tsv.len(),
                max: MAX_LIST_BYTES,
            });
        }
        if replaced.get(&update.list).copied() != Some(update.tsv.as_str()) {
            let text: &'static str = Box::leak(update.tsv.clone().into_boxed_str());
            replaced.insert(update.list, text);
            changed = true;
        }
    }
    let tables = build(replaced);
    if let Some(error) = tables.errors.first() {
        return Err(error.clone());
    }
    for update in updates {
        let found = tables.versions.get(update.list.name()).unwrap_or_default();
        if found != update.version {
            return Err(ReferenceError::VersionMismatch {
                file: update.list.file(),
                header: found.to_owned(),
                published: update.version.clone(),
            });
        }
    }
    check_communes(&tables.provinces, &tables.communes)?;
    Ok(Prepared {
        tables: changed.then_some(tables),
    })
}

/// The embedded tables with the lists of `replaced` read from their texts instead.
fn build(replaced: BTreeMap<List, &'static str>) -> Tables {
    let text = |list: List| replaced.get(&list).copied().unwrap_or(list.embedded_text());
    let mut reader = Reader::default();
    // The legacy prefixes never change: read from the embedded text, as at start.
    let legacy = reader.read(&legacy::LEGACY_PROVINCES, super::LEGACY_PROVINCES_TSV);
    let provinces = reader.read(&admin::PROVINCES, text(List::Provinces));
    let communes = reader.read(&admin::COMMUNES, text(List::Communes));
    let ethnic_groups = reader.read(&lists::ETHNIC_GROUPS, text(List::EthnicGroups));
    let religions = reader.read(&lists::RELIGIONS, text(List::Religions));
    let countries = reader.read(&lists::COUNTRIES, text(List::Countries));
    Tables {
        legacy: LegacyProvince::all(&legacy)
            .into_iter()
            .map(|p| (p.code(), p))
            .collect(),
        provinces,
        communes,
        ethnic_groups,
        religions,
        countries,
        versions: ReferenceVersions(reader.versions),
        errors: reader.errors,
        replaced,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_by_their_numbers() {
        for (new, old) in [
            ("ghidanh-ref-2", "ghidanh-ref-1"),
            ("ghidanh-ref-10", "ghidanh-ref-9"),
            ("vietnam-provinces-2025.10.2", "vietnam-provinces-2025.10.1"),
            ("vietnam-provinces-2025.11.0", "vietnam-provinces-2025.10.9"),
            ("vietnam-provinces-2026.1.0", "vietnam-provinces-2025.10.1"),
            ("pycountry-26.2.16.1", "pycountry-26.2.16"),
            ("2025-07", "2025-06"),
        ] {
            assert!(is_newer(new, old), "{new} > {old}");
            assert!(!is_newer(old, new), "{old} < {new}");
        }
        for same in ["ghidanh-ref-1", "", "2025.10.1"] {
            assert!(!is_newer(same, same));
        }
        // Leading zeros do not make a number bigger.
        assert!(!is_newer("ghidanh-ref-01", "ghidanh-ref-1"));
        assert!(is_newer("ghidanh-ref-02", "ghidanh-ref-1"));
    }

    #[test]
    fn list_names_are_the_version_keys() {
        let versions = super::super::versions();
        for list in List::ALL {
            assert_eq!(List::parse(list.name()), Some(list));
            assert!(versions.get(list.name()).is_some(), "{list}");
        }
        assert_eq!(List::parse("legacy-provinces"), None);
        assert_eq!(List::parse("Communes"), None);
    }
}
