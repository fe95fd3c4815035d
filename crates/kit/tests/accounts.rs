//! Operator accounts through the kit: add, change, reset, rate limit, idle lock.

use std::time::{Duration, Instant};

use ghidanh_kit::{
    parse_role, EnrollmentInput, KdfParams, Kit, KitConfig, KitError, Lang, Role, SessionState,
};
use ghidanh_sync::SyncConfig;

const SUPERVISOR: &str = "trăng rằm tháng tám";
const OPERATOR: &str = "hoa sen trắng";

fn config(dir: &std::path::Path, idle_lock: Duration) -> KitConfig {
    KitConfig {
        data_dir: dir.join("vault"),
        provisioning_file: None,
        kdf: KdfParams::insecure_fast_for_tests(),
        sync: SyncConfig::default(),
        idle_lock,
        devices: Default::default(),
    }
}

fn fields(e: &KitError) -> Vec<(String, String)> {
    e.form_errors(Lang::Vi)
        .into_iter()
        .map(|f| (f.field, f.rule))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn supervisor_adds_operator_who_changes_then_gets_a_reset_without_losing_data() {
    let dir = tempfile::tempdir().unwrap();
    let kit = Kit::new(config(dir.path(), Duration::ZERO)).unwrap();
    let st = kit
        .create_operator("Lê Văn Giám", SUPERVISOR, SUPERVISOR)
        .unwrap();
    assert_eq!(st.role, Some(Role::Supervisor));

    // The form rules answer per field before the vault is asked.
    let err = kit
        .add_operator(" ", OPERATOR, "hoa sen đỏ", Role::Operator)
        .unwrap_err();
    assert_eq!(
        fields(&err),
        pairs(&[("name", "required"), ("passphraseConfirm", "mismatch")])
    );
    // Two accounts cannot share a passphrase: the vault says so, on the passphrase field.
    let err = kit
        .add_operator("Đỗ Thị Anh", SUPERVISOR, SUPERVISOR, Role::Operator)
        .unwrap_err();
    assert_eq!(err.code(), "passphraseInUse");
    assert_eq!(fields(&err), pairs(&[("passphrase", "inUse")]));
    let anh = kit
        .add_operator(
            "  Đỗ  Thị Anh ",
            OPERATOR,
            OPERATOR,
            parse_role("operator").unwrap(),
        )
        .unwrap();
    assert_eq!(anh.name, "Đỗ Thị Anh");
    let names: Vec<String> = kit
        .operators()
        .unwrap()
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(names, ["Đỗ Thị Anh", "Lê Văn Giám"]);
    assert_eq!(kit.lock().unwrap().state, SessionState::Locked);

    // The operator signs in, may not manage accounts, and changes the own passphrase.
    let st = kit.unlock(OPERATOR).unwrap();
    assert_eq!(st.operator_name.as_deref(), Some("Đỗ Thị Anh"));
    assert_eq!(
        (st.role, st.operator_id),
        (Some(Role::Operator), Some(anh.id))
    );
    let err = kit
        .add_operator(
            "Ngô Văn Ba",
            "một hai ba bốn",
            "một hai ba bốn",
            Role::Operator,
        )
        .unwrap_err();
    assert_eq!(err.code(), "notSupervisor");
    assert_eq!(
        err.message(Lang::Vi),
        "Chỉ giám sát viên mới được làm việc này."
    );
    let (draft, _) = kit
        .save_draft(
            None,
            &EnrollmentInput {
                birth_name: "Vũ Thị Mai".into(),
                ..Default::default()
            },
        )
        .unwrap();
    let err = kit.change_passphrase("", "ngắn", "ngắn").unwrap_err();
    assert_eq!(
        fields(&err),
        pairs(&[("current", "required"), ("passphrase", "tooShort")])
    );
    let err = kit
        .change_passphrase("không phải", "mây trôi bốn phương", "mây trôi bốn phương")
        .unwrap_err();
    assert_eq!(err.code(), "wrongPassphrase");
    kit.change_passphrase(OPERATOR, "mây trôi bốn phương", "mây trôi bốn phương")
        .unwrap();
    kit.lock().unwrap();
    assert_eq!(kit.unlock(OPERATOR).unwrap_err().code(), "wrongPassphrase");
    assert_eq!(
        kit.unlock("mây trôi bốn phương").unwrap().operator_id,
        Some(anh.id)
    );
    kit.lock().unwrap();

    // She forgets it; the supervisor resets it; her draft is still there.
    assert_eq!(kit.unlock(SUPERVISOR).unwrap().role, Some(Role::Supervisor));
    let err = kit
        .reset_passphrase(anh.id, "gió mùa", "gió mùa")
        .unwrap_err();
    assert_eq!(fields(&err), pairs(&[("passphrase", "tooShort")]));
    kit.reset_passphrase(anh.id, "gió mùa đông bắc", "gió mùa đông bắc")
        .unwrap();
    kit.lock().unwrap();
    assert_eq!(
        kit.unlock("gió mùa đông bắc").unwrap().operator_id,
        Some(anh.id)
    );
    assert_eq!(
        kit.enrollment(draft).unwrap().input.birth_name,
        "Vũ Thị Mai"
    );
}

#[test]
fn wrong_passphrases_bring_a_growing_wait_named_in_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let kit = Kit::new(config(dir.path(), Duration::ZERO)).unwrap();
    kit.create_operator("Lê Văn Giám", SUPERVISOR, SUPERVISOR)
        .unwrap();
    kit.lock().unwrap();
    let mut codes = Vec::new();
    for _ in 0..5 {
        codes.push(kit.unlock("sai rồi nhé").unwrap_err());
    }
    let last = codes.pop().unwrap();
    assert!(codes.iter().all(|e| e.code() == "wrongPassphrase"));
    assert_eq!(last.code(), "tooManyAttempts");
    let secs = last.retry_after_secs().unwrap();
    assert!((1..=2).contains(&secs), "waits {secs} s");
    assert_eq!(
        last.message(Lang::Vi),
        format!("Đã nhập sai cụm mật khẩu quá nhiều lần. Vui lòng thử lại sau {secs} giây.")
    );
    // Even the right passphrase waits.
    assert_eq!(
        kit.unlock(SUPERVISOR).unwrap_err().code(),
        "tooManyAttempts"
    );
    std::thread::sleep(Duration::from_secs(secs + 1));
    assert_eq!(
        kit.unlock(SUPERVISOR).unwrap().state,
        SessionState::Unlocked
    );
}

#[test]
fn an_idle_session_locks_itself_and_activity_keeps_it_open() {
    let dir = tempfile::tempdir().unwrap();
    let idle = Duration::from_millis(600);
    let kit = Kit::new(config(dir.path(), idle)).unwrap();
    kit.create_operator("Lê Văn Giám", SUPERVISOR, SUPERVISOR)
        .unwrap();
    let typed = EnrollmentInput {
        birth_name: "Vũ Thị Mai".into(),
        personal_id: "0011900".into(),
        ..Default::default()
    };
    let (id, _) = kit.save_draft(None, &typed).unwrap();

    // Twice the idle time, with activity every 200 ms: still open.
    let start = Instant::now();
    while start.elapsed() < idle * 2 {
        std::thread::sleep(Duration::from_millis(200));
        kit.touch();
    }
    assert_eq!(kit.status().unwrap().state, SessionState::Unlocked);

    // Polling the status is not activity: it locks while being watched.
    let start = Instant::now();
    while kit.status().unwrap().state == SessionState::Unlocked {
        assert!(start.elapsed() < idle * 4, "never locked");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(start.elapsed() >= idle / 2, "locked too early");
    assert_eq!(kit.list().unwrap_err().code(), "locked");

    kit.unlock(SUPERVISOR).unwrap();
    assert_eq!(kit.enrollment(id).unwrap().input, typed);
}

#[test]
fn an_unknown_role_is_a_field_error() {
    let err = parse_role("admin").unwrap_err();
    assert_eq!(err.code(), "invalidInput");
    assert_eq!(fields(&err), pairs(&[("role", "unknown")]));
}
