//! What an enrollment is and which Vietnamese rules it obeys.
//!
//! Every validation rule of Ghi Danh lives here, once. The kit's UI, the kit's
//! vault and the registry all ask this crate; none of them re-implements a rule.
//! Errors are data ([`FieldError`]: a field and a rule) and are rendered in the
//! operator's language by [`FieldError::message`].
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod birth_date;
mod birth_name;
mod enrollment;
mod error;
mod lang;
mod personal_id;
pub mod prefill;
pub mod reference;
mod sex;
pub mod text;

pub use birth_date::BirthDate;
pub use birth_name::BirthName;
pub use enrollment::{EnrollmentInput, ValidRecord};
pub use error::{Field, FieldError, Rule};
pub use lang::Lang;
pub use personal_id::PersonalId;
pub use reference::{legacy_province_name, LegacyProvince};
pub use sex::Sex;
