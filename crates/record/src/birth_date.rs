use time::{Date, Month};

use crate::{Field, FieldError, Rule};

/// A full date of birth, 1900-01-01 up to today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BirthDate(Date);

impl BirthDate {
    /// Parses `YYYY-MM-DD` and checks it is not before 1900 nor after `today`.
    pub fn parse(raw: &str, today: Date) -> Result<BirthDate, FieldError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(FieldError::new(Field::DateOfBirth, Rule::Required));
        }
        let date = parse_iso_date(raw)
            .ok_or_else(|| FieldError::new(Field::DateOfBirth, Rule::InvalidDate))?;
        if date.year() < 1900 {
            return Err(FieldError::new(Field::DateOfBirth, Rule::DateTooEarly));
        }
        if date > today {
            return Err(FieldError::new(Field::DateOfBirth, Rule::DateInFuture));
        }
        Ok(BirthDate(date))
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.0.year()
    }

    /// The date.
    pub fn date(self) -> Date {
        self.0
    }

    /// `YYYY-MM-DD`.
    pub fn to_iso(self) -> String {
        format!(
            "{:04}-{:02}-{:02}",
            self.0.year(),
            u8::from(self.0.month()),
            self.0.day()
        )
    }
}

/// Strict `YYYY-MM-DD`: four-digit year, two-digit month and day, a real calendar day.
fn parse_iso_date(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let year = i32::try_from(num(0..4)?).ok()?;
    let month = Month::try_from(u8::try_from(num(5..7)?).ok()?).ok()?;
    let day = u8::try_from(num(8..10)?).ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 28);

    fn check(raw: &str, expected: Result<&str, Rule>) {
        let got = BirthDate::parse(raw, TODAY)
            .map(|d| d.to_iso())
            .map_err(|e| e.rule);
        assert_eq!(got, expected.map(str::to_owned), "{raw:?}");
    }

    #[test]
    fn dates() {
        check("1990-01-31", Ok("1990-01-31"));
        check(" 2000-02-29 ", Ok("2000-02-29"));
        check("2026-11-28", Ok("2026-11-28"));
        check("", Err(Rule::Required));
        check("1900-02-29", Err(Rule::InvalidDate));
        check("1990-13-01", Err(Rule::InvalidDate));
        check("1990-1-31", Err(Rule::InvalidDate));
        check("31/01/1990", Err(Rule::InvalidDate));
        check("+990-01-31", Err(Rule::InvalidDate));
        check("１９９０-01-31", Err(Rule::InvalidDate));
        check("1899-12-31", Err(Rule::DateTooEarly));
        check("2026-11-29", Err(Rule::DateInFuture));
    }
}
