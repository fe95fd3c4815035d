use time::{Date, Month};

use crate::{Field, FieldError, Rule};

/// Earliest year a date on the form may be in: the population database starts no earlier.
const EARLIEST_YEAR: i32 = 1900;

/// A date that may be known only to the year or to the month (elderly people often know only a year).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PartialDate {
    /// Only the year is known: `YYYY`.
    Year(i32),
    /// Year and month are known: `YYYY-MM`.
    YearMonth(i32, Month),
    /// The whole date: `YYYY-MM-DD`.
    Full(Date),
}

impl PartialDate {
    /// Parses `YYYY`, `YYYY-MM` or `YYYY-MM-DD` and checks it lies between 1900 and `today`.
    ///
    /// Empty is [`Rule::Required`]; callers of optional dates check emptiness first.
    pub fn parse(raw: &str, field: Field, today: Date) -> Result<PartialDate, FieldError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(FieldError::new(field, Rule::Required));
        }
        let date = parse_partial(raw).ok_or_else(|| FieldError::new(field, Rule::InvalidDate))?;
        if date.year() < EARLIEST_YEAR {
            return Err(FieldError::new(field, Rule::DateTooEarly));
        }
        // A partial date is in the future only when all of it is: "2026" is fine all through 2026.
        if date.first_day() > today {
            return Err(FieldError::new(field, Rule::DateInFuture));
        }
        Ok(date)
    }

    /// Parses a date that must be whole (`YYYY-MM-DD`), with the same bounds as [`PartialDate::parse`].
    pub fn parse_full(raw: &str, field: Field, today: Date) -> Result<Date, FieldError> {
        match PartialDate::parse(raw, field, today)? {
            PartialDate::Full(d) => Ok(d),
            PartialDate::Year(_) | PartialDate::YearMonth(..) => {
                Err(FieldError::new(field, Rule::InvalidDate))
            }
        }
    }

    /// The year.
    pub fn year(self) -> i32 {
        match self {
            PartialDate::Year(y) | PartialDate::YearMonth(y, _) => y,
            PartialDate::Full(d) => d.year(),
        }
    }

    /// The earliest day the date can be.
    pub fn first_day(self) -> Date {
        match self {
            PartialDate::Year(y) => first_of(y, Month::January),
            PartialDate::YearMonth(y, m) => first_of(y, m),
            PartialDate::Full(d) => d,
        }
    }

    /// The latest day the date can be.
    pub fn last_day(self) -> Date {
        match self {
            PartialDate::Year(y) => last_of(y, Month::December),
            PartialDate::YearMonth(y, m) => last_of(y, m),
            PartialDate::Full(d) => d,
        }
    }

    /// Whole years of age on `today`, counted from the latest possible birthday.
    ///
    /// With a partial date the youngest possible age is taken, so a child is never treated
    /// as older than they may be (a representative is asked for, biometrics are not taken).
    pub fn age_on(self, today: Date) -> i32 {
        let born = self.last_day();
        let before_birthday =
            (u8::from(today.month()), today.day()) < (u8::from(born.month()), born.day());
        (today.year() - born.year() - i32::from(before_birthday)).max(0)
    }

    /// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, as it was given.
    pub fn to_iso(self) -> String {
        match self {
            PartialDate::Year(y) => format!("{y:04}"),
            PartialDate::YearMonth(y, m) => format!("{y:04}-{:02}", u8::from(m)),
            PartialDate::Full(d) => {
                format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
            }
        }
    }
}

fn first_of(year: i32, month: Month) -> Date {
    // Years come from four ASCII digits, so every first of a month exists; MIN is unreachable.
    Date::from_calendar_date(year, month, 1).unwrap_or(Date::MIN)
}

fn last_of(year: i32, month: Month) -> Date {
    let days = time::util::days_in_month(month, year);
    Date::from_calendar_date(year, month, days).unwrap_or(Date::MIN)
}

/// Strict `YYYY[-MM[-DD]]`: four-digit year, two-digit month and day, a real calendar day.
fn parse_partial(s: &str) -> Option<PartialDate> {
    let num = |part: &str| -> Option<u32> {
        if part.is_empty() || !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let mut parts = s.split('-');
    let year_part = parts.next()?;
    if year_part.len() != 4 {
        return None;
    }
    let year = i32::try_from(num(year_part)?).ok()?;
    let Some(month_part) = parts.next() else {
        return Some(PartialDate::Year(year));
    };
    if month_part.len() != 2 {
        return None;
    }
    let month = Month::try_from(u8::try_from(num(month_part)?).ok()?).ok()?;
    let Some(day_part) = parts.next() else {
        return Some(PartialDate::YearMonth(year, month));
    };
    if day_part.len() != 2 || parts.next().is_some() {
        return None;
    }
    let day = u8::try_from(num(day_part)?).ok()?;
    Date::from_calendar_date(year, month, day)
        .ok()
        .map(PartialDate::Full)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 28);

    fn check(raw: &str, expected: Result<&str, Rule>) {
        let got = PartialDate::parse(raw, Field::DateOfBirth, TODAY)
            .map(|d| d.to_iso())
            .map_err(|e| e.rule);
        assert_eq!(got, expected.map(str::to_owned), "{raw:?}");
    }

    #[test]
    fn dates() {
        check("1990-01-31", Ok("1990-01-31"));
        check(" 2000-02-29 ", Ok("2000-02-29"));
        check("2026-11-28", Ok("2026-11-28"));
        check("1945", Ok("1945"));
        check("1945-08", Ok("1945-08"));
        check("2026", Ok("2026"));
        check("2026-11", Ok("2026-11"));
        check("", Err(Rule::Required));
        check("1900-02-29", Err(Rule::InvalidDate));
        check("2005-02-30", Err(Rule::InvalidDate));
        check("1990-13-01", Err(Rule::InvalidDate));
        check("1990-13", Err(Rule::InvalidDate));
        check("1990-00", Err(Rule::InvalidDate));
        check("1990-1-31", Err(Rule::InvalidDate));
        check("1990-01-31-", Err(Rule::InvalidDate));
        check("1990-", Err(Rule::InvalidDate));
        check("31/01/1990", Err(Rule::InvalidDate));
        check("+990-01-31", Err(Rule::InvalidDate));
        check("１９９０-01-31", Err(Rule::InvalidDate));
        check("90", Err(Rule::InvalidDate));
        check("1899-12-31", Err(Rule::DateTooEarly));
        check("1899", Err(Rule::DateTooEarly));
        check("2026-11-29", Err(Rule::DateInFuture));
        check("2026-12", Err(Rule::DateInFuture));
        check("2027", Err(Rule::DateInFuture));
    }

    fn check_age(raw: &str, expected: i32) {
        let d = PartialDate::parse(raw, Field::DateOfBirth, TODAY).unwrap();
        assert_eq!(d.age_on(TODAY), expected, "{raw}");
    }

    #[test]
    fn ages() {
        check_age("2012-11-28", 14);
        check_age("2012-11-29", 13);
        check_age("2012", 13);
        check_age("2012-11", 13);
        check_age("2012-10", 14);
        check_age("1990-05-17", 36);
        check_age("2026-11-28", 0);
        // Born on 29 February: a year older on 1 March of a common year.
        let d = PartialDate::Full(date!(2012 - 02 - 29));
        assert_eq!(d.age_on(date!(2026 - 02 - 28)), 13);
        assert_eq!(d.age_on(date!(2026 - 03 - 01)), 14);
    }
}
