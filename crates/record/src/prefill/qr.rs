//! The QR code on the front of chip cards (2021 CCCD and 2024 căn cước).
//!
//! `|`-separated text, dates DDMMYYYY. The 2021 layout is
//! `ID12|CMND9|Full name|DDMMYYYY|Nam/Nữ|Permanent residence|IssueDDMMYYYY` (CMND may be empty).
//! 2024 cards append more fields in an order that is not published, so fields are read by
//! position as far as they fit, and everything else is reported, never guessed.

use std::fmt;

use time::{Date, Month};

use crate::text::{normalize, search_key};
use crate::{BirthName, FieldError, Lang, PersonalId, Sex};

/// Longest QR text accepted: a card QR holds a few hundred bytes; more is not a card.
pub const MAX_QR_BYTES: usize = 1024;

/// Number of fields in the 2021 layout; later fields are kept unread.
const KNOWN_FIELDS: usize = 7;

/// Why a text is not a card QR at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    /// More than [`MAX_QR_BYTES`] bytes.
    #[error("QR text is {len} bytes, more than {MAX_QR_BYTES}")]
    TooLong {
        /// Bytes read.
        len: usize,
    },
    /// A control character (card QR text is one line of printable text).
    #[error("QR text holds a control character U+{code:04X} at character {position}")]
    ControlCharacter {
        /// 1-based character position.
        position: usize,
        /// The code point.
        code: u32,
    },
    /// The first field is not a 12-digit number, so this is not a card QR.
    #[error("the first field of the QR text is not a 12-digit ID number")]
    NoIdNumber,
}

impl QrError {
    /// A stable machine-readable name of the error.
    pub fn code(&self) -> &'static str {
        match self {
            QrError::TooLong { .. } => "tooLong",
            QrError::ControlCharacter { .. } => "controlCharacter",
            QrError::NoIdNumber => "noIdNumber",
        }
    }

    /// The message an operator reads, in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (QrError::TooLong { len }, Lang::Vi) => {
                format!("Mã QR dài {len} byte, quá {MAX_QR_BYTES}: không phải mã QR trên thẻ.")
            }
            (QrError::ControlCharacter { position, .. }, Lang::Vi) => {
                format!("Mã QR có ký tự điều khiển ở vị trí {position}: không phải mã QR trên thẻ.")
            }
            (QrError::NoIdNumber, Lang::Vi) => {
                "Trường đầu tiên của mã QR không phải số định danh 12 chữ số: không phải mã QR trên thẻ."
                    .to_owned()
            }
            (e, Lang::En) => format!("Not a card QR code: {e}."),
        }
    }
}

/// A field of the 2021 QR layout after the ID number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QrField {
    /// The old 9-digit CMND (or 12-digit previous number).
    OldId,
    /// Họ, chữ đệm và tên.
    Name,
    /// Ngày sinh, DDMMYYYY.
    BirthDate,
    /// Giới tính, Nam / Nữ.
    Sex,
    /// Nơi thường trú.
    Residence,
    /// Ngày cấp, DDMMYYYY.
    IssueDate,
}

impl QrField {
    /// A stable machine-readable name of the field.
    pub fn code(self) -> &'static str {
        match self {
            QrField::OldId => "oldId",
            QrField::Name => "name",
            QrField::BirthDate => "birthDate",
            QrField::Sex => "sex",
            QrField::Residence => "residence",
            QrField::IssueDate => "issueDate",
        }
    }

    fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (QrField::OldId, Lang::Vi) => "Số CMND cũ",
            (QrField::OldId, Lang::En) => "Old ID number",
            (QrField::Name, Lang::Vi) => "Họ, chữ đệm và tên",
            (QrField::Name, Lang::En) => "Name",
            (QrField::BirthDate, Lang::Vi) => "Ngày sinh",
            (QrField::BirthDate, Lang::En) => "Date of birth",
            (QrField::Sex, Lang::Vi) => "Giới tính",
            (QrField::Sex, Lang::En) => "Sex",
            (QrField::Residence, Lang::Vi) => "Nơi thường trú",
            (QrField::Residence, Lang::En) => "Permanent residence",
            (QrField::IssueDate, Lang::Vi) => "Ngày cấp",
            (QrField::IssueDate, Lang::En) => "Issue date",
        }
    }

    /// The fields after the ID number, in their 2021 order.
    const ORDER: [QrField; KNOWN_FIELDS - 1] = [
        QrField::OldId,
        QrField::Name,
        QrField::BirthDate,
        QrField::Sex,
        QrField::Residence,
        QrField::IssueDate,
    ];
}

/// Something the parser read but could not interpret; the rest was still read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QrWarning {
    /// The ID number is 12 digits but the record crate rejects it (e.g. an unknown prefix).
    IdNumber(FieldError),
    /// A field is there but does not have the form its position calls for.
    Unreadable {
        /// Which field the position stands for.
        field: QrField,
        /// 1-based position among the `|`-separated fields.
        position: usize,
    },
    /// Fewer fields than the 2021 layout: the missing ones are left empty.
    MissingFields {
        /// Fields found.
        found: usize,
    },
    /// More fields than the 2021 layout (2024 cards): kept in [`QrData::extra`], not interpreted.
    ExtraFields {
        /// Fields found.
        found: usize,
    },
}

impl QrWarning {
    /// A stable machine-readable name of the warning.
    pub fn code(&self) -> &'static str {
        match self {
            QrWarning::IdNumber(_) => "idNumber",
            QrWarning::Unreadable { .. } => "unreadable",
            QrWarning::MissingFields { .. } => "missingFields",
            QrWarning::ExtraFields { .. } => "extraFields",
        }
    }

    /// The message an operator reads, in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (QrWarning::IdNumber(e), lang) => e.message(lang),
            (QrWarning::Unreadable { field, position }, Lang::Vi) => format!(
                "{}: không đọc được trường thứ {position} của mã QR.",
                field.label(lang)
            ),
            (QrWarning::Unreadable { field, position }, Lang::En) => format!(
                "{}: field {position} of the QR code could not be read.",
                field.label(lang)
            ),
            (QrWarning::MissingFields { found }, Lang::Vi) => format!(
                "Mã QR chỉ có {found} trường (thẻ 2021 có {KNOWN_FIELDS}); các trường thiếu để trống."
            ),
            (QrWarning::MissingFields { found }, Lang::En) => format!(
                "The QR code has only {found} fields (2021 cards have {KNOWN_FIELDS}); the missing ones are left empty."
            ),
            (QrWarning::ExtraFields { found }, Lang::Vi) => format!(
                "Mã QR có {found} trường; các trường sau trường thứ {KNOWN_FIELDS} không được đọc, hãy kiểm tra trên thẻ."
            ),
            (QrWarning::ExtraFields { found }, Lang::En) => format!(
                "The QR code has {found} fields; those after field {KNOWN_FIELDS} were not interpreted, check them on the card."
            ),
        }
    }
}

/// An old identity card number: 9 digits (CMND) or 12 (a previous CCCD).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct OldIdNumber(String);

impl OldIdNumber {
    fn parse(raw: &str) -> Option<OldIdNumber> {
        let ok = matches!(raw.len(), 9 | 12) && raw.bytes().all(|b| b.is_ascii_digit());
        ok.then(|| OldIdNumber(raw.to_owned()))
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for OldIdNumber {
    // Personal data never goes to logs whole.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OldIdNumber({} digits)", self.0.len())
    }
}

/// What a card QR said, as far as it could be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrData {
    /// The 12 digits of the first field, as printed.
    pub id_number: String,
    /// The same number checked by the record crate (prefix, shape).
    pub personal_id: Result<PersonalId, FieldError>,
    /// The old card number, when the card has one.
    pub old_id: Option<OldIdNumber>,
    /// The birth name, normalised.
    pub name: Option<BirthName>,
    /// The date of birth.
    pub birth_date: Option<Date>,
    /// The sex.
    pub sex: Option<Sex>,
    /// The permanent residence, normalised.
    pub residence: Option<String>,
    /// The card's issue date.
    pub issue_date: Option<Date>,
    /// Fields after the seventh (2024 cards), normalised, not interpreted.
    pub extra: Vec<String>,
    /// What could not be read.
    pub warnings: Vec<QrWarning>,
}

/// Parses the text of a card QR; an error only when it is not a card QR at all.
pub fn parse_qr(text: &str) -> Result<QrData, QrError> {
    if text.len() > MAX_QR_BYTES {
        return Err(QrError::TooLong { len: text.len() });
    }
    // Scanners that type into a field end with Enter: that newline is not part of the code.
    let text = text.trim();
    if let Some((i, c)) = text.chars().enumerate().find(|(_, c)| c.is_control()) {
        return Err(QrError::ControlCharacter {
            position: i + 1,
            code: u32::from(c),
        });
    }
    let fields: Vec<&str> = text.split('|').map(str::trim).collect();
    let id_number = fields.first().copied().unwrap_or_default();
    if id_number.len() != 12 || !id_number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(QrError::NoIdNumber);
    }

    let mut warnings = Vec::new();
    let personal_id = PersonalId::parse(id_number);
    if let Err(e) = &personal_id {
        warnings.push(QrWarning::IdNumber(e.clone()));
    }
    let mut data = QrData {
        id_number: id_number.to_owned(),
        personal_id,
        old_id: None,
        name: None,
        birth_date: None,
        sex: None,
        residence: None,
        issue_date: None,
        extra: fields
            .iter()
            .skip(KNOWN_FIELDS)
            .map(|f| normalize(f))
            .collect(),
        warnings: Vec::new(),
    };
    for (i, (field, raw)) in QrField::ORDER.iter().zip(&fields[1..]).enumerate() {
        if raw.is_empty() {
            continue;
        }
        if !data.read(*field, raw) {
            warnings.push(QrWarning::Unreadable {
                field: *field,
                position: i + 2,
            });
        }
    }
    match fields.len() {
        n if n < KNOWN_FIELDS => warnings.push(QrWarning::MissingFields { found: n }),
        n if n > KNOWN_FIELDS => warnings.push(QrWarning::ExtraFields { found: n }),
        _ => {}
    }
    data.warnings = warnings;
    Ok(data)
}

impl QrData {
    /// Reads one non-empty field into its slot; `false` when it does not have the right form.
    fn read(&mut self, field: QrField, raw: &str) -> bool {
        match field {
            QrField::OldId => {
                self.old_id = OldIdNumber::parse(raw);
                self.old_id.is_some()
            }
            QrField::Name => {
                self.name = BirthName::parse(raw).ok();
                self.name.is_some()
            }
            QrField::BirthDate => {
                self.birth_date = parse_ddmmyyyy(raw);
                self.birth_date.is_some()
            }
            QrField::Sex => {
                self.sex = parse_sex(raw);
                self.sex.is_some()
            }
            QrField::Residence => {
                self.residence = Some(normalize(raw));
                true
            }
            QrField::IssueDate => {
                self.issue_date = parse_ddmmyyyy(raw);
                self.issue_date.is_some()
            }
        }
    }
}

/// "Nam" / "Nữ", in any case, with or without diacritics (some readers strip them).
fn parse_sex(raw: &str) -> Option<Sex> {
    match search_key(raw).as_str() {
        "nam" => Some(Sex::Male),
        "nu" => Some(Sex::Female),
        _ => None,
    }
}

/// `DDMMYYYY`, a real calendar day.
fn parse_ddmmyyyy(raw: &str) -> Option<Date> {
    if raw.len() != 8 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let day: u8 = raw.get(0..2)?.parse().ok()?;
    let month: u8 = raw.get(2..4)?.parse().ok()?;
    let year: i32 = raw.get(4..8)?.parse().ok()?;
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Field, Rule};
    use proptest::prelude::*;

    /// What a test expects to read: each field as text, `-` for "not read".
    #[derive(Debug, PartialEq)]
    struct Read {
        id: String,
        old_id: String,
        name: String,
        birth: String,
        sex: String,
        residence: String,
        issue: String,
        extra: Vec<String>,
        warnings: Vec<QrWarning>,
    }

    fn read(d: &QrData) -> Read {
        let opt = |s: Option<String>| s.unwrap_or_else(|| "-".to_owned());
        Read {
            id: d.id_number.clone(),
            old_id: opt(d.old_id.as_ref().map(|o| o.as_str().to_owned())),
            name: opt(d.name.as_ref().map(|n| n.as_str().to_owned())),
            birth: opt(d.birth_date.map(|x| x.to_string())),
            sex: opt(d.sex.map(|s| s.code().to_owned())),
            residence: opt(d.residence.clone()),
            issue: opt(d.issue_date.map(|x| x.to_string())),
            extra: d.extra.clone(),
            warnings: d.warnings.clone(),
        }
    }

    /// `expected` is `id|old|name|birth|sex|residence|issue` with `-` for "not read".
    fn check(text: &str, expected: Result<(&str, &[&str], Vec<QrWarning>), QrError>) {
        let got = parse_qr(text).map(|d| read(&d));
        let expected = expected.map(|(fields, extra, warnings)| {
            let f: Vec<String> = fields.split('|').map(str::to_owned).collect();
            Read {
                id: f[0].clone(),
                old_id: f[1].clone(),
                name: f[2].clone(),
                birth: f[3].clone(),
                sex: f[4].clone(),
                residence: f[5].clone(),
                issue: f[6].clone(),
                extra: extra.iter().map(|s| (*s).to_owned()).collect(),
                warnings,
            }
        });
        assert_eq!(got, expected, "{text:?}");
    }

    fn unreadable(field: QrField, position: usize) -> QrWarning {
        QrWarning::Unreadable { field, position }
    }

    #[test]
    fn card_2021() {
        check(
            "001090123456|123456789|Nguyễn Văn An|01011990|Nam|Số 1 Hàng Bạc, Hoàn Kiếm, Hà Nội|15072021",
            Ok((
                "001090123456|123456789|Nguyễn Văn An|1990-01-01|male|Số 1 Hàng Bạc, Hoàn Kiếm, Hà Nội|2021-07-15",
                &[],
                vec![],
            )),
        );
        // No CMND; NFD name; trailing newline from a keyboard-wedge scanner.
        check(
            "079185000123||Le\u{302} Thi\u{323} Thu-Ha\u{300}|31121985|Nữ|TP Hồ Chí Minh|01022022\r\n",
            Ok((
                "079185000123|-|Lê Thị Thu-Hà|1985-12-31|female|TP Hồ Chí Minh|2022-02-01",
                &[],
                vec![],
            )),
        );
    }

    #[test]
    fn card_2024_extra_fields_are_kept_not_guessed() {
        check(
            "001090123456|123456789|Nguyễn Văn An|01011990|Nam|Hà Nội|01072024|Nguyễn Văn Bố|Trần Thị Mẹ",
            Ok((
                "001090123456|123456789|Nguyễn Văn An|1990-01-01|male|Hà Nội|2024-07-01",
                &["Nguyễn Văn Bố", "Trần Thị Mẹ"],
                vec![QrWarning::ExtraFields { found: 9 }],
            )),
        );
    }

    #[test]
    fn partial_and_unreadable_fields() {
        check(
            "001090123456",
            Ok((
                "001090123456|-|-|-|-|-|-",
                &[],
                vec![QrWarning::MissingFields { found: 1 }],
            )),
        );
        check(
            "001090123456|12345|Nguyễn 2|31021990|X|Hà Nội|1.1.2021",
            Ok((
                "001090123456|-|-|-|-|Hà Nội|-",
                &[],
                vec![
                    unreadable(QrField::OldId, 2),
                    unreadable(QrField::Name, 3),
                    unreadable(QrField::BirthDate, 4),
                    unreadable(QrField::Sex, 5),
                    unreadable(QrField::IssueDate, 7),
                ],
            )),
        );
        check(
            "001090123456|123456789|Nguyen Van An|01011990|NU",
            Ok((
                "001090123456|123456789|Nguyen Van An|1990-01-01|female|-|-",
                &[],
                vec![QrWarning::MissingFields { found: 5 }],
            )),
        );
    }

    #[test]
    fn an_unknown_prefix_is_a_warning_not_a_rejection() {
        check(
            "003090123456|123456789|Nguyễn Văn An|01011990|Nam|Hà Nội|15072021",
            Ok((
                "003090123456|123456789|Nguyễn Văn An|1990-01-01|male|Hà Nội|2021-07-15",
                &[],
                vec![QrWarning::IdNumber(FieldError::new(
                    Field::PersonalId,
                    Rule::UnknownProvinceCode { code: "003".into() },
                ))],
            )),
        );
    }

    #[test]
    fn not_a_card_qr() {
        check("", Err(QrError::NoIdNumber));
        check("https://example.com", Err(QrError::NoIdNumber));
        check("00109012345|x", Err(QrError::NoIdNumber));
        check("0010901234567|x", Err(QrError::NoIdNumber));
        check("٠٠١٠٩٠١٢٣٤٥٦|x", Err(QrError::NoIdNumber));
        check(
            "001090123456|\u{0}|x",
            Err(QrError::ControlCharacter {
                position: 14,
                code: 0,
            }),
        );
        check(
            "001090123456|a\nb",
            Err(QrError::ControlCharacter {
                position: 15,
                code: 10,
            }),
        );
        let long = format!("001090123456|{}", "a".repeat(1100));
        check(&long, Err(QrError::TooLong { len: long.len() }));
    }

    #[test]
    fn messages_in_both_languages() {
        let w = unreadable(QrField::BirthDate, 4);
        assert_eq!(
            w.message(Lang::Vi),
            "Ngày sinh: không đọc được trường thứ 4 của mã QR."
        );
        assert_eq!(
            w.message(Lang::En),
            "Date of birth: field 4 of the QR code could not be read."
        );
        assert!(QrError::NoIdNumber.message(Lang::En).contains("12-digit"));
    }

    proptest! {
        #[test]
        fn never_panics(s in any::<String>()) {
            let _ = parse_qr(&s);
        }

        #[test]
        fn never_panics_on_card_like_text(fields in proptest::collection::vec("[0-9a-zA-Zà-ỹ ]{0,14}", 0..12)) {
            let text = format!("001090123456|{}", fields.join("|"));
            let data = parse_qr(&text);
            prop_assert!(data.is_ok());
        }
    }
}
