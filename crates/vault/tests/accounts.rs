//! Operator accounts, passphrases, locking, and every damaged or foreign file the vault
//! may be handed, against real files on disk.

mod common;

use std::path::Path;

use ghidanh_record::EnrollmentInput;
use ghidanh_vault::{
    KdfParams, Operator, Role, Vault, VaultError, DB_FILE, KEYS_FILE, UNLOCK_FAILURES_FILE,
};

const SUPERVISOR: &str = "Trần Văn Cảnh";
const SUPERVISOR_PASS: &str = "mật khẩu giám sát 1";
const OPERATOR_PASS: &str = "mật khẩu nhân viên 2";
const NEW_PASS: &str = "mật khẩu mới hoàn toàn 3";

fn fast() -> KdfParams {
    KdfParams::insecure_fast_for_tests()
}

fn input(name: &str) -> EnrollmentInput {
    EnrollmentInput {
        birth_name: name.into(),
        date_of_birth: "1990-04-30".into(),
        sex: "female".into(),
        personal_id: "079190123456".into(),
        ..Default::default()
    }
}

/// A vault with its supervisor and one operator (`Lê Thị Hồng`).
fn team(dir: &Path) -> (Vault, Operator, Operator) {
    let (vault, supervisor) = Vault::create(dir, SUPERVISOR, SUPERVISOR_PASS, fast()).unwrap();
    let operator = vault
        .add_operator("Lê Thị Hồng", OPERATOR_PASS, Role::Operator, fast())
        .unwrap();
    (vault, supervisor, operator)
}

fn keys(dir: &Path) -> Vec<u8> {
    std::fs::read(dir.join(KEYS_FILE)).unwrap()
}

/// The error of an unlock that must fail, with its message checked for secrets.
fn unlock_err(dir: &Path, passphrase: &str) -> VaultError {
    let Err(e) = Vault::unlock(dir, passphrase) else {
        panic!("unlock should fail");
    };
    let msg = e.to_string();
    for secret in [passphrase, SUPERVISOR_PASS, OPERATOR_PASS, SUPERVISOR] {
        assert!(!msg.contains(secret), "{msg:?} leaks {secret:?}");
    }
    e
}

fn corrupt_message(e: VaultError) -> &'static str {
    match e {
        VaultError::Corrupt(m) => m,
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn every_account_unlocks_as_itself_and_the_list_is_in_vietnamese_order() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, supervisor, operator) = team(dir.path());
    assert_eq!(supervisor.role, Role::Supervisor);
    assert_eq!(vault.operator(), &supervisor);
    let second = vault
        .add_operator("Đỗ Minh Anh", "mật khẩu thứ ba 4", Role::Supervisor, fast())
        .unwrap();
    let third = vault
        .add_operator("Dương Văn Bảo", "mật khẩu thứ tư 5", Role::Operator, fast())
        .unwrap();
    let names: Vec<String> = vault
        .operators()
        .unwrap()
        .into_iter()
        .map(|o| o.name)
        .collect();
    // d before đ, then l, then t (Vietnamese letters, not code points: "Đ" > "T" in neither).
    assert_eq!(
        names,
        [
            "Dương Văn Bảo",
            "Đỗ Minh Anh",
            "Lê Thị Hồng",
            "Trần Văn Cảnh"
        ]
    );
    let ops = vault.operators().unwrap();
    assert!(ops.contains(&operator) && ops.contains(&second) && ops.contains(&third));
    vault.lock().unwrap();
    for (pass, who) in [
        (SUPERVISOR_PASS, &supervisor),
        (OPERATOR_PASS, &operator),
        ("mật khẩu thứ ba 4", &second),
        ("mật khẩu thứ tư 5", &third),
    ] {
        let (v, signed_in) = Vault::unlock(dir.path(), pass).unwrap();
        assert_eq!(&signed_in, who);
        assert_eq!(v.operator(), who);
    }
}

#[test]
fn an_operator_cannot_add_accounts_or_reset_passphrases() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, supervisor, _) = team(dir.path());
    drop(vault);
    let before = keys(dir.path());
    let (vault, me) = Vault::unlock(dir.path(), OPERATOR_PASS).unwrap();
    assert_eq!(me.role, Role::Operator);
    assert!(matches!(
        vault.add_operator("Kẻ Lạ", "mật khẩu kẻ lạ 6", Role::Supervisor, fast()),
        Err(VaultError::NotSupervisor("add an operator"))
    ));
    assert!(matches!(
        vault.reset_passphrase(supervisor.id, "chiếm tài khoản 7", fast()),
        Err(VaultError::NotSupervisor("reset a passphrase"))
    ));
    assert_eq!(vault.operators().unwrap().len(), 2);
    assert_eq!(keys(dir.path()), before, "vault.keys must not change");
    drop(vault);
    assert!(matches!(
        unlock_err(dir.path(), "chiếm tài khoản 7"),
        VaultError::WrongPassphrase
    ));
}

/// Pages of the database file (SQLCipher's default 4096 bytes).
fn pages(db: &[u8]) -> Vec<&[u8]> {
    db.chunks(4096).collect()
}

#[test]
fn a_passphrase_change_rewraps_the_key_and_leaves_the_database_pages_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, supervisor, _) = team(dir.path());
    let mut ids = Vec::new();
    for i in 0..40 {
        let name = format!("Nguyễn Thị Hoà {i} {}", "x".repeat(300));
        ids.push(
            vault
                .save_draft(None, supervisor.id, &input(&name))
                .unwrap(),
        );
    }
    vault.lock().unwrap();
    // The unlock and the lock write audit entries of their own; take the baseline after one
    // such round so the comparison below only sees what the change itself writes.
    Vault::unlock(dir.path(), SUPERVISOR_PASS)
        .unwrap()
        .0
        .lock()
        .unwrap();
    let before = std::fs::read(dir.path().join(DB_FILE)).unwrap();
    let keys_before = keys(dir.path());

    let (vault, _) = Vault::unlock(dir.path(), SUPERVISOR_PASS).unwrap();
    assert!(matches!(
        vault.change_passphrase("not the current one", NEW_PASS, fast()),
        Err(VaultError::WrongPassphrase)
    ));
    vault
        .change_passphrase(SUPERVISOR_PASS, NEW_PASS, fast())
        .unwrap();
    vault.lock().unwrap();

    assert!(matches!(
        unlock_err(dir.path(), SUPERVISOR_PASS),
        VaultError::WrongPassphrase
    ));
    let (vault, who) = Vault::unlock(dir.path(), NEW_PASS).unwrap();
    assert_eq!(who, supervisor);
    for (i, id) in ids.iter().enumerate() {
        assert!(vault
            .enrollment(*id)
            .unwrap()
            .input
            .birth_name
            .starts_with(&format!("Nguyễn Thị Hoà {i} ")));
    }
    // The operator's wrap was not touched by the supervisor's change.
    drop(vault);
    Vault::unlock(dir.path(), OPERATOR_PASS).unwrap();

    let after_keys = keys(dir.path());
    assert_ne!(after_keys, keys_before, "the wrap must be new");
    // Same data key ⇒ no re-encryption: SQLCipher writes every page with a fresh random IV,
    // so a re-keyed database differs on every page. Here the salt (first 16 bytes) is the
    // same and only the pages the audit entries and the two unlocks touched changed.
    let after = std::fs::read(dir.path().join(DB_FILE)).unwrap();
    assert_eq!(before[..16], after[..16], "SQLCipher salt changed");
    let (b, a) = (pages(&before), pages(&after));
    assert!(b.len() >= 20, "too small to tell: {} pages", b.len());
    let same = b.iter().zip(&a).filter(|(x, y)| x == y).count();
    assert!(
        same * 10 >= b.len() * 8,
        "only {same} of {} pages unchanged: the database was rewritten",
        b.len()
    );
}

#[test]
fn a_supervisor_resets_a_forgotten_passphrase_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, _, operator) = team(dir.path());
    drop(vault);
    let (vault, _) = Vault::unlock(dir.path(), OPERATOR_PASS).unwrap();
    let draft = vault
        .save_draft(None, operator.id, &input("H'Hen Niê"))
        .unwrap();
    vault.lock().unwrap();

    // The operator forgot; the supervisor signs in and sets a new one.
    let (vault, _) = Vault::unlock(dir.path(), SUPERVISOR_PASS).unwrap();
    assert!(matches!(
        vault.reset_passphrase(vault.operator().id, NEW_PASS, fast()),
        Err(VaultError::NotFound(_))
    ));
    assert!(matches!(
        vault.reset_passphrase(ghidanh_bundle::OperatorId::new(), NEW_PASS, fast()),
        Err(VaultError::NotFound("operator"))
    ));
    vault
        .reset_passphrase(operator.id, NEW_PASS, fast())
        .unwrap();
    vault.lock().unwrap();

    assert!(matches!(
        unlock_err(dir.path(), OPERATOR_PASS),
        VaultError::WrongPassphrase
    ));
    let (vault, who) = Vault::unlock(dir.path(), NEW_PASS).unwrap();
    assert_eq!(who, operator);
    assert_eq!(
        vault.enrollment(draft).unwrap().input.birth_name,
        "H'Hen Niê"
    );
    drop(vault);
    // The supervisor's own passphrase still works.
    assert_eq!(
        Vault::unlock(dir.path(), SUPERVISOR_PASS).unwrap().1.name,
        SUPERVISOR
    );
}

#[test]
fn a_passphrase_that_opens_another_account_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, _, operator) = team(dir.path());
    let before = keys(dir.path());
    assert!(matches!(
        vault.add_operator("Phạm Văn Đồng", OPERATOR_PASS, Role::Operator, fast()),
        Err(VaultError::PassphraseInUse)
    ));
    assert!(matches!(
        vault.add_operator("Phạm Văn Đồng", SUPERVISOR_PASS, Role::Operator, fast()),
        Err(VaultError::PassphraseInUse)
    ));
    assert!(matches!(
        vault.change_passphrase(SUPERVISOR_PASS, OPERATOR_PASS, fast()),
        Err(VaultError::PassphraseInUse)
    ));
    assert!(matches!(
        vault.reset_passphrase(operator.id, SUPERVISOR_PASS, fast()),
        Err(VaultError::PassphraseInUse)
    ));
    assert_eq!(vault.operators().unwrap().len(), 2, "no account was added");
    assert_eq!(keys(dir.path()), before);
    // Keeping one's own passphrase (with new Argon2 parameters) is not "in use".
    vault
        .change_passphrase(SUPERVISOR_PASS, SUPERVISOR_PASS, fast())
        .unwrap();
    vault
        .reset_passphrase(operator.id, OPERATOR_PASS, fast())
        .unwrap();
    drop(vault);
    assert_eq!(
        Vault::unlock(dir.path(), OPERATOR_PASS).unwrap().1,
        operator
    );
}

#[test]
fn lock_consumes_the_vault_and_unlocking_needs_the_passphrase_again() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, supervisor, _) = team(dir.path());
    let draft = vault
        .save_draft(None, supervisor.id, &input("Y Bhin Niê"))
        .unwrap();
    vault.lock().unwrap();
    // `vault` is moved: using it here does not compile (see the compile_fail doc test on
    // `Vault::lock`). What is left is the folder, and it needs a passphrase.
    assert!(matches!(
        unlock_err(dir.path(), "đoán bừa"),
        VaultError::WrongPassphrase
    ));
    let (vault, _) = Vault::unlock(dir.path(), SUPERVISOR_PASS).unwrap();
    assert_eq!(
        vault.enrollment(draft).unwrap().input.birth_name,
        "Y Bhin Niê"
    );
    let report = vault.audit_verify().unwrap();
    // created, operator added, draft, locked, one failed unlock, unlocked, the read above.
    assert_eq!(report.entries, 7);
}

// ---- damaged and foreign files: a clear `VaultError` naming the file, never a panic ----

#[test]
fn a_truncated_key_file_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    drop(team(dir.path()));
    let k = keys(dir.path());
    for len in [0, 1, k.len() / 2, k.len() - 2] {
        std::fs::write(dir.path().join(KEYS_FILE), &k[..len]).unwrap();
        let m = corrupt_message(unlock_err(dir.path(), SUPERVISOR_PASS));
        assert!(m.contains("vault.keys"), "{len}: {m}");
    }
}

#[test]
fn a_garbage_key_file_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    drop(team(dir.path()));
    let garbage = common::pattern(700, 7);
    std::fs::write(dir.path().join(KEYS_FILE), &garbage).unwrap();
    assert!(corrupt_message(unlock_err(dir.path(), SUPERVISOR_PASS)).contains("vault.keys"));
    // Valid JSON of the wrong shape, and a wrap with its fields damaged.
    for text in [
        "{}".to_owned(),
        r#"{"version":1,"wraps":[]}"#.to_owned(),
        String::from_utf8(keys_of_fresh_vault()).unwrap().replacen(
            "\"salt\": \"",
            "\"salt\": \"zz",
            1,
        ),
    ] {
        std::fs::write(dir.path().join(KEYS_FILE), &text).unwrap();
        let m = corrupt_message(unlock_err(dir.path(), SUPERVISOR_PASS));
        assert!(m.contains("vault.keys"), "{text}: {m}");
    }
}

fn keys_of_fresh_vault() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    drop(Vault::create(dir.path(), "x", SUPERVISOR_PASS, fast()).unwrap());
    keys(dir.path())
}

#[test]
fn a_key_file_of_an_unknown_version_is_reported_as_such() {
    let dir = tempfile::tempdir().unwrap();
    drop(team(dir.path()));
    let text = String::from_utf8(keys(dir.path())).unwrap();
    assert!(text.contains("\"version\": 1"), "{text}");
    std::fs::write(
        dir.path().join(KEYS_FILE),
        text.replace("\"version\": 1", "\"version\": 2"),
    )
    .unwrap();
    let m = corrupt_message(unlock_err(dir.path(), SUPERVISOR_PASS));
    assert!(m.contains("vault.keys") && m.contains("version"), "{m}");
}

#[test]
fn the_key_file_of_another_vault_next_to_this_database_is_reported() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    drop(team(a.path()));
    // Device B: same supervisor name and passphrase, different data key.
    drop(Vault::create(b.path(), SUPERVISOR, SUPERVISOR_PASS, fast()).unwrap());
    let a_keys = keys(a.path());
    std::fs::copy(b.path().join(KEYS_FILE), a.path().join(KEYS_FILE)).unwrap();
    let a_db = std::fs::read(a.path().join(DB_FILE)).unwrap();
    let m = corrupt_message(unlock_err(a.path(), SUPERVISOR_PASS));
    assert!(
        m.contains("vault.db") && m.contains("vault.keys") && m.contains("different vaults"),
        "{m}"
    );
    assert_eq!(
        std::fs::read(a.path().join(DB_FILE)).unwrap(),
        a_db,
        "a failed unlock must not write to vault.db"
    );
    // Whoever types what: B's key file holds no wrap for A's operator, yet this is no
    // wrong passphrase (it would count towards the delay); the files are not a pair.
    let m = corrupt_message(unlock_err(a.path(), OPERATOR_PASS));
    assert!(m.contains("different vaults"), "{m}");
    assert!(
        !a.path().join(UNLOCK_FAILURES_FILE).exists(),
        "a foreign key file is not a wrong guess"
    );
    // With its own key file back, vault A opens as before.
    std::fs::write(a.path().join(KEYS_FILE), a_keys).unwrap();
    assert_eq!(
        Vault::unlock(a.path(), OPERATOR_PASS).unwrap().1.name,
        "Lê Thị Hồng"
    );
}

#[test]
fn the_database_of_another_vault_next_to_this_key_file_is_reported() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    drop(team(a.path()));
    drop(Vault::create(b.path(), SUPERVISOR, SUPERVISOR_PASS, fast()).unwrap());
    std::fs::copy(b.path().join(DB_FILE), a.path().join(DB_FILE)).unwrap();
    let m = corrupt_message(unlock_err(a.path(), OPERATOR_PASS));
    assert!(m.contains("vault.db"), "{m}");
}

#[test]
fn a_truncated_or_garbage_database_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, supervisor, _) = team(dir.path());
    for i in 0..30 {
        vault
            .save_draft(
                None,
                supervisor.id,
                &input(&format!("Tên {i} {}", "y".repeat(400))),
            )
            .unwrap();
    }
    drop(vault);
    let db = std::fs::read(dir.path().join(DB_FILE)).unwrap();
    assert!(db.len() > 8 * 4096, "{}", db.len());
    let garbage = common::pattern(db.len(), 11);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("garbage", garbage),
        ("half a page", db[..2048].to_vec()),
        ("first page only", db[..4096].to_vec()),
        ("half the file", db[..db.len() / 2].to_vec()),
        ("empty", Vec::new()),
    ];
    for (what, bytes) in cases {
        std::fs::write(dir.path().join(DB_FILE), &bytes).unwrap();
        let e = unlock_err(dir.path(), SUPERVISOR_PASS);
        let msg = e.to_string();
        assert!(
            matches!(e, VaultError::Corrupt(_)) && msg.contains("vault.db"),
            "{what}: {e:?}"
        );
    }
    std::fs::remove_file(dir.path().join(DB_FILE)).unwrap();
    let m = corrupt_message(unlock_err(dir.path(), SUPERVISOR_PASS));
    assert!(m.contains("vault.db is missing"), "{m}");
    assert!(
        !dir.path().join(DB_FILE).exists(),
        "unlock must not create a new, empty database"
    );
}

/// The key file of `dir` as JSON.
fn keys_json(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&keys(dir)).unwrap()
}

/// Rewrites the key file of `dir` as a file from before `db_salt` existed.
fn strip_salt(dir: &Path) {
    let mut json = keys_json(dir);
    json.as_object_mut().unwrap().remove("db_salt").unwrap();
    std::fs::write(
        dir.join(KEYS_FILE),
        serde_json::to_vec_pretty(&json).unwrap(),
    )
    .unwrap();
}

#[test]
fn the_key_file_names_its_database_and_older_key_files_still_open() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    drop(team(a.path()));
    let db = std::fs::read(a.path().join(DB_FILE)).unwrap();
    let salt_hex: String = db[..16].iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(keys_json(a.path())["db_salt"], salt_hex.as_str());

    // A key file from before the salt existed still opens; its next write records the salt.
    strip_salt(a.path());
    let (vault, _) = Vault::unlock(a.path(), SUPERVISOR_PASS).unwrap();
    vault
        .change_passphrase(SUPERVISOR_PASS, NEW_PASS, fast())
        .unwrap();
    drop(vault);
    assert_eq!(keys_json(a.path())["db_salt"], salt_hex.as_str());

    // Without a recorded salt, a foreign key file is still caught, one step later: the key
    // it opens does not open this database, and the error says so.
    drop(Vault::create(b.path(), SUPERVISOR, "mật khẩu B", fast()).unwrap());
    std::fs::copy(b.path().join(KEYS_FILE), a.path().join(KEYS_FILE)).unwrap();
    strip_salt(a.path());
    let m = corrupt_message(unlock_err(a.path(), "mật khẩu B"));
    assert!(
        m.contains("does not open with the key in vault.keys") && m.contains("different vaults"),
        "{m}"
    );
}
