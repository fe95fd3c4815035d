//! Code newtypes: a value of one of these has the right shape; whether it names a row is a
//! lookup in [`crate::reference`].

use std::fmt;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// Which kind of code a [`CodeError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeKind {
    /// A current province code, 3 digits.
    Province,
    /// A commune code, 5 digits.
    Commune,
    /// An ethnic group code, 2 digits.
    EthnicGroup,
    /// A religion code, 2 digits.
    Religion,
    /// An ISO 3166-1 alpha-3 country code.
    Country,
}

impl CodeKind {
    fn expected(self) -> &'static str {
        match self {
            CodeKind::Province => "3 digits",
            CodeKind::Commune => "5 digits",
            CodeKind::EthnicGroup | CodeKind::Religion => "2 digits",
            CodeKind::Country => "3 capital letters A-Z",
        }
    }
}

impl fmt::Display for CodeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CodeKind::Province => "province code",
            CodeKind::Commune => "commune code",
            CodeKind::EthnicGroup => "ethnic group code",
            CodeKind::Religion => "religion code",
            CodeKind::Country => "country code",
        })
    }
}

/// A string that does not have the shape of a code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a valid {kind} ({})", kind.expected())]
pub struct CodeError {
    /// The kind of code expected.
    pub kind: CodeKind,
    /// What was given.
    pub value: String,
}

/// Parses exactly `width` ASCII digits; leading zeros are part of the code, so "44" is not "044".
fn digits(raw: &str, width: usize, kind: CodeKind) -> Result<u32, CodeError> {
    let error = || CodeError {
        kind,
        value: raw.to_owned(),
    };
    if raw.len() != width || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(error());
    }
    raw.parse().map_err(|_| error())
}

macro_rules! digit_code {
    ($(#[$doc:meta])* $name:ident($int:ty), $kind:expr, $width:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name($int);

        impl $name {
            /// Parses the code from exactly its number of digits, leading zeros included.
            pub fn parse(raw: &str) -> Result<$name, CodeError> {
                let value = digits(raw, $width, $kind)?;
                <$int>::try_from(value).map($name).map_err(|_| CodeError {
                    kind: $kind,
                    value: raw.to_owned(),
                })
            }

            /// The code as a number (without its leading zeros).
            pub fn value(self) -> $int {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:0width$}", self.0, width = $width)
            }
        }

        impl std::str::FromStr for $name {
            type Err = CodeError;
            fn from_str(raw: &str) -> Result<$name, CodeError> {
                $name::parse(raw)
            }
        }

        // Codes travel as their zero-padded strings, exactly as written on forms.
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<$name, D::Error> {
                let raw = String::deserialize(deserializer)?;
                $name::parse(&raw).map_err(de::Error::custom)
            }
        }
    };
}

digit_code!(
    /// A current (since 2025-07-01) province code, e.g. `044` (Quảng Trị). Not an ID prefix.
    ProvinceCode(u16),
    CodeKind::Province,
    3
);
digit_code!(
    /// A commune code, e.g. `00070` (Phường Hoàn Kiếm).
    CommuneCode(u32),
    CodeKind::Commune,
    5
);
digit_code!(
    /// An ethnic group code of QĐ 121-TCTK/PPCĐ, e.g. `01` (Kinh).
    EthnicGroupCode(u8),
    CodeKind::EthnicGroup,
    2
);
digit_code!(
    /// A religion code of QĐ 1019/QĐ-TCTK, e.g. `01` (Phật giáo); `00` is none.
    ReligionCode(u8),
    CodeKind::Religion,
    2
);

/// An ISO 3166-1 alpha-3 country code, e.g. `VNM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CountryCode([u8; 3]);

impl CountryCode {
    /// Parses three capital ASCII letters.
    pub fn parse(raw: &str) -> Result<CountryCode, CodeError> {
        let error = || CodeError {
            kind: CodeKind::Country,
            value: raw.to_owned(),
        };
        let bytes: [u8; 3] = raw.as_bytes().try_into().map_err(|_| error())?;
        if !bytes.iter().all(u8::is_ascii_uppercase) {
            return Err(error());
        }
        Ok(CountryCode(bytes))
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0
            .iter()
            .try_for_each(|&b| fmt::Write::write_char(f, char::from(b)))
    }
}

impl std::str::FromStr for CountryCode {
    type Err = CodeError;
    fn from_str(raw: &str) -> Result<CountryCode, CodeError> {
        CountryCode::parse(raw)
    }
}

impl Serialize for CountryCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CountryCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<CountryCode, D::Error> {
        let raw = String::deserialize(deserializer)?;
        CountryCode::parse(&raw).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Result<&str, &str>) {
        let got = match input.split_once(':') {
            Some(("province", raw)) => ProvinceCode::parse(raw).map(|c| c.to_string()),
            Some(("commune", raw)) => CommuneCode::parse(raw).map(|c| c.to_string()),
            Some(("ethnic", raw)) => EthnicGroupCode::parse(raw).map(|c| c.to_string()),
            Some(("religion", raw)) => ReligionCode::parse(raw).map(|c| c.to_string()),
            Some(("country", raw)) => CountryCode::parse(raw).map(|c| c.to_string()),
            _ => panic!("bad test input {input}"),
        };
        assert_eq!(
            got.map_err(|e| e.to_string()),
            expected.map(str::to_owned).map_err(str::to_owned),
            "{input}"
        );
    }

    #[test]
    fn codes_keep_their_width() {
        check("province:044", Ok("044"));
        check(
            "province:44",
            Err("\"44\" is not a valid province code (3 digits)"),
        );
        check(
            "province:0440",
            Err("\"0440\" is not a valid province code (3 digits)"),
        );
        check(
            "province:+44",
            Err("\"+44\" is not a valid province code (3 digits)"),
        );
        check(
            "province:٠٤٤",
            Err("\"٠٤٤\" is not a valid province code (3 digits)"),
        );
        check("commune:00070", Ok("00070"));
        check(
            "commune:70",
            Err("\"70\" is not a valid commune code (5 digits)"),
        );
        check("ethnic:01", Ok("01"));
        check(
            "ethnic:1",
            Err("\"1\" is not a valid ethnic group code (2 digits)"),
        );
        check("religion:00", Ok("00"));
        check("country:VNM", Ok("VNM"));
        check(
            "country:vnm",
            Err("\"vnm\" is not a valid country code (3 capital letters A-Z)"),
        );
        check(
            "country:VN",
            Err("\"VN\" is not a valid country code (3 capital letters A-Z)"),
        );
        check(
            "country:ÀB",
            Err("\"ÀB\" is not a valid country code (3 capital letters A-Z)"),
        );
    }
}
