//! The thief test: someone takes the laptop with the app closed and reads every file of the
//! vault folder. None of the personal data typed or captured may be in any of them, in any
//! Unicode form, nor any piece of an image.

mod common;

use std::path::Path;

use common::{all_files, contains, pattern, Windows};
use ghidanh_record::text::{normalize, search_key};
use ghidanh_record::{EnrollmentInput, PersonInput};
use ghidanh_vault::{
    FingerPosition, KdfParams, MediaKind, Role, Vault, VaultError, DB_FILE, KEYS_FILE,
    UNLOCK_FAILURES_FILE,
};

const SUPERVISOR_PASS: &str = "mật khẩu giám sát 1";
const OPERATOR_PASS: &str = "mật khẩu nhân viên 2";

/// Names as typed on a Windows keyboard (NFC) and with Unikey's "Unicode tổ hợp" or on macOS
/// (NFD), written out by hand so the test does not trust the normaliser it would be testing.
const NAMES: [(&str, &str); 4] = [
    (
        "Nguyễn Thị Hoà",
        "Nguye\u{302}\u{303}n Thi\u{323} Hoa\u{300}",
    ),
    ("Y Bhin Niê", "Y Bhin Nie\u{302}"),
    ("H'Hen Niê", "H'Hen Nie\u{302}"),
    (
        "Đặng Thuỳ Dương",
        "Đa\u{323}\u{306}ng Thuy\u{300} Du\u{31b}o\u{31b}ng",
    ),
];
const OPERATOR_NAME: (&str, &str) = ("Lê Thị Hồng", "Le\u{302} Thi\u{323} Ho\u{302}\u{300}ng");
const ID_NUMBERS: [&str; 3] = ["079190123456", "001203004567", "038095001234"];
const PHONES: [&str; 3] = ["0912345678", "+84987654321", "0283 829 1234"];
/// Image bytes: any 32 bytes of them in a file is a leak.
const IMAGE_LEN: usize = 4096;
const WINDOW: usize = 32;

fn fast() -> KdfParams {
    KdfParams::insecure_fast_for_tests()
}

fn person(i: usize, nfd: bool) -> EnrollmentInput {
    let (nfc_name, nfd_name) = NAMES[i];
    let name = if nfd { nfd_name } else { nfc_name };
    EnrollmentInput {
        birth_name: name.into(),
        other_name: format!("{name} khác"),
        date_of_birth: "1990-04-30".into(),
        sex: "female".into(),
        personal_id: ID_NUMBERS[i % ID_NUMBERS.len()].into(),
        phone: PHONES[i % PHONES.len()].into(),
        father: PersonInput {
            name: NAMES[(i + 1) % NAMES.len()].0.into(),
            personal_id: ID_NUMBERS[(i + 1) % ID_NUMBERS.len()].into(),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Every way a value could appear in a file: both normal forms, the stored search key, and
/// the JSON fragment a record would hold.
fn needles() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let mut add = |label: String, bytes: &[u8]| out.push((label, bytes.to_vec()));
    for (nfc, nfd) in NAMES.iter().chain([&OPERATOR_NAME]) {
        add(format!("{nfc} (NFC)"), nfc.as_bytes());
        add(format!("{nfc} (NFD)"), nfd.as_bytes());
        add(format!("{nfc} (search key)"), search_key(nfc).as_bytes());
        // The family name alone, where it is distinctive enough not to occur by chance.
        let family = nfc.split(' ').next().unwrap_or(nfc);
        if family.len() >= 5 {
            add(format!("{family} (NFC)"), family.as_bytes());
            let nfd_family = nfd.split(' ').next().unwrap_or(nfd);
            add(format!("{family} (NFD)"), nfd_family.as_bytes());
        }
    }
    for id in ID_NUMBERS {
        add(id.to_owned(), id.as_bytes());
        add(
            format!("personalId JSON {id}"),
            format!("\"personalId\":\"{id}\"").as_bytes(),
        );
    }
    for phone in PHONES {
        add(phone.to_owned(), phone.as_bytes());
        add(
            format!("phone JSON {phone}"),
            format!("\"phone\":\"{phone}\"").as_bytes(),
        );
        let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
        add(format!("{phone} digits"), digits.as_bytes());
    }
    for pass in [SUPERVISOR_PASS, OPERATOR_PASS] {
        add("a passphrase".into(), pass.as_bytes());
    }
    add("1990-04-30".into(), b"1990-04-30");
    add("SQLite header".into(), b"SQLite format 3");
    out
}

/// Every leak found in the vault folder: `(file, what)`.
fn leaks(dir: &Path, image: &Windows) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (file, bytes) in all_files(dir) {
        for (label, needle) in needles() {
            if contains(&bytes, &needle) {
                found.push((file.clone(), label));
            }
        }
        if let Some(at) = image.find_in(&bytes) {
            found.push((file.clone(), format!("image bytes at offset {at}")));
        }
    }
    found
}

fn file_names(dir: &Path) -> Vec<String> {
    all_files(dir).into_iter().map(|(n, _)| n).collect()
}

#[test]
fn the_hand_written_nfd_names_are_nfd_of_the_nfc_ones() {
    for (nfc, nfd) in NAMES.iter().chain([&OPERATOR_NAME]) {
        assert_ne!(nfc, nfd);
        assert_eq!(&normalize(nfd), nfc, "{nfd:?}");
        assert!(nfd
            .chars()
            .all(|c| !matches!(c, 'ễ' | 'ị' | 'à' | 'ê' | 'ặ' | 'ỳ' | 'ư' | 'ơ' | 'ồ')));
    }
}

#[test]
fn a_thief_with_the_closed_vault_finds_no_personal_data_in_any_file() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, supervisor) =
        Vault::create(dir.path(), "Giám sát Trần", SUPERVISOR_PASS, fast()).unwrap();
    // An operator account whose name was typed in NFD.
    vault
        .add_operator(OPERATOR_NAME.1, OPERATOR_PASS, Role::Operator, fast())
        .unwrap();
    let image = pattern(IMAGE_LEN, 0x7468_6965_6621);
    let mut ids = Vec::new();
    for i in 0..NAMES.len() {
        for nfd in [false, true] {
            let id = vault
                .save_draft(None, supervisor.id, &person(i, nfd))
                .unwrap();
            // Saved twice: the WAL then holds an older and a newer copy of the pages.
            vault
                .save_draft(Some(id), supervisor.id, &person(i, nfd))
                .unwrap();
            vault
                .store_media(id, MediaKind::Portrait, "jpeg", &image)
                .unwrap();
            ids.push(id);
        }
    }
    let thumb = FingerPosition::new(1).unwrap();
    vault
        .store_media(ids[0], MediaKind::Finger(thumb), "wsq", &image[1000..])
        .unwrap();
    assert_eq!(
        vault.media(ids[1], MediaKind::Portrait).unwrap().unwrap().1,
        image,
        "the image really is in the vault"
    );
    vault.set_setting("language", "vi").unwrap();
    let windows = Windows::of(&image, WINDOW);

    // While open, the newest pages are in the WAL: SQLCipher encrypts those too.
    assert!(
        file_names(dir.path()).contains(&"vault.db-wal".to_owned()),
        "{:?}",
        file_names(dir.path())
    );
    assert_eq!(leaks(dir.path(), &windows), [] as [(String, String); 0]);

    // The thief's view: the app closed.
    drop(vault);
    let names = file_names(dir.path());
    let allowed = [DB_FILE, KEYS_FILE, "vault.db-wal", "vault.db-shm"];
    assert!(
        names.iter().all(|n| allowed.contains(&n.as_str())),
        "unexpected file in the vault folder: {names:?}"
    );
    assert!(names.contains(&DB_FILE.to_owned()) && names.contains(&KEYS_FILE.to_owned()));
    let total: usize = all_files(dir.path()).iter().map(|(_, b)| b.len()).sum();
    assert!(
        total > 8 * IMAGE_LEN,
        "the images must be somewhere: {total} bytes"
    );
    assert_eq!(leaks(dir.path(), &windows), [] as [(String, String); 0]);

    // Someone guesses at the lock screen: the failure count file holds two numbers only.
    assert!(matches!(
        Vault::unlock(dir.path(), "Nguyễn Thị Hoà 079190123456"),
        Err(VaultError::WrongPassphrase)
    ));
    let count = std::fs::read_to_string(dir.path().join(UNLOCK_FAILURES_FILE)).unwrap();
    assert!(
        count.split(' ').count() == 2 && count.chars().all(|c| c.is_ascii_digit() || c == ' '),
        "{count:?}"
    );
    let names = file_names(dir.path());
    assert!(
        names
            .iter()
            .all(|n| allowed.contains(&n.as_str()) || n == UNLOCK_FAILURES_FILE),
        "unexpected file in the vault folder: {names:?}"
    );
    assert_eq!(leaks(dir.path(), &windows), [] as [(String, String); 0]);
}

#[test]
fn the_same_scan_finds_every_kind_of_value_in_a_plain_database() {
    // Proves the scan above can fail: the same values in plain SQLite are all found.
    let dir = tempfile::tempdir().unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("plain.db")).unwrap();
    conn.execute_batch("CREATE TABLE t (v BLOB)").unwrap();
    let image = pattern(IMAGE_LEN, 0x7468_6965_6621);
    let record = serde_json::to_string(&person(0, true)).unwrap();
    for v in [
        record.as_bytes(),
        NAMES[1].0.as_bytes(),
        search_key(NAMES[2].0).as_bytes(),
        &image[77..77 + WINDOW],
    ] {
        conn.execute("INSERT INTO t VALUES (?1)", [v]).unwrap();
    }
    drop(conn);
    let found: Vec<String> = leaks(dir.path(), &Windows::of(&image, WINDOW))
        .into_iter()
        .map(|(_, what)| what)
        .collect();
    for expected in [
        "Nguyễn Thị Hoà (NFD)",
        "079190123456",
        "personalId JSON 079190123456",
        "phone JSON 0912345678",
        "Y Bhin Niê (NFC)",
        "H'Hen Niê (search key)",
        "image bytes at offset",
    ] {
        assert!(
            found.iter().any(|f| f.starts_with(expected)),
            "{expected} not found in {found:?}"
        );
    }
}
