//! `ghidanh vault audit verify` and `ghidanh vault report` through the real binary.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use ghidanh_record::EnrollmentInput;
use ghidanh_vault::{KdfParams, Vault};

const PASS: &str = "mật khẩu dài 123";
const NAME: &str = "Nguyễn Thị Thuỳ Dương";
const ID_NUMBER: &str = "079190123456";

/// A vault with three drafts, one of them sealed, closed again.
fn make_vault(dir: &Path) {
    let (v, op) = Vault::create(
        dir,
        "Trần Văn Cảnh",
        PASS,
        KdfParams::insecure_fast_for_tests(),
    )
    .unwrap();
    let input = EnrollmentInput {
        birth_name: NAME.into(),
        personal_id: ID_NUMBER.into(),
        ..Default::default()
    };
    let first = v.save_draft(None, op.id, &input).unwrap();
    v.save_draft(None, op.id, &input).unwrap();
    v.save_draft(None, op.id, &input).unwrap();
    // Only an approved record is sealed (the enrollment life, docs/enrollment-life.md).
    v.finalise(first).unwrap();
    v.approve(first, ghidanh_vault::Approval::Supervisor)
        .unwrap();
    v.seal(first, &input, ghidanh_bundle::BundleId::new(), b"sealed")
        .unwrap();
}

fn run(args: &[&str], env_pass: Option<&str>, stdin: &str) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ghidanh"));
    cmd.args(args)
        .env_remove("GHIDANH_PASSPHRASE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(p) = env_pass {
        cmd.env("GHIDANH_PASSPHRASE", p);
    }
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn verify(dir: &Path) -> Output {
    run(
        &["vault", "audit", "verify", "--dir", dir.to_str().unwrap()],
        Some(PASS),
        "",
    )
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn verify_passes_on_an_intact_chain_with_the_passphrase_from_env_or_stdin() {
    let dir = tempfile::tempdir().unwrap();
    make_vault(dir.path());
    let out = verify(dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    // created + 3 drafts + finalised + approved + sealed, then this unlock.
    assert!(
        stdout(&out).contains("audit chain ok: 8 entries"),
        "{}",
        stdout(&out)
    );
    let d = dir.path().to_str().unwrap();
    let out = run(
        &["vault", "audit", "verify", "--dir", d],
        None,
        &format!("{PASS}\n"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("9 entries"), "{}", stdout(&out));
}

#[test]
fn verify_exits_1_on_a_deleted_entry() {
    let dir = tempfile::tempdir().unwrap();
    make_vault(dir.path());
    let (v, _) = Vault::unlock(dir.path(), PASS).unwrap();
    v.testkit_execute("DELETE FROM audit WHERE seq = 3")
        .unwrap();
    drop(v);
    let out = verify(dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("audit entry 3 is missing"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn verify_exits_1_on_a_changed_entry() {
    let dir = tempfile::tempdir().unwrap();
    make_vault(dir.path());
    let (v, _) = Vault::unlock(dir.path(), PASS).unwrap();
    v.testkit_execute("UPDATE audit SET at_ms = at_ms + 1 WHERE seq = 2")
        .unwrap();
    drop(v);
    let out = verify(dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("audit entry 2 was changed"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn verify_exits_1_on_reordered_entries() {
    let dir = tempfile::tempdir().unwrap();
    make_vault(dir.path());
    let (v, _) = Vault::unlock(dir.path(), PASS).unwrap();
    v.testkit_execute(
        "UPDATE audit SET seq = -3 WHERE seq = 3;
         UPDATE audit SET seq = 3 WHERE seq = 4;
         UPDATE audit SET seq = 4 WHERE seq = -3;",
    )
    .unwrap();
    drop(v);
    let out = verify(dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("audit entry 3 is out of order"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn wrong_passphrase_missing_vault_and_bad_arguments_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    make_vault(dir.path());
    let d = dir.path().to_str().unwrap();
    let out = run(&["vault", "audit", "verify", "--dir", d], Some("sai"), "");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong passphrase"));
    let empty = tempfile::tempdir().unwrap();
    let out = verify(empty.path());
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["vault", "report"], Some(PASS), "");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn report_counts_states_and_holds_no_personal_data() {
    let dir = tempfile::tempdir().unwrap();
    make_vault(dir.path());
    let d = dir.path().to_str().unwrap();
    let out = run(&["vault", "report", "--dir", d, "--json"], Some(PASS), "");
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let j: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(j["enrollments"], 3);
    assert_eq!(j["by_state"]["draft"], 2);
    assert_eq!(j["by_state"]["sealed"], 1);
    assert_eq!(j["by_state"]["accepted"], 0);
    assert_eq!(j["audit_entries"], 8);
    assert!(
        j["first_enrollment_ms"].as_i64().unwrap() <= j["last_enrollment_ms"].as_i64().unwrap()
    );
    assert!(j["device_id"].is_null());
    assert!(!text.contains(NAME) && !text.contains(ID_NUMBER));

    let out = run(&["vault", "report", "--dir", d], Some(PASS), "");
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(
        text.contains("enrollments: 3") && text.contains("  draft: 2"),
        "{text}"
    );
    assert!(text.contains("first enrollment: 20"), "{text}");
    assert!(!text.contains(NAME) && !text.contains(ID_NUMBER));
}
