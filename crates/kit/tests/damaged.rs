//! A vault file that is damaged, is not a Ghi Danh vault, or belongs to another device: the
//! kit says so with its own code (`vaultCorrupt`), never "internal", and leaves every file
//! exactly as it found it, so support can still recover what was saved.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ghidanh_kit::{EnrollmentInput, KdfParams, Kit, KitConfig, KitError, Lang, SessionState};

const PASS: &str = "mật khẩu 123";

fn config(vault: &Path) -> KitConfig {
    KitConfig {
        data_dir: vault.to_owned(),
        provisioning_file: None,
        kdf: KdfParams::insecure_fast_for_tests(),
        sync: Default::default(),
        idle_lock: Duration::ZERO,
        devices: Default::default(),
    }
}

fn draft() -> EnrollmentInput {
    EnrollmentInput {
        birth_name: "Lê Thị Hồng Gấm".into(),
        ..Default::default()
    }
}

/// A vault with one saved draft, locked (its WAL checkpointed into vault.db).
fn vault_with_a_draft(dir: &Path, name: &str) -> PathBuf {
    let vault = dir.join(name);
    let kit = Kit::new(config(&vault)).unwrap();
    kit.create_operator("Trần Văn Cảnh", PASS, PASS).unwrap();
    kit.save_draft(None, &draft()).unwrap();
    kit.lock().unwrap();
    drop(kit);
    vault
}

/// Unlocks with the right passphrase, expecting `vaultCorrupt`, and checks that nothing
/// was written over, removed, or started afresh in its place.
fn refused_and_left_alone(vault: &Path, what: &str) -> KitError {
    let db = std::fs::read(vault.join("vault.db")).unwrap();
    let keys = std::fs::read(vault.join("vault.keys")).unwrap();
    let kit = Kit::new(config(vault)).unwrap();
    let err = kit.unlock(PASS).unwrap_err();
    assert_eq!(err.code(), "vaultCorrupt", "{what}: {err:?}");
    // Again: the same answer, still no change.
    assert_eq!(
        kit.unlock(PASS).unwrap_err().code(),
        "vaultCorrupt",
        "{what}"
    );
    // The app still sees a vault here (no set-up screen that would start a new one) ...
    assert_eq!(kit.status().unwrap().state, SessionState::Locked, "{what}");
    assert!(matches!(
        kit.create_operator("Người Mới", "12345678", "12345678"),
        Err(KitError::AlreadySetUp)
    ));
    drop(kit);
    // ... and both files are byte for byte what they were.
    assert_eq!(
        std::fs::read(vault.join("vault.db")).unwrap(),
        db,
        "{what}: vault.db changed"
    );
    assert_eq!(
        std::fs::read(vault.join("vault.keys")).unwrap(),
        keys,
        "{what}: vault.keys changed"
    );
    err
}

fn pseudo_random(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            // xorshift64: no dependency, and never a valid SQLite or SQLCipher file.
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect()
}

/// An ordinary, valid, empty SQLite database (one 4096-byte page): the kind of file another
/// program leaves, not a Ghi Danh vault. Written by hand, as the SQLite file format says
/// (sqlite.org/fileformat2.html §1.3), so the test needs no SQLite of its own.
fn plain_sqlite_file() -> Vec<u8> {
    let mut page = vec![0u8; 4096];
    page[..16].copy_from_slice(b"SQLite format 3\0");
    page[16..18].copy_from_slice(&4096u16.to_be_bytes()); // page size
    page[18] = 1; // write version: legacy (rollback journal)
    page[19] = 1; // read version
    page[21] = 64; // max embedded payload fraction
    page[22] = 32; // min embedded payload fraction
    page[23] = 32; // leaf payload fraction
    page[24..28].copy_from_slice(&1u32.to_be_bytes()); // file change counter
    page[28..32].copy_from_slice(&1u32.to_be_bytes()); // database size in pages
    page[44..48].copy_from_slice(&4u32.to_be_bytes()); // schema format 4
    page[56..60].copy_from_slice(&1u32.to_be_bytes()); // text encoding UTF-8
    page[92..96].copy_from_slice(&1u32.to_be_bytes()); // version-valid-for
    page[96..100].copy_from_slice(&3_046_001u32.to_be_bytes()); // SQLite 3.46.1
                                                                // sqlite_master: an empty table b-tree leaf, its cell content area at the page's end.
    page[100] = 0x0d;
    page[105..107].copy_from_slice(&4096u16.to_be_bytes());
    page
}

#[test]
fn a_damaged_first_page_is_vault_corrupt_and_the_files_stay_as_they_were() {
    let dir = tempfile::tempdir().unwrap();
    let vault = vault_with_a_draft(dir.path(), "vault");
    let db = vault.join("vault.db");
    let original = std::fs::read(&db).unwrap();
    let mut damaged = original.clone();
    // Past SQLCipher's 16-byte salt, inside the first page: its HMAC no longer matches.
    for b in &mut damaged[1000..1064] {
        *b = 0;
    }
    std::fs::write(&db, &damaged).unwrap();

    let err = refused_and_left_alone(&vault, "first page overwritten");
    let vi = err.message(Lang::Vi);
    assert!(vi.starts_with("Không mở được dữ liệu trên máy: "), "{vi}");
    assert!(
        vi.contains("vẫn được giữ nguyên; đừng xoá gì, hãy gọi bộ phận hỗ trợ kỹ thuật."),
        "{vi}"
    );
    let en = err.message(Lang::En);
    assert!(
        en.starts_with("The data on this device does not open: "),
        "{en}"
    );
    assert!(
        en.contains("Everything saved is kept; do not delete anything, call technical support."),
        "{en}"
    );
    // The detail (which file, which check) is for the log, never the screen.
    assert!(!vi.contains("vault.") && !en.contains("vault."));
    assert!(err.to_string().contains("vault.db"), "{err}");

    // Support puts the good bytes back (from the operator's untouched file, a backup):
    // everything saved is there.
    std::fs::write(&db, &original).unwrap();
    let kit = Kit::new(config(&vault)).unwrap();
    kit.unlock(PASS).unwrap();
    let list = kit.list().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].input, draft());
}

#[test]
fn a_damaged_page_found_at_unlock_or_later_is_vault_corrupt_and_the_page_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let vault = vault_with_a_draft(dir.path(), "vault");
    let db = vault.join("vault.db");
    let original = std::fs::read(&db).unwrap();
    const PAGE: usize = 4096; // SQLCipher's page size
    let pages = original.len() / PAGE;
    assert!(pages > 4, "{pages} pages");
    let (mut at_unlock, mut later) = (0, 0);
    // Each page but the first in turn: unlock reads some of them, the list others; some
    // are free and never read.
    for page in 1..pages {
        let range = page * PAGE..(page + 1) * PAGE;
        let mut damaged = original.clone();
        for b in &mut damaged[page * PAGE + 1000..page * PAGE + 1064] {
            *b ^= 0x5a;
        }
        std::fs::write(&db, &damaged).unwrap();
        let kit = Kit::new(config(&vault)).unwrap();
        let err = match kit.unlock(PASS) {
            Err(e) => {
                at_unlock += 1;
                e
            }
            Ok(_) => match kit.list() {
                Err(e) => {
                    later += 1;
                    e
                }
                Ok(list) => {
                    assert_eq!(list.len(), 1, "page {page}");
                    continue;
                }
            },
        };
        assert_eq!(err.code(), "vaultCorrupt", "page {page}: {err:?}");
        drop(kit);
        // The damaged page is exactly as damaged as it was: nothing repaired it, rewrote it
        // or cut it off. (Found after the vault opened, the vault's own audit entries of the
        // unlock were committed to sound pages, as for any session.)
        let mut after = std::fs::read(&db).unwrap();
        assert_eq!(after.len(), damaged.len(), "page {page}");
        assert!(
            after[range.clone()] == damaged[range.clone()],
            "page {page} rewritten"
        );
        // With that one page put back, nothing saved is missing and the file is sound.
        after[range.clone()].copy_from_slice(&original[range]);
        std::fs::write(&db, &after).unwrap();
        let (v, _) = ghidanh_vault::Vault::unlock(&vault, PASS).unwrap();
        assert_eq!(v.integrity_check().unwrap(), "ok", "page {page}");
        assert!(v.audit_verify().is_ok(), "page {page}");
        let list = v.list().unwrap();
        assert_eq!(list.len(), 1, "page {page}");
        assert_eq!(list[0].input, draft(), "page {page}");
        v.close().unwrap();
    }
    assert!(
        at_unlock > 0 && later > 0,
        "unlock {at_unlock}, later {later}"
    );
}

#[test]
fn random_bytes_for_either_file_are_vault_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let vault = vault_with_a_draft(dir.path(), "vault");
    let db = vault.join("vault.db");
    let keys = vault.join("vault.keys");
    let (db_bytes, key_bytes) = (std::fs::read(&db).unwrap(), std::fs::read(&keys).unwrap());

    std::fs::write(&db, pseudo_random(db_bytes.len(), 0x9e37_79b9_7f4a_7c15)).unwrap();
    refused_and_left_alone(&vault, "vault.db random");
    std::fs::write(&db, &db_bytes[..db_bytes.len() / 3]).unwrap();
    refused_and_left_alone(&vault, "vault.db truncated");
    std::fs::write(&db, &db_bytes).unwrap();

    std::fs::write(&keys, pseudo_random(key_bytes.len(), 0x2545_f491_4f6c_dd1d)).unwrap();
    refused_and_left_alone(&vault, "vault.keys random");
}

#[test]
fn a_plain_sqlite_database_is_not_a_ghi_danh_vault() {
    let dir = tempfile::tempdir().unwrap();
    let vault = vault_with_a_draft(dir.path(), "vault");
    std::fs::write(vault.join("vault.db"), plain_sqlite_file()).unwrap();
    refused_and_left_alone(&vault, "plain SQLite");
}

#[test]
fn a_vault_file_from_another_device_is_vault_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let vault = vault_with_a_draft(dir.path(), "vault");
    // Another device's vault, even with the same passphrase.
    let other = vault_with_a_draft(dir.path(), "other");
    let ours = std::fs::read(vault.join("vault.db")).unwrap();
    std::fs::copy(other.join("vault.db"), vault.join("vault.db")).unwrap();
    refused_and_left_alone(&vault, "vault.db of another device");
    std::fs::write(vault.join("vault.db"), ours).unwrap();
    std::fs::copy(other.join("vault.keys"), vault.join("vault.keys")).unwrap();
    refused_and_left_alone(&vault, "vault.keys of another device");
}
