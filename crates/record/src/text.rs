//! Vietnamese text: one normal form to store, one key to compare, one order to sort.
//!
//! Three different questions, three functions:
//! - [`normalize`]: what to store (what was typed, in NFC, tidied).
//! - [`search_key`]: whether two spellings are the same name ("Nguyễn" ≈ "NGUYEN", "hoà" ≈ "hòa").
//! - [`vietnamese_cmp`]: in which order to list names (a‹ă‹â, d‹đ, e‹ê, o‹ô‹ơ, u‹ư; tones secondary).

use std::cmp::Ordering;
use std::sync::OnceLock;

use icu_collator::options::CollatorOptions;
use icu_collator::{Collator, CollatorBorrowed};
use icu_locale_core::locale;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// NFC, one kind of apostrophe and hyphen, single spaces, no leading or trailing space.
///
/// Unikey's "Unicode tổ hợp" and macOS produce NFD; phones and word processors produce curly
/// apostrophes in names like H'Hen: all of it is stored one way so that equal text is equal bytes.
pub fn normalize(raw: &str) -> String {
    let mapped: String = raw
        .nfc()
        .map(|c| match c {
            '\u{2019}' | '\u{2018}' | '\u{02BC}' | '`' | '\u{00B4}' => '\'',
            '\u{2010}' | '\u{2011}' | '\u{2013}' => '-',
            c => c,
        })
        .collect();
    mapped.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The key two spellings of one name share: NFD, marks dropped, đ→d, lowercase.
///
/// NFC does not unify tone placement (hoà / hòa, thuý / thúy) and people type without
/// diacritics, so names are compared on this key while the typed form is kept.
pub fn search_key(raw: &str) -> String {
    // Lowercase (full case folding for every letter Vietnamese uses) goes first: lowercasing
    // can itself add a mark (İ → i + U+0307), which the NFD pass then drops.
    let bare: String = normalize(raw)
        .to_lowercase()
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        // đ is a letter of its own, not d plus a mark: NFD leaves it whole.
        .map(|c| if c == 'đ' { 'd' } else { c })
        .collect();
    // A mark standing alone after a space ("a \u{0ACB}") leaves that space at the end once
    // dropped: spaces are tidied again so that the key of a key is the key.
    bare.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn collator() -> Option<&'static CollatorBorrowed<'static>> {
    static COLLATOR: OnceLock<Option<CollatorBorrowed<'static>>> = OnceLock::new();
    COLLATOR
        .get_or_init(|| Collator::try_new(locale!("vi").into(), CollatorOptions::default()).ok())
        .as_ref()
}

/// Vietnamese alphabetical order (CLDR "vi" collation): base letters first, tones and case after.
pub fn vietnamese_cmp(a: &str, b: &str) -> Ordering {
    match collator() {
        Some(c) => c.compare(a, b),
        // The data is compiled in, so this never happens; still, never panic while sorting.
        None => search_key(a).cmp(&search_key(b)).then_with(|| a.cmp(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_normalize(raw: &str, expected: &str) {
        assert_eq!(normalize(raw), expected, "{raw:?}");
    }

    #[test]
    fn normalizes() {
        check_normalize("Nguyễn Văn An", "Nguyễn Văn An");
        check_normalize("Nguye\u{302}\u{303}n Va\u{306}n An", "Nguyễn Văn An");
        check_normalize("  Y \t Bhin\n Niê ", "Y Bhin Niê");
        check_normalize("H\u{2019}Hen", "H'Hen");
        check_normalize(
            "H\u{2018}Hen H\u{02BC}Hen H`Hen H\u{B4}Hen",
            "H'Hen H'Hen H'Hen H'Hen",
        );
        check_normalize("Thu\u{2013}Hà", "Thu-Hà");
        check_normalize("", "");
        check_normalize(" \u{3000} ", "");
    }

    fn check_key(raw: &str, expected: &str) {
        assert_eq!(search_key(raw), expected, "{raw:?}");
    }

    #[test]
    fn search_keys() {
        check_key("Nguyễn", "nguyen");
        check_key("NGUYEN", "nguyen");
        check_key("Nguye\u{302}\u{303}n", "nguyen");
        check_key("Đặng Đức", "dang duc");
        check_key("đ", "d");
        check_key("hoà", "hoa");
        check_key("hòa", "hoa");
        check_key("thuý", "thuy");
        check_key("Thúy", "thuy");
        check_key("Trương  Thị   Ưng", "truong thi ung");
        check_key("H\u{2019}Hen Niê", "h'hen nie");
        check_key("Ơ Đu", "o du");
        check_key("", "");
        // Lowercasing İ adds a combining dot: it is dropped like any mark.
        check_key("İstanbul", "istanbul");
        // A lone mark after a space: found by proptest in CI.
        check_key("a \u{0ACB}", "a");
        check_key("a \u{0301} b", "a b");
    }

    #[test]
    fn tone_placement_gives_one_key() {
        assert_eq!(search_key("hoà"), search_key("hòa"));
        assert_eq!(search_key("Thuỷ"), search_key("thủy"));
    }

    proptest::proptest! {
        #[test]
        fn search_key_never_panics_and_is_stable(s in proptest::prelude::any::<String>()) {
            let key = search_key(&s);
            proptest::prop_assert_eq!(search_key(&key), key.clone());
            // Some letters (𝔇) are uppercase yet have no lowercase: "lowercase" means lowercasing is a no-op.
            proptest::prop_assert_eq!(key.to_lowercase(), key.clone());
            proptest::prop_assert!(!key.chars().any(|c| is_combining_mark(c) || c == 'đ'));
        }

        #[test]
        fn normalize_is_idempotent(s in proptest::prelude::any::<String>()) {
            let once = normalize(&s);
            proptest::prop_assert_eq!(normalize(&once), once);
        }
    }

    fn check_sorted(mut words: Vec<&str>, expected: &[&str]) {
        words.sort_by(|a, b| vietnamese_cmp(a, b));
        assert_eq!(words, expected);
    }

    #[test]
    fn vietnamese_order() {
        // The modified letters follow their base letter, not the whole alphabet.
        check_sorted(vec!["ân", "ăn", "an", "bo"], &["an", "ăn", "ân", "bo"]);
        check_sorted(vec!["đa", "e", "da"], &["da", "đa", "e"]);
        check_sorted(vec!["êm", "em", "ga"], &["em", "êm", "ga"]);
        check_sorted(vec!["ơn", "ôn", "on", "pa"], &["on", "ôn", "ơn", "pa"]);
        check_sorted(vec!["ưa", "ua", "va"], &["ua", "ưa", "va"]);
        // Tones are secondary: the base letters decide first, the tone only breaks ties.
        check_sorted(
            vec!["Bảo", "Bao", "Bạc", "Bác"],
            &["Bác", "Bạc", "Bao", "Bảo"],
        );
        check_sorted(
            vec!["Đặng", "Dương", "Nguyễn", "Ngô", "Lê", "Âu", "Ánh"],
            &["Ánh", "Âu", "Dương", "Đặng", "Lê", "Ngô", "Nguyễn"],
        );
    }

    #[test]
    fn equal_text_is_equal() {
        assert_eq!(vietnamese_cmp("Nguyễn", "Nguyễn"), Ordering::Equal);
        assert_eq!(
            vietnamese_cmp("Nguye\u{302}\u{303}n", "Nguyễn"),
            Ordering::Equal
        );
        assert_eq!(vietnamese_cmp("ă", "â"), Ordering::Less);
        assert_eq!(vietnamese_cmp("d", "đ"), Ordering::Less);
    }
}
