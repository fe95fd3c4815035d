//! The typed fields of a [`crate::ValidRecord`] beyond the four of the card face: each parses
//! what was typed and can only hold a value that obeys its rule.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{AddressPart, CodeList};
use crate::reference::{
    self, CommuneCode, CountryCode, EthnicGroupCode, ProvinceCode, ReligionCode,
};
use crate::{BirthName, Field, FieldError, Rule};

/// Longest free text accepted (places, streets, occupation), in characters.
pub const MAX_TEXT_CHARS: usize = 200;
/// Longest short free text accepted (relationships), in characters.
pub const MAX_SHORT_TEXT_CHARS: usize = 50;
/// Longest e-mail address (RFC 5321's path limit less the angle brackets).
pub const MAX_EMAIL_CHARS: usize = 254;

/// `None` for empty input: every optional field treats "" as not given.
pub(crate) fn given(raw: &str) -> Option<&str> {
    let t = raw.trim();
    (!t.is_empty()).then_some(t)
}

/// Free text: NFC, tidied, without control characters, at most `max` characters.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Text(String);

impl Text {
    /// Normalises and checks `raw` for `field`; empty is [`Rule::Required`].
    pub fn parse(raw: &str, field: Field, max: usize) -> Result<Text, FieldError> {
        let text = crate::text::normalize(raw);
        if text.is_empty() {
            return Err(FieldError::new(field, Rule::Required));
        }
        if text.chars().count() > max {
            return Err(FieldError::new(field, Rule::TooLong { max }));
        }
        if text.chars().any(char::is_control) {
            return Err(FieldError::new(field, Rule::ControlCharacters));
        }
        Ok(Text(text))
    }

    /// The normalised text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Text {
    // Free text is personal data: its length only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Text({} chars)", self.0.chars().count())
    }
}

/// A person's name with the birth-name rules (one field, letters, apostrophes, hyphens, ≤ 100).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PersonName(BirthName);

impl PersonName {
    /// Checks `raw` with the birth-name rules, reported on `field`.
    pub fn parse(raw: &str, field: Field) -> Result<PersonName, FieldError> {
        BirthName::parse(raw)
            .map(PersonName)
            .map_err(|e| e.on(field))
    }

    /// The normalised name.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// An old identity card (CMND) number: exactly 9 digits.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Cmnd(String);

impl Cmnd {
    /// Parses 9 digits; spaces are ignored, as people type numbers in groups.
    pub fn parse(raw: &str, field: Field) -> Result<Cmnd, FieldError> {
        let digits: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.len() != 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new(field, Rule::NotNineDigits));
        }
        Ok(Cmnd(digits))
    }

    /// The nine digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Cmnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cmnd(*********)")
    }
}

/// A previous card's number: a 9-digit CMND or a 12-digit card (12-digit CMND or CCCD).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CardNumber(String);

impl CardNumber {
    /// Parses 9 or 12 digits; spaces are ignored.
    pub fn parse(raw: &str, field: Field) -> Result<CardNumber, FieldError> {
        let digits: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        if !matches!(digits.len(), 9 | 12) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new(field, Rule::InvalidCardNumber));
        }
        Ok(CardNumber(digits))
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CardNumber({} digits)", self.0.len())
    }
}

/// A Vietnamese phone number, stored as `+84` and its 9 (mobile) or 10 (landline) digits.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    /// Accepts `0…`, `84…` after `+`, with spaces, dots, hyphens and parentheses between digits.
    ///
    /// The national number is 9 digits starting 3, 5, 7, 8 or 9 (mobile) or 10 digits starting
    /// 2 (landline, area code 2xx), per the 2018 numbering plan.
    pub fn parse(raw: &str) -> Result<Phone, FieldError> {
        let invalid = || FieldError::new(Field::Phone, Rule::InvalidPhone);
        let compact: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')'))
            .collect();
        let national = if let Some(rest) = compact.strip_prefix("+84") {
            rest.strip_prefix('0').unwrap_or(rest)
        } else if let Some(rest) = compact.strip_prefix('0') {
            rest
        } else {
            return Err(invalid());
        };
        if !national.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let ok = match national.as_bytes().first() {
            Some(b'3' | b'5' | b'7' | b'8' | b'9') => national.len() == 9,
            Some(b'2') => national.len() == 10,
            _ => false,
        };
        if !ok {
            return Err(invalid());
        }
        Ok(Phone(format!("+84{national}")))
    }

    /// `+84` followed by the national number.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Phone(+84…)")
    }
}

/// An e-mail address, checked pragmatically: what a person can type and a mail server accepts.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// One `@`; a non-empty local part of at most 64 characters; a domain of dot-separated,
    /// non-empty labels with at least one dot; no spaces or control characters; ≤ 254 characters.
    /// The domain is lowercased (domains are case-insensitive, local parts need not be).
    pub fn parse(raw: &str) -> Result<Email, FieldError> {
        let raw = raw.trim();
        if raw.chars().count() > MAX_EMAIL_CHARS {
            return Err(FieldError::new(
                Field::Email,
                Rule::TooLong {
                    max: MAX_EMAIL_CHARS,
                },
            ));
        }
        let invalid = || FieldError::new(Field::Email, Rule::InvalidEmail);
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = raw.split_once('@').ok_or_else(invalid)?;
        let labels_ok = domain.split('.').all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
        if local.is_empty()
            || local.chars().count() > 64
            || local.contains(['"', '<', '>', '(', ')', ',', ';', ':', '\\', '[', ']'])
            || domain.contains('@')
            || !domain.contains('.')
            || !labels_ok
        {
            return Err(invalid());
        }
        Ok(Email(format!("{local}@{}", domain.to_lowercase())))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Email(…)")
    }
}

/// ABO blood group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AboGroup {
    /// A.
    A,
    /// B.
    B,
    /// AB.
    Ab,
    /// O.
    O,
}

/// Rhesus factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rh {
    /// Rh+.
    Positive,
    /// Rh−.
    Negative,
}

/// Nhóm máu: a group with or without its Rh factor, or stated as unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BloodType {
    /// The group, and the Rh factor when known.
    Known(AboGroup, Option<Rh>),
    /// The person does not know it ("unknown" on the wire).
    Unknown,
}

impl BloodType {
    /// Parses `A`, `B`, `AB`, `O`, each optionally followed by `+` or `-` (or `−`), or `unknown`.
    pub fn parse(raw: &str) -> Result<BloodType, FieldError> {
        let raw = raw.trim();
        if raw.eq_ignore_ascii_case("unknown") {
            return Ok(BloodType::Unknown);
        }
        let (group, rh) = if let Some(g) = raw.strip_suffix('+') {
            (g, Some(Rh::Positive))
        } else if let Some(g) = raw.strip_suffix('-').or_else(|| raw.strip_suffix('−')) {
            (g, Some(Rh::Negative))
        } else {
            (raw, None)
        };
        let group = match group.to_ascii_uppercase().as_str() {
            "A" => AboGroup::A,
            "B" => AboGroup::B,
            "AB" => AboGroup::Ab,
            "O" => AboGroup::O,
            _ => return Err(FieldError::new(Field::BloodType, Rule::InvalidBloodType)),
        };
        Ok(BloodType::Known(group, rh))
    }

    /// The wire value: `AB+`, `O-`, `A`, `unknown`.
    pub fn code(self) -> String {
        match self {
            BloodType::Unknown => "unknown".to_owned(),
            BloodType::Known(group, rh) => {
                let group = match group {
                    AboGroup::A => "A",
                    AboGroup::B => "B",
                    AboGroup::Ab => "AB",
                    AboGroup::O => "O",
                };
                let rh = match rh {
                    Some(Rh::Positive) => "+",
                    Some(Rh::Negative) => "-",
                    None => "",
                };
                format!("{group}{rh}")
            }
        }
    }
}

/// Generates a closed set with its wire codes, parse and code.
macro_rules! closed_set {
    ($(#[$doc:meta])* $name:ident, $rule:expr, $field:expr, { $($(#[$vdoc:meta])* $variant:ident = $code:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $code)] $variant,)+
        }

        impl $name {
            /// Every value, in form order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Parses the wire code.
            pub fn parse(raw: &str, field: Field) -> Result<$name, FieldError> {
                match raw.trim() {
                    $($code => Ok($name::$variant),)+
                    _ => Err(FieldError::new(field, $rule)),
                }
            }

            /// The wire code.
            pub fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code,)+
                }
            }
        }
    };
}

closed_set!(
    /// Tình trạng hôn nhân, as the population database records it.
    MaritalStatus, Rule::InvalidMaritalStatus, Field::MaritalStatus, {
        /// Chưa kết hôn.
        Single = "single",
        /// Đã kết hôn.
        Married = "married",
        /// Ly hôn.
        Divorced = "divorced",
        /// Góa.
        Widowed = "widowed",
    }
);

closed_set!(
    /// Why a representative acts for the person (Civil Code 2015, Art. 136).
    RepresentationReason, Rule::InvalidRepresentationReason, Field::Representative(crate::error::RepresentativePart::Reason), {
        /// Under 14: the parents or guardian act (the law on identification).
        Minor = "minor",
        /// Mất năng lực hành vi dân sự.
        LacksLegalCapacity = "lacksLegalCapacity",
        /// Khó khăn trong nhận thức, làm chủ hành vi.
        CognitiveDifficulty = "cognitiveDifficulty",
        /// Hạn chế năng lực hành vi dân sự.
        RestrictedCapacity = "restrictedCapacity",
    }
);

closed_set!(
    /// Who gave consent to the processing of the person's data.
    ConsentGiver, Rule::InvalidConsentGiver, Field::Consent(crate::error::ConsentPart::GivenBy), {
        /// The person enrolled.
        Subject = "subject",
        /// Their representative.
        Representative = "representative",
    }
);

/// An ethnic group code that is in the reference list.
pub(crate) fn ethnicity(raw: &str) -> Result<EthnicGroupCode, FieldError> {
    reference::ethnic_group(raw)
        .map(|e| e.code)
        .ok_or_else(|| unknown(Field::Ethnicity, CodeList::Ethnicity, raw))
}

/// A religion code that is in the reference list (`00` is none).
pub(crate) fn religion(raw: &str) -> Result<ReligionCode, FieldError> {
    reference::religion(raw)
        .map(|r| r.code)
        .ok_or_else(|| unknown(Field::Religion, CodeList::Religion, raw))
}

/// An ISO 3166-1 alpha-3 country code that is in the reference list.
///
/// Only alpha-3 in capitals is accepted on the form, though the reference also knows alpha-2 and
/// numeric codes: the record stores one spelling so that equal records are equal bytes.
pub(crate) fn country(raw: &str, field: Field) -> Result<CountryCode, FieldError> {
    CountryCode::parse(raw)
        .ok()
        .and_then(|c| reference::country(raw).filter(|found| found.code == c))
        .map(|c| c.code)
        .ok_or_else(|| unknown(field, CodeList::Country, raw))
}

fn unknown(field: Field, list: CodeList, raw: &str) -> FieldError {
    // The code is echoed in messages: cut what a hostile input could make long.
    let code: String = raw.chars().take(12).collect();
    FieldError::new(field, Rule::UnknownCode { list, code })
}

/// A current address: province, a commune of that province, and the street text.
///
/// Only [`Address::parse`] makes one, so the commune always belongs to the province.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Address {
    province: ProvinceCode,
    commune: CommuneCode,
    street: Option<Text>,
}

impl Address {
    /// Checks the three parts; `field` maps each part to the form field it is reported on.
    pub fn parse(
        province: &str,
        commune: &str,
        street: &str,
        field: impl Fn(AddressPart) -> Field,
    ) -> Result<Address, Vec<FieldError>> {
        let mut errors = Vec::new();
        let p = match given(province) {
            None => Err(FieldError::new(
                field(AddressPart::Province),
                Rule::Required,
            )),
            Some(raw) => reference::province(raw)
                .map(|p| p.code)
                .ok_or_else(|| unknown(field(AddressPart::Province), CodeList::Province, raw)),
        };
        let c = match given(commune) {
            None => Err(FieldError::new(field(AddressPart::Commune), Rule::Required)),
            Some(raw) => reference::commune(raw)
                .ok_or_else(|| unknown(field(AddressPart::Commune), CodeList::Commune, raw)),
        };
        let s = given(street)
            .map(|raw| Text::parse(raw, field(AddressPart::Street), MAX_TEXT_CHARS))
            .transpose();
        errors.extend(p.as_ref().err().cloned());
        errors.extend(c.as_ref().err().cloned());
        errors.extend(s.as_ref().err().cloned());
        if let (Ok(p), Ok(c)) = (&p, &c) {
            if c.province != *p {
                errors.push(FieldError::new(
                    field(AddressPart::Commune),
                    Rule::CommuneNotInProvince {
                        commune: c.code.to_string(),
                        province: p.to_string(),
                    },
                ));
            }
        }
        match (p, c, s) {
            (Ok(province), Ok(commune), Ok(street)) if errors.is_empty() => Ok(Address {
                province,
                commune: commune.code,
                street,
            }),
            _ => Err(errors),
        }
    }

    /// The province (current codes).
    pub fn province(&self) -> ProvinceCode {
        self.province
    }

    /// The commune, in [`Address::province`].
    pub fn commune(&self) -> CommuneCode {
        self.commune
    }

    /// The street, house number, village or hamlet, if given.
    pub fn street(&self) -> Option<&Text> {
        self.street.as_ref()
    }
}
