use std::fmt;

use crate::{Field, FieldError, Rule};

/// Longest birth name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// A birth name (họ, chữ đệm và tên) as one field, NFC-normalised.
///
/// Never split: names like "Y Bhin Niê" or "H'Hen Niê" do not have a Kinh word order.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct BirthName(String);

impl BirthName {
    /// Normalises (NFC, one kind of apostrophe, single spaces) and checks the name.
    pub fn parse(raw: &str) -> Result<BirthName, FieldError> {
        let name = crate::text::normalize(raw);
        if name.is_empty() {
            return Err(FieldError::new(Field::BirthName, Rule::Required));
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(FieldError::new(
                Field::BirthName,
                Rule::TooLong {
                    max: MAX_NAME_CHARS,
                },
            ));
        }
        if !name
            .chars()
            .all(|c| c.is_alphabetic() || c == ' ' || c == '\'' || c == '-')
        {
            return Err(FieldError::new(Field::BirthName, Rule::NameCharacters));
        }
        Ok(BirthName(name))
    }

    /// The normalised name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for BirthName {
    // Names are personal data: never whole in logs or panic messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BirthName({} chars)", self.0.chars().count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, expected: Result<&str, Rule>) {
        let got = BirthName::parse(raw);
        let got = got.as_ref().map(|n| n.as_str()).map_err(|e| e.rule.clone());
        assert_eq!(got, expected, "{raw:?}");
    }

    #[test]
    fn names() {
        check("Nguyễn Văn An", Ok("Nguyễn Văn An"));
        // NFD input (Unikey "Unicode tổ hợp", macOS) comes out NFC.
        check("Nguye\u{302}\u{303}n Va\u{306}n An", Ok("Nguyễn Văn An"));
        check("  Y   Bhin  Niê ", Ok("Y Bhin Niê"));
        check("H\u{2019}Hen Niê", Ok("H'Hen Niê"));
        check("Lê Thị Thu-Hà", Ok("Lê Thị Thu-Hà"));
        check("", Err(Rule::Required));
        check(" \t ", Err(Rule::Required));
        check("Nguyễn Văn 2", Err(Rule::NameCharacters));
        check("<script>", Err(Rule::NameCharacters));
        check(&"a".repeat(101), Err(Rule::TooLong { max: 100 }));
        check(&"ễ".repeat(100), Ok(&"ễ".repeat(100)));
    }
}
