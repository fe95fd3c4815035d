//! Issue 4: a panic that carries a person's record — `panic!("{input:?}")`, a failed
//! `assert_eq!` between two records, `unwrap` on a `Result` holding one — prints none of
//! their data. The panic messages are caught by a panic hook (one test in this binary, so no
//! other test's panic can land in the hook).

mod redaction_sample;

use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

use ghidanh_record::{EnrollmentInput, ValidRecord};
use redaction_sample::{assert_no_digits, assert_no_personal_data, person, today};

/// A call that hands the input back in its error, as a refusal might.
fn refuse(input: &EnrollmentInput) -> Result<(), Box<EnrollmentInput>> {
    Err(Box::new(input.clone()))
}

/// A call that returns the record.
fn accept(record: &ValidRecord) -> Result<ValidRecord, ()> {
    Ok(record.clone())
}

/// One caught panic: the hook's full text (location and message) and the message alone.
struct Caught {
    full: String,
    message: String,
}

#[test]
fn a_panic_carrying_personal_data_shows_none_of_it() {
    let input = person();
    let other = EnrollmentInput {
        birth_name: "Đặng Thuỳ Trâm".into(),
        personal_id: "034190000999".into(),
        ..person()
    };
    let record = ValidRecord::validate(&input, today()).unwrap();
    let other_record = ValidRecord::validate(&other, today()).unwrap();

    let caught: Arc<Mutex<Vec<Caught>>> = Arc::default();
    let sink = Arc::clone(&caught);
    let previous = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        sink.lock().unwrap().push(Caught {
            full: info.to_string(),
            message,
        });
    }));
    type Case<'a> = (&'a str, Box<dyn Fn() + 'a>);
    let cases: Vec<Case> = vec![
        (
            "panic! with {:?}",
            Box::new(|| panic!("draft refused: {input:?}")),
        ),
        (
            "panic! with {:#?}",
            Box::new(|| panic!("draft refused: {input:#?}")),
        ),
        (
            "assert_eq! of two inputs",
            Box::new(|| assert_eq!(input, other)),
        ),
        (
            "assert_ne! of one input",
            Box::new(|| assert_ne!(input, input.clone(), "{other:?}")),
        ),
        ("unwrap of Err(input)", Box::new(|| refuse(&input).unwrap())),
        (
            "expect_err of Ok(record)",
            Box::new(|| {
                accept(&record).expect_err("a refusal");
            }),
        ),
        (
            "assert_eq! of two records",
            Box::new(|| assert_eq!(record, other_record, "{:?}", record.father())),
        ),
    ];
    let outcomes: Vec<bool> = cases
        .iter()
        .map(|(_, case)| panic::catch_unwind(AssertUnwindSafe(case)).is_err())
        .collect();
    panic::set_hook(previous);

    let caught = caught.lock().unwrap();
    assert_eq!(caught.len(), cases.len(), "one message per case");
    for (((what, _), panicked), c) in cases.iter().zip(outcomes).zip(caught.iter()) {
        assert!(panicked, "{what} did not panic");
        // The value really is in the message (as its redacted Debug).
        assert!(
            c.message.contains("EnrollmentInput {")
                || c.message.contains("ValidRecord {")
                || c.message.contains("PersonRef {"),
            "{what}: {}",
            c.full
        );
        for data in [&input, &other, &record.to_input(), &other_record.to_input()] {
            assert_no_personal_data(what, &c.full, data);
        }
        // The location has line numbers; the message itself has no digit at all.
        assert_no_digits(what, &c.message);
    }
}
