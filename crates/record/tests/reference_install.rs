//! Installing reference updates changes what lookups and validation answer, and which versions
//! are reported. A test binary of its own: installing swaps process-wide tables, which the
//! unit tests (in another process) read as embedded. One test, steps in order, for the same
//! reason.

use ghidanh_record::reference::{self, is_newer, prepare, List, ListUpdate, ReferenceError};
use ghidanh_record::{AddressInput, EnrollmentInput, ValidRecord};

const COMMUNES: &str = include_str!("../../../schema/reference/communes.tsv");
const PROVINCES: &str = include_str!("../../../schema/reference/provinces.tsv");
const NEW_VERSION: &str = "vietnam-provinces-2026.1.0";

/// The embedded communes with the version changed and `edit` applied to the rows.
fn communes(version: &str, edit: impl Fn(&str) -> Option<String>) -> String {
    COMMUNES
        .lines()
        .filter_map(|line| {
            if line.starts_with("# version:") {
                Some(format!("# version: {version}"))
            } else if line.starts_with('#') {
                Some(line.to_owned())
            } else {
                edit(line)
            }
        })
        .map(|line| line + "\n")
        .collect()
}

fn update(list: List, version: &str, tsv: String) -> ListUpdate {
    ListUpdate {
        list,
        version: version.to_owned(),
        tsv,
    }
}

fn living_in(commune: &str) -> EnrollmentInput {
    EnrollmentInput {
        birth_name: "Hoàng Thị Lan".into(),
        date_of_birth: "1987-09-02".into(),
        sex: "female".into(),
        personal_id: "036187004512".into(),
        permanent_residence: AddressInput {
            province: "001".into(),
            commune: commune.into(),
            street: "Số 1 Hàng Bạc".into(),
        },
        ..Default::default()
    }
}

fn valid(input: &EnrollmentInput) -> bool {
    ValidRecord::validate(input, time::macros::date!(2026 - 12 - 01)).is_ok()
}

#[test]
fn installed_updates_change_lookups_validation_and_versions() {
    let embedded = reference::versions();
    let old = embedded.get("communes").unwrap();
    assert!(is_newer(NEW_VERSION, old));
    assert!(reference::commune("99001").is_none());
    assert!(!valid(&living_in("99001")));
    assert!(valid(&living_in("00004")));

    // A split: Ba Đình (00004) gives way to Ba Đình Mới (99001), in the same province, so the
    // province's commune count still holds and communes alone may change.
    let split = communes(NEW_VERSION, |line| {
        Some(if line.starts_with("00004\t") {
            "99001\tBa Đình Mới\tphường\t001".to_owned()
        } else {
            line.to_owned()
        })
    });

    // Refused, and nothing changes: an extra commune without the provinces that count it.
    let extra = communes(NEW_VERSION, |line| {
        Some(if line.starts_with("00004\t") {
            format!("{line}\n99002\tTây Hồ Mới\tphường\t001")
        } else {
            line.to_owned()
        })
    });
    assert!(matches!(
        prepare(&[update(List::Communes, NEW_VERSION, extra.clone())]),
        Err(ReferenceError::CommuneCount { .. })
    ));
    // ... a text whose version line is not what was published ...
    assert!(matches!(
        prepare(&[update(
            List::Communes,
            "vietnam-provinces-2027.1.0",
            split.clone()
        )]),
        Err(ReferenceError::VersionMismatch { .. })
    ));
    // ... a bad line, a commune in no province, the same list twice, an oversized text.
    let bad_line = communes(NEW_VERSION, |line| {
        Some(line.replacen("\tphường\t", "\tquận\t", 1))
    });
    assert!(matches!(
        prepare(&[update(List::Communes, NEW_VERSION, bad_line)]),
        Err(ReferenceError::Line { .. })
    ));
    let nowhere = communes(NEW_VERSION, |line| {
        Some(if line.starts_with("00004\t") {
            "99001\tBa Đình Mới\tphường\t002".to_owned()
        } else {
            line.to_owned()
        })
    });
    assert!(matches!(
        prepare(&[update(List::Communes, NEW_VERSION, nowhere)]),
        Err(ReferenceError::UnknownProvince { .. })
    ));
    assert!(matches!(
        prepare(&[
            update(List::Communes, NEW_VERSION, split.clone()),
            update(List::Communes, NEW_VERSION, split.clone()),
        ]),
        Err(ReferenceError::ListTwice { .. })
    ));
    let huge = format!("{split}{}", "#\n".repeat(reference::MAX_LIST_BYTES));
    assert!(matches!(
        prepare(&[update(List::Communes, NEW_VERSION, huge)]),
        Err(ReferenceError::TooLarge { .. })
    ));
    assert!(std::ptr::eq(reference::versions(), embedded));
    assert!(reference::commune("99001").is_none());

    // Accepted: prepared first (nothing changes yet), then installed.
    let prepared = prepare(&[update(List::Communes, NEW_VERSION, split.clone())]).unwrap();
    assert!(prepared.changes_anything());
    assert_eq!(prepared.versions().get("communes"), Some(NEW_VERSION));
    assert!(reference::commune("99001").is_none());
    let installed = prepared.install();
    assert_eq!(installed.get("communes"), Some(NEW_VERSION));
    assert_eq!(reference::versions().get("communes"), Some(NEW_VERSION));
    assert_eq!(
        reference::versions().get("provinces"),
        embedded.get("provinces")
    );
    assert_eq!(reference::commune("99001").unwrap().name, "Ba Đình Mới");
    assert!(reference::commune("00004").is_none());
    assert!(valid(&living_in("99001")));
    assert!(!valid(&living_in("00004")));
    assert_eq!(reference::check(), Ok(()));

    // The same text again (the kit's next unlock) changes nothing and leaks nothing.
    let again = prepare(&[update(List::Communes, NEW_VERSION, split.clone())]).unwrap();
    assert!(!again.changes_anything());
    assert!(std::ptr::eq(again.install(), installed));

    // Provinces and communes that change together: one more commune in Hà Nội, counted.
    let v2 = "vietnam-provinces-2026.2.0";
    let provinces: String = PROVINCES
        .lines()
        .map(|line| {
            if line.starts_with("# version:") {
                format!("# version: {v2}\n")
            } else if let Some(rest) = line.strip_prefix("001\tHà Nội\tthành phố\t") {
                let count: u16 = rest.parse().unwrap();
                format!("001\tHà Nội\tthành phố\t{}\n", count + 1)
            } else {
                format!("{line}\n")
            }
        })
        .collect();
    let extra_v2 = extra.replace(NEW_VERSION, v2);
    assert!(matches!(
        prepare(&[update(List::Provinces, v2, provinces.clone())]),
        Err(ReferenceError::CommuneCount { .. })
    ));
    prepare(&[
        update(List::Provinces, v2, provinces),
        update(List::Communes, v2, extra_v2),
    ])
    .unwrap()
    .install();
    assert_eq!(reference::versions().get("provinces"), Some(v2));
    assert_eq!(reference::versions().get("communes"), Some(v2));
    assert!(reference::commune("99002").is_some());
    // Back to the embedded Ba Đình: v2 was made from the unsplit list.
    assert!(reference::commune("00004").is_some());
    assert_eq!(reference::communes_of("001").count(), 127);
    assert_eq!(reference::check(), Ok(()));
}
