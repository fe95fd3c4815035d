//! Reading an enrollment from outside JSON (`ghidanh record validate`, imports).
//!
//! serde's derived `Deserialize` also reads a struct from a JSON *array*, field by field in
//! declaration order: `["Nguyễn Văn An", "", "001090123456", …]` would be a record. Nobody
//! writes records that way, and a form whose meaning hangs on field order is one reordering
//! away from putting a name in the ID number; so only objects are records here.

use serde::de::Error as _;
use serde_json::Value;

use crate::EnrollmentInput;

/// The members of a record that are themselves objects (camelCase, as on the wire).
const GROUPS: [&str; 10] = [
    "father",
    "mother",
    "spouse",
    "permanentResidence",
    "temporaryResidence",
    "currentResidence",
    "previousCard",
    "representative",
    "consent",
    // Not a group: kept in the list's length so a new group cannot be forgotten silently.
    "",
];

impl EnrollmentInput {
    /// Parses a record from JSON: an object whose groups are objects; a member given twice,
    /// an unknown member or a wrong type is an error that names it.
    pub fn from_json(bytes: &[u8]) -> Result<EnrollmentInput, serde_json::Error> {
        let input: EnrollmentInput = serde_json::from_slice(bytes)?;
        // Parsed again as a tree only to see its shape: the typed parse above already
        // refused duplicates, unknown members and wrong types with their positions.
        let tree: Value = serde_json::from_slice(bytes)?;
        let Value::Object(members) = &tree else {
            return Err(serde_json::Error::custom(
                "a record must be a JSON object ({…}), not an array or a single value",
            ));
        };
        for group in GROUPS.iter().filter(|g| !g.is_empty()) {
            if let Some(v) = members.get(*group) {
                if !v.is_object() {
                    return Err(serde_json::Error::custom(format!(
                        "`{group}` must be a JSON object ({{…}})"
                    )));
                }
            }
        }
        Ok(input)
    }
}
