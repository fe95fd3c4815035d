use serde::{Deserialize, Serialize};

use crate::Lang;

/// Sex as recorded on the card (the law knows two values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sex {
    /// Nam.
    Male,
    /// Nữ.
    Female,
}

impl Sex {
    /// Parses the wire values "male" / "female".
    pub fn parse(s: &str) -> Option<Sex> {
        match s.trim() {
            "male" => Some(Sex::Male),
            "female" => Some(Sex::Female),
            _ => None,
        }
    }

    /// The wire value.
    pub fn code(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }

    /// The label shown to people.
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Sex::Male, Lang::Vi) => "Nam",
            (Sex::Female, Lang::Vi) => "Nữ",
            (Sex::Male, Lang::En) => "male",
            (Sex::Female, Lang::En) => "female",
        }
    }
}
