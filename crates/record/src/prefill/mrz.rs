//! The machine-readable zone on the back of Vietnamese chip cards: ICAO 9303 TD1, 3 × 30.
//!
//! Layout (ICAO Doc 9303 Part 5, §4.2.2), as Vietnamese cards fill it:
//! ```text
//! line 1: ID VNM <last 9 digits of the ID> <check> <12-digit ID> << <check of the ID>
//! line 2: <birth YYMMDD> <check> <sex> <expiry YYMMDD> <check> VNM <filler ×11> <composite check>
//! line 3: SURNAME<<GIVEN<NAMES  (no diacritics)
//! ```
//! Every check digit is verified; a scan with one misread character is rejected, not guessed.

use time::{Date, Month, OffsetDateTime};

use crate::{FieldError, Lang, PersonalId, Sex};

/// Characters per line in TD1.
const LINE_LEN: usize = 30;
/// Lines in TD1.
const LINES: usize = 3;
/// Longer input is not an MRZ (3 × 30 plus line ends and stray spaces).
const MAX_INPUT_BYTES: usize = 512;

/// A field protected by a check digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MrzField {
    /// The document number (line 1, columns 6–14).
    DocumentNumber,
    /// The 12-digit personal ID in the optional data (line 1, columns 16–27).
    IdNumber,
    /// Date of birth (line 2, columns 1–6).
    BirthDate,
    /// Date of expiry (line 2, columns 9–14).
    ExpiryDate,
    /// Lines 1 and 2 together (line 2, column 30).
    Composite,
}

impl MrzField {
    /// A stable machine-readable name of the field.
    pub fn code(self) -> &'static str {
        match self {
            MrzField::DocumentNumber => "documentNumber",
            MrzField::IdNumber => "idNumber",
            MrzField::BirthDate => "birthDate",
            MrzField::ExpiryDate => "expiryDate",
            MrzField::Composite => "composite",
        }
    }

    fn label_vi(self) -> &'static str {
        match self {
            MrzField::DocumentNumber => "số giấy tờ",
            MrzField::IdNumber => "số định danh",
            MrzField::BirthDate => "ngày sinh",
            MrzField::ExpiryDate => "ngày hết hạn",
            MrzField::Composite => "dòng 1 và 2",
        }
    }
}

/// Why a text is not a valid Vietnamese TD1 MRZ. Lines and columns are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MrzError {
    /// Far more text than an MRZ.
    #[error("input is {len} bytes, more than {MAX_INPUT_BYTES}")]
    TooLong {
        /// Bytes read.
        len: usize,
    },
    /// Not three lines.
    #[error("expected 3 lines, found {found}")]
    LineCount {
        /// Non-empty lines found.
        found: usize,
    },
    /// A line is not 30 characters; `column` is the first missing or extra one.
    #[error("line {line}, column {column}: line has {len} characters, expected 30")]
    LineLength {
        /// The line.
        line: usize,
        /// The first missing or extra column.
        column: usize,
        /// Characters on the line.
        len: usize,
    },
    /// A character outside A–Z, 0–9 and `<`.
    #[error("line {line}, column {column}: {found:?} is not an MRZ character (A-Z, 0-9, <)")]
    InvalidCharacter {
        /// The line.
        line: usize,
        /// The column.
        column: usize,
        /// What was there.
        found: char,
    },
    /// Not an identity card (document code does not start with `I`).
    #[error("line 1, column 1: document code {found:?} is not an identity card")]
    NotIdentityCard {
        /// The two-character code.
        found: String,
    },
    /// Not issued by Viet Nam.
    #[error("line 1, column 3: issuing state {found:?} is not VNM")]
    NotVietnamese {
        /// The three-letter code.
        found: String,
    },
    /// A check digit does not match.
    #[error("line {line}, column {column}: check digit of {} is {found:?}, expected {expected:?}", field.code())]
    CheckDigit {
        /// Which field it protects.
        field: MrzField,
        /// The line of the check digit.
        line: usize,
        /// The column of the check digit.
        column: usize,
        /// The digit computed.
        expected: char,
        /// The character read.
        found: char,
    },
    /// A date is not a real calendar day.
    #[error("line {line}, column {column}: {} is not a date YYMMDD", field.code())]
    InvalidDate {
        /// Which date.
        field: MrzField,
        /// The line.
        line: usize,
        /// The first column.
        column: usize,
    },
    /// Sex is not `M`, `F` or `<`.
    #[error("line 2, column 8: sex {found:?} is not M, F or <")]
    InvalidSex {
        /// What was there.
        found: char,
    },
    /// The optional data does not hold a 12-digit ID number followed by filler.
    #[error("line 1, column 16: the optional data does not hold a 12-digit ID number")]
    NoIdNumber,
    /// The document number is not the last 9 digits of the ID number.
    #[error("line 1, column 6: the document number is not the last 9 digits of the ID number")]
    IdMismatch,
}

impl MrzError {
    /// A stable machine-readable name of the error.
    pub fn code(&self) -> &'static str {
        match self {
            MrzError::TooLong { .. } => "tooLong",
            MrzError::LineCount { .. } => "lineCount",
            MrzError::LineLength { .. } => "lineLength",
            MrzError::InvalidCharacter { .. } => "invalidCharacter",
            MrzError::NotIdentityCard { .. } => "notIdentityCard",
            MrzError::NotVietnamese { .. } => "notVietnamese",
            MrzError::CheckDigit { .. } => "checkDigit",
            MrzError::InvalidDate { .. } => "invalidDate",
            MrzError::InvalidSex { .. } => "invalidSex",
            MrzError::NoIdNumber => "noIdNumber",
            MrzError::IdMismatch => "idMismatch",
        }
    }

    /// The message an operator reads, in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        let vi = match self {
            _ if lang == Lang::En => return format!("MRZ: {self}."),
            MrzError::TooLong { len } => {
                format!("dài {len} byte, quá {MAX_INPUT_BYTES}: không phải vùng MRZ.")
            }
            MrzError::LineCount { found } => format!("cần 3 dòng, đọc được {found} dòng."),
            MrzError::LineLength { line, column, len } => {
                format!("dòng {line}, cột {column}: dòng có {len} ký tự, cần 30.")
            }
            MrzError::InvalidCharacter {
                line,
                column,
                found,
            } => format!(
                "dòng {line}, cột {column}: ký tự {found:?} không thuộc MRZ (A-Z, 0-9, <)."
            ),
            MrzError::NotIdentityCard { found } => {
                format!("dòng 1, cột 1: mã giấy tờ {found:?} không phải thẻ căn cước.")
            }
            MrzError::NotVietnamese { found } => {
                format!("dòng 1, cột 3: nơi cấp {found:?} không phải VNM.")
            }
            MrzError::CheckDigit {
                field,
                line,
                column,
                expected,
                found,
            } => format!(
                "dòng {line}, cột {column}: số kiểm tra của {} là {found:?}, đúng ra là {expected:?} (quét lại thẻ).",
                field.label_vi()
            ),
            MrzError::InvalidDate {
                field,
                line,
                column,
            } => format!(
                "dòng {line}, cột {column}: {} không phải ngày hợp lệ (YYMMDD).",
                field.label_vi()
            ),
            MrzError::InvalidSex { found } => {
                format!("dòng 2, cột 8: giới tính {found:?} không phải M, F hay <.")
            }
            MrzError::NoIdNumber => {
                "dòng 1, cột 16: không có số định danh 12 chữ số trong dữ liệu tùy chọn.".to_owned()
            }
            MrzError::IdMismatch => {
                "dòng 1, cột 6: số giấy tờ không phải 9 chữ số cuối của số định danh.".to_owned()
            }
        };
        format!("MRZ: {vi}")
    }
}

/// What a card's MRZ says, every check digit verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MrzData {
    /// Document code, e.g. `ID`.
    pub document_code: String,
    /// Issuing state, `VNM`.
    pub issuing_state: String,
    /// The document number: the last 9 digits of the ID number.
    pub document_number: String,
    /// The 12-digit personal ID number from the optional data.
    pub id_number: String,
    /// The same number checked by the record crate (a prefix problem shows here, not as an error).
    pub personal_id: Result<PersonalId, FieldError>,
    /// Date of birth.
    pub birth_date: Date,
    /// Sex; `None` when the MRZ says unspecified (`<`).
    pub sex: Option<Sex>,
    /// Date of expiry; `None` for cards without one (field filled with `<`).
    pub expiry_date: Option<Date>,
    /// Nationality, e.g. `VNM`.
    pub nationality: String,
    /// Surname in MRZ letters (no diacritics), words separated by single spaces.
    pub surname: String,
    /// Given names (chữ đệm and tên) in MRZ letters, words separated by single spaces.
    pub given_names: String,
}

/// The ICAO 9303 check digit of `field` (Part 3, §4.9): weights 7-3-1, `<` = 0, A = 10 … Z = 35.
///
/// Characters outside the MRZ alphabet count as 0; callers check the alphabet first.
pub fn check_digit(field: &str) -> char {
    const WEIGHTS: [u32; 3] = [7, 3, 1];
    let sum: u32 = field
        .bytes()
        .zip(WEIGHTS.iter().cycle())
        .map(|(b, w)| {
            let v = match b {
                b'0'..=b'9' => u32::from(b - b'0'),
                b'A'..=b'Z' => u32::from(b - b'A') + 10,
                _ => 0,
            };
            v * w
        })
        .sum();
    char::from(b'0' + (sum % 10) as u8)
}

/// Parses a TD1 MRZ, choosing birth centuries against today's date (UTC).
pub fn parse_mrz(text: &str) -> Result<MrzData, MrzError> {
    parse_mrz_at(text, OffsetDateTime::now_utc().date())
}

/// Parses a TD1 MRZ; a two-digit birth year is placed in the latest century not after `today`.
pub fn parse_mrz_at(text: &str, today: Date) -> Result<MrzData, MrzError> {
    if text.len() > MAX_INPUT_BYTES {
        return Err(MrzError::TooLong { len: text.len() });
    }
    let lines = split_lines(text)?;
    let [l1, l2, l3] = [&lines[0], &lines[1], &lines[2]];

    let document_code = l1[0..2].to_owned();
    if !document_code.starts_with('I') {
        return Err(MrzError::NotIdentityCard {
            found: document_code,
        });
    }
    let issuing_state = l1[2..5].to_owned();
    if issuing_state != "VNM" {
        return Err(MrzError::NotVietnamese {
            found: issuing_state,
        });
    }
    verify(l1, 5..14, 1, MrzField::DocumentNumber)?;
    let document_number = l1[5..14].to_owned();

    // Optional data (columns 16–30): the 12-digit ID, filler, and the ID's own check digit.
    let id_number = &l1[15..27];
    if !id_number.bytes().all(|b| b.is_ascii_digit()) || &l1[27..29] != "<<" {
        return Err(MrzError::NoIdNumber);
    }
    // Column 30 checks columns 16–29; the `<<` count as 0, so it is the ID's own check digit.
    verify_at(l1, 15..29, 29, 1, MrzField::IdNumber)?;
    if !document_number.bytes().all(|b| b.is_ascii_digit()) || id_number[3..] != document_number {
        return Err(MrzError::IdMismatch);
    }

    verify(l2, 0..6, 2, MrzField::BirthDate)?;
    verify(l2, 8..14, 2, MrzField::ExpiryDate)?;
    let composite = format!("{}{}{}{}", &l1[5..30], &l2[0..7], &l2[8..15], &l2[18..29]);
    let expected = check_digit(&composite);
    let found = l2.as_bytes()[29] as char;
    if found != expected {
        return Err(MrzError::CheckDigit {
            field: MrzField::Composite,
            line: 2,
            column: 30,
            expected,
            found,
        });
    }

    let personal_id = PersonalId::parse(id_number);
    let birth_date =
        birth_date(&l2[0..6], personal_id.as_ref().ok(), today).ok_or(MrzError::InvalidDate {
            field: MrzField::BirthDate,
            line: 2,
            column: 1,
        })?;
    let sex = match l2.as_bytes()[7] {
        b'M' => Some(Sex::Male),
        b'F' => Some(Sex::Female),
        b'<' => None,
        other => {
            return Err(MrzError::InvalidSex {
                found: char::from(other),
            })
        }
    };
    let expiry_date = if &l2[8..14] == "<<<<<<" {
        None
    } else {
        // Chip cards were first issued in 2016: expiry years are in the 2000s.
        Some(yymmdd(&l2[8..14], 2000).ok_or(MrzError::InvalidDate {
            field: MrzField::ExpiryDate,
            line: 2,
            column: 9,
        })?)
    };
    let (surname, given_names) = names(l3);

    Ok(MrzData {
        document_code,
        issuing_state,
        document_number,
        id_number: id_number.to_owned(),
        personal_id,
        birth_date,
        sex,
        expiry_date,
        nationality: l2[15..18].to_owned(),
        surname,
        given_names,
    })
}

/// Three lines of 30 MRZ characters: CRLF or LF, trailing whitespace and blank lines around ignored.
fn split_lines(text: &str) -> Result<Vec<String>, MrzError> {
    let lines: Vec<&str> = text.trim().lines().map(str::trim_end).collect();
    if lines.len() != LINES {
        return Err(MrzError::LineCount { found: lines.len() });
    }
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let line = i + 1;
            let len = l.chars().count();
            if len != LINE_LEN {
                return Err(MrzError::LineLength {
                    line,
                    column: len.min(LINE_LEN) + 1,
                    len,
                });
            }
            if let Some((col, found)) = l
                .chars()
                .enumerate()
                .find(|(_, c)| !matches!(c, 'A'..='Z' | '0'..='9' | '<'))
            {
                return Err(MrzError::InvalidCharacter {
                    line,
                    column: col + 1,
                    found,
                });
            }
            // All ASCII now: byte ranges below are character ranges.
            Ok((*l).to_owned())
        })
        .collect()
}

/// Verifies the check digit that follows `range` on `line`.
fn verify(
    l: &str,
    range: std::ops::Range<usize>,
    line: usize,
    field: MrzField,
) -> Result<(), MrzError> {
    let at = range.end;
    verify_at(l, range, at, line, field)
}

fn verify_at(
    l: &str,
    range: std::ops::Range<usize>,
    at: usize,
    line: usize,
    field: MrzField,
) -> Result<(), MrzError> {
    let expected = check_digit(&l[range]);
    let found = char::from(l.as_bytes()[at]);
    // ICAO 9303 Part 3 §4.9: a field entirely of fillers may carry `<` as its check digit.
    let empty_ok = found == '<' && l[..at].ends_with("<<<<<<") && expected == '0';
    if found == expected || empty_ok {
        Ok(())
    } else {
        Err(MrzError::CheckDigit {
            field,
            line,
            column: at + 1,
            expected,
            found,
        })
    }
}

/// `YYMMDD` in the century starting at `century`.
fn yymmdd(s: &str, century: i32) -> Option<Date> {
    let num = |r: std::ops::Range<usize>| -> Option<u8> { s.get(r)?.parse().ok() };
    let year = century + i32::from(num(0..2)?);
    Date::from_calendar_date(year, Month::try_from(num(2..4)?).ok()?, num(4..6)?).ok()
}

/// The birth date: the ID number's century digit when its year agrees (it is exact),
/// else the latest century that does not put the birth after `today`.
fn birth_date(s: &str, id: Option<&PersonalId>, today: Date) -> Option<Date> {
    let yy: i32 = s.get(0..2)?.parse().ok()?;
    if let Some(id) = id {
        if id.birth_year().rem_euclid(100) == yy {
            let date = yymmdd(s, id.birth_year() - yy)?;
            if date <= today {
                return Some(date);
            }
        }
    }
    let this_century = today.year() - today.year().rem_euclid(100);
    match yymmdd(s, this_century)? {
        d if d <= today => Some(d),
        _ => yymmdd(s, this_century - 100),
    }
}

/// `SURNAME<<GIVEN<NAMES<<<` → ("SURNAME", "GIVEN NAMES").
fn names(l: &str) -> (String, String) {
    let words = |s: &str| {
        s.split('<')
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    };
    match l.split_once("<<") {
        Some((surname, given)) => (words(surname), words(given)),
        None => (words(l), String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 28);

    /// The synthetic example of DOMAIN.md; its check digits are correct.
    const EXAMPLE: &str = "IDVNM0901234562001090123456<<3\n\
                           9001011M3001019VNM<<<<<<<<<<<4\n\
                           NGUYEN<<VAN<A<<<<<<<<<<<<<<<<<";

    /// `id|birth|sex|expiry|nationality|surname|given` for what parsed.
    fn summary(d: &MrzData) -> String {
        format!(
            "{}|{}|{}|{}|{}|{}|{}",
            d.id_number,
            d.birth_date,
            d.sex.map_or("-", Sex::code),
            d.expiry_date.map_or("-".to_owned(), |x| x.to_string()),
            d.nationality,
            d.surname,
            d.given_names
        )
    }

    fn check(text: &str, expected: Result<&str, MrzError>) {
        let got = parse_mrz_at(text, TODAY).map(|d| summary(&d));
        assert_eq!(got, expected.map(str::to_owned), "{text:?}");
    }

    /// Builds a valid MRZ with every check digit computed.
    fn build(id: &str, birth: &str, sex: char, expiry: &str, surname: &str, given: &str) -> String {
        let doc = &id[3..];
        let l1 = format!("IDVNM{doc}{}{id}<<{}", check_digit(doc), check_digit(id));
        let l2_head = format!(
            "{birth}{}{sex}{expiry}{}VNM",
            check_digit(birth),
            check_digit(expiry)
        );
        let l2_body = format!("{l2_head}{}", "<".repeat(11));
        let composite = format!(
            "{}{}{}{}",
            &l1[5..30],
            &l2_body[0..7],
            &l2_body[8..15],
            &l2_body[18..29]
        );
        let l2 = format!("{l2_body}{}", check_digit(&composite));
        let name = format!("{}<<{}", surname.replace(' ', "<"), given.replace(' ', "<"));
        let l3 = format!("{name:<<30}");
        format!("{l1}\n{l2}\n{l3}")
    }

    #[test]
    fn check_digits() {
        assert_eq!(check_digit("090123456"), '2');
        assert_eq!(check_digit("001090123456"), '3');
        assert_eq!(check_digit("900101"), '1');
        assert_eq!(check_digit("300101"), '9');
        // ICAO 9303 Part 3 worked example.
        assert_eq!(check_digit("520727"), '3');
        assert_eq!(check_digit("<<<<<<"), '0');
    }

    #[test]
    fn domain_example() {
        check(
            EXAMPLE,
            Ok("001090123456|1990-01-01|male|2030-01-01|VNM|NGUYEN|VAN A"),
        );
        let d = parse_mrz_at(EXAMPLE, TODAY).unwrap();
        assert_eq!(d.document_code, "ID");
        assert_eq!(d.issuing_state, "VNM");
        assert_eq!(d.document_number, "090123456");
        assert_eq!(d.personal_id.map(|p| p.prefix()), Ok(1));
    }

    #[test]
    fn line_endings_and_whitespace() {
        check(
            &EXAMPLE.replace('\n', "\r\n"),
            Ok("001090123456|1990-01-01|male|2030-01-01|VNM|NGUYEN|VAN A"),
        );
        check(
            &format!("\n{}  \n\n", EXAMPLE.replace('\n', " \t\n")),
            Ok("001090123456|1990-01-01|male|2030-01-01|VNM|NGUYEN|VAN A"),
        );
    }

    #[test]
    fn centuries() {
        // The ID's century digit is exact: 2 means the 2000s, 0 the 1900s.
        check(
            &build("001205000001", "050315", 'M', "300315", "TRAN", "BAO"),
            Ok("001205000001|2005-03-15|male|2030-03-15|VNM|TRAN|BAO"),
        );
        check(
            &build("001125000001", "250315", 'F', "<<<<<<", "LE", "THI HOA"),
            Ok("001125000001|1925-03-15|female|-|VNM|LE|THI HOA"),
        );
        // An unknown prefix: the century comes from today's date (2027 would be the future).
        check(
            &build("003027000001", "271231", '<', "371231", "HO", ""),
            Ok("003027000001|1927-12-31|-|2037-12-31|VNM|HO|"),
        );
    }

    #[test]
    fn wrong_shapes() {
        check("", Err(MrzError::LineCount { found: 0 }));
        check(
            "IDVNM0901234562001090123456<<3",
            Err(MrzError::LineCount { found: 1 }),
        );
        let short = EXAMPLE.replacen("<<3\n", "<3\n", 1);
        check(
            &short,
            Err(MrzError::LineLength {
                line: 1,
                column: 30,
                len: 29,
            }),
        );
        let long = EXAMPLE.replacen("<<4\n", "<<<4\n", 1);
        check(
            &long,
            Err(MrzError::LineLength {
                line: 2,
                column: 31,
                len: 31,
            }),
        );
        let lower = EXAMPLE.replace("NGUYEN", "Nguyen");
        check(
            &lower,
            Err(MrzError::InvalidCharacter {
                line: 3,
                column: 2,
                found: 'g',
            }),
        );
        let passport = EXAMPLE.replacen("IDVNM", "P<VNM", 1);
        check(
            &passport,
            Err(MrzError::NotIdentityCard { found: "P<".into() }),
        );
        let foreign = EXAMPLE.replacen("IDVNM", "IDFRA", 1);
        check(
            &foreign,
            Err(MrzError::NotVietnamese {
                found: "FRA".into(),
            }),
        );
        check(&"A".repeat(600), Err(MrzError::TooLong { len: 600 }));
    }

    #[test]
    fn every_check_digit_is_verified() {
        let cd = |field, line, column, expected, found| {
            Err(MrzError::CheckDigit {
                field,
                line,
                column,
                expected,
                found,
            })
        };
        check(
            &EXAMPLE.replacen("4562001", "4567001", 1),
            cd(MrzField::DocumentNumber, 1, 15, '2', '7'),
        );
        check(
            &EXAMPLE.replacen("<<3\n", "<<5\n", 1),
            cd(MrzField::IdNumber, 1, 30, '3', '5'),
        );
        check(
            &EXAMPLE.replacen("9001011M", "9001018M", 1),
            cd(MrzField::BirthDate, 2, 7, '1', '8'),
        );
        check(
            &EXAMPLE.replacen("3001019VNM", "3001012VNM", 1),
            cd(MrzField::ExpiryDate, 2, 15, '9', '2'),
        );
        check(
            &EXAMPLE.replacen("<<<4\n", "<<<7\n", 1),
            cd(MrzField::Composite, 2, 30, '4', '7'),
        );
    }

    #[test]
    fn messages_name_line_and_column() {
        let e = MrzError::LineLength {
            line: 2,
            column: 31,
            len: 31,
        };
        assert_eq!(
            e.message(Lang::Vi),
            "MRZ: dòng 2, cột 31: dòng có 31 ký tự, cần 30."
        );
        assert_eq!(
            e.message(Lang::En),
            "MRZ: line 2, column 31: line has 31 characters, expected 30."
        );
    }

    #[test]
    fn consistency() {
        // Check digits right, but the document number is not the ID's tail.
        let l1 = format!("IDVNM111111111{}001090123456<<3", check_digit("111111111"));
        let mut text = build("001090123456", "900101", 'M', "300101", "A", "B");
        text.replace_range(0..30, &l1);
        // Recompute the composite so only the mismatch is wrong.
        let lines: Vec<&str> = text.lines().collect();
        let composite = format!(
            "{}{}{}{}",
            &lines[0][5..30],
            &lines[1][0..7],
            &lines[1][8..15],
            &lines[1][18..29]
        );
        let l2 = format!("{}{}", &lines[1][..29], check_digit(&composite));
        let text = format!("{}\n{l2}\n{}", lines[0], lines[2]);
        check(&text, Err(MrzError::IdMismatch));
        check(
            &build("001090123456", "900231", 'M', "300101", "A", "B"),
            Err(MrzError::InvalidDate {
                field: MrzField::BirthDate,
                line: 2,
                column: 1,
            }),
        );
        check(
            &build("001090123456", "900101", 'X', "300101", "A", "B"),
            Err(MrzError::InvalidSex { found: 'X' }),
        );
    }

    fn valid_parts() -> impl Strategy<Value = (String, String, char, String, String, String)> {
        (
            prop::sample::select(vec!["001", "079", "048", "101"]),
            0u8..10,
            "[0-9]{8}",
            (0u32..100, 1u8..13, 1u8..29),
            prop::sample::select(vec!['M', 'F', '<']),
            (0u32..100, 1u8..13, 1u8..29),
            "[A-Z]{1,8}",
            "[A-Z]{1,6}( [A-Z]{1,6}){0,1}",
        )
            .prop_map(|(p, g, rest, (by, bm, bd), sex, (ey, em, ed), s, n)| {
                let birth = format!("{by:02}{bm:02}{bd:02}");
                let id = format!("{p}{g}{:02}{}", by, &rest[..6]);
                let expiry = format!("{ey:02}{em:02}{ed:02}");
                (id, birth, sex, expiry, s, n)
            })
    }

    proptest! {
        #[test]
        fn never_panics(s in any::<String>()) {
            let _ = parse_mrz_at(&s, TODAY);
        }

        #[test]
        fn never_panics_on_mrz_alphabet(s in "[A-Z0-9<\n]{0,100}") {
            let _ = parse_mrz_at(&s, TODAY);
        }

        #[test]
        fn valid_mrz_round_trips((id, birth, sex, expiry, surname, given) in valid_parts()) {
            let text = build(&id, &birth, sex, &expiry, &surname, &given);
            let d = parse_mrz_at(&text, TODAY).map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
            prop_assert_eq!(&d.id_number, &id);
            prop_assert_eq!(&d.document_number, &id[3..]);
            prop_assert_eq!(d.birth_date.to_string().replace('-', "")[2..].to_owned(), birth);
            prop_assert!(d.birth_date <= TODAY);
            prop_assert_eq!(d.sex, Sex::parse(match sex { 'M' => "male", 'F' => "female", _ => "" }));
            prop_assert_eq!(d.expiry_date.map(|x| x.to_string().replace('-', "")[2..].to_owned()), Some(expiry));
            prop_assert_eq!(d.surname, surname);
            prop_assert_eq!(d.given_names, given);
        }

        #[test]
        fn one_changed_character_is_detected(
            (id, birth, sex, expiry, surname, given) in valid_parts(),
            pos in 0usize..60,
            replacement in prop::sample::select(('0'..='9').collect::<Vec<_>>()),
        ) {
            let text = build(&id, &birth, sex, &expiry, &surname, &given);
            // Lines 1 and 2 carry the data the check digits protect; line 3 (the name) has none.
            let (line, col) = (pos / 30, pos % 30);
            // ICAO 9303 leaves the document code's second letter and the nationality unprotected.
            prop_assume!(!(line == 0 && col == 1 || line == 1 && (15..18).contains(&col)));
            let mut lines: Vec<Vec<char>> = text.lines().map(|l| l.chars().collect()).collect();
            prop_assume!(lines[line][col] != replacement);
            // `<` and `0` both count 0 in a check digit: ICAO 9303 cannot tell them apart.
            prop_assume!(!(lines[line][col] == '<' && replacement == '0'));
            lines[line][col] = replacement;
            let changed: Vec<String> = lines.iter().map(|l| l.iter().collect()).collect();
            let result = parse_mrz_at(&changed.join("\n"), TODAY);
            prop_assert!(result.is_err(), "{} parsed", changed.join("\n"));
        }
    }
}
