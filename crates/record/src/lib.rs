//! What an enrollment is and which Vietnamese rules it obeys.
//!
//! Every validation rule of Ghi Danh lives here, once. The kit's UI, the kit's
//! vault and the registry all ask this crate; none of them re-implements a rule.
//! Errors are data ([`FieldError`]: a field and a rule) and are rendered in the
//! operator's language by [`FieldError::message`].
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod age;
mod biometrics;
mod birth_date;
mod birth_name;
mod enrollment;
mod error;
pub mod fields;
mod json;
mod lang;
mod personal_id;
pub mod prefill;
pub mod reference;
mod sex;
pub mod text;

pub use age::BiometricRequirement;
pub use biometrics::{forbidden_biometrics, missing_biometrics, BiometricsTaken, FINGERS};
pub use birth_date::PartialDate;
pub use birth_name::BirthName;
pub use enrollment::{
    AddressInput, Consent, ConsentInput, EnrollmentInput, LegalCapacity, PersonInput, PersonRef,
    PreviousCard, PreviousCardInput, Representative, RepresentativeInput, ValidRecord,
};
pub use error::{
    AddressPart, CardPart, CodeList, ConsentPart, Field, FieldError, PersonPart, Relative,
    RepresentativePart, Residence, Rule,
};
pub use lang::Lang;
pub use personal_id::PersonalId;
pub use reference::{legacy_province_name, LegacyProvince};
pub use sex::Sex;
