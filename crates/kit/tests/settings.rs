//! The supervisor's settings through the kit: the retention period.

use std::time::Duration;

use ghidanh_kit::{KdfParams, Kit, KitConfig, KitError, Lang, Role, MAX_RETENTION_DAYS};

const SUPERVISOR: &str = "trăng rằm tháng tám";
const OPERATOR: &str = "hoa sen trắng";

fn config(dir: &std::path::Path) -> KitConfig {
    KitConfig {
        data_dir: dir.join("vault"),
        provisioning_file: None,
        kdf: KdfParams::insecure_fast_for_tests(),
        sync: Default::default(),
        idle_lock: Duration::ZERO,
        devices: Default::default(),
    }
}

fn only_error(e: &KitError, lang: Lang) -> (String, String, String) {
    let mut es = e.form_errors(lang);
    assert_eq!(es.len(), 1, "{es:?}");
    let f = es.remove(0);
    (f.field, f.rule, f.message)
}

#[test]
fn a_supervisor_sets_the_retention_period_in_whole_days_within_limits() {
    let dir = tempfile::tempdir().unwrap();
    let kit = Kit::new(config(dir.path())).unwrap();
    kit.create_operator("Lê Văn Giám", SUPERVISOR, SUPERVISOR)
        .unwrap();
    assert_eq!(kit.retention_days().unwrap(), 0);

    assert_eq!(kit.set_retention_days(" 30 ").unwrap(), 30);
    assert_eq!(kit.retention_days().unwrap(), 30);

    let err = kit.set_retention_days("1,5").unwrap_err();
    assert_eq!(err.code(), "invalidInput");
    assert_eq!(
        only_error(&err, Lang::Vi),
        (
            "retentionDays".into(),
            "wholeDays".into(),
            "Thời hạn lưu giữ (ngày): phải là một số ngày nguyên, chỉ gồm chữ số.".into()
        )
    );
    let err = kit
        .set_retention_days(&(MAX_RETENTION_DAYS + 1).to_string())
        .unwrap_err();
    assert_eq!(
        only_error(&err, Lang::En),
        (
            "retentionDays".into(),
            "range".into(),
            "Retention period (days): must be from 0 to 90 days.".into()
        )
    );
    assert_eq!(
        only_error(&kit.set_retention_days("").unwrap_err(), Lang::Vi).1,
        "required"
    );
    // A refused value changes nothing.
    assert_eq!(kit.retention_days().unwrap(), 30);
    assert_eq!(kit.set_retention_days("0").unwrap(), 0);
    assert_eq!(kit.set_retention_days("90").unwrap(), 90);

    // Kept in the vault across sessions.
    kit.lock().unwrap();
    assert!(matches!(kit.retention_days(), Err(KitError::Locked)));
    assert!(matches!(kit.set_retention_days("7"), Err(KitError::Locked)));
    kit.unlock(SUPERVISOR).unwrap();
    assert_eq!(kit.retention_days().unwrap(), 90);
}

#[test]
fn an_operator_sees_the_retention_period_but_cannot_change_it() {
    let dir = tempfile::tempdir().unwrap();
    let kit = Kit::new(config(dir.path())).unwrap();
    kit.create_operator("Lê Văn Giám", SUPERVISOR, SUPERVISOR)
        .unwrap();
    kit.set_retention_days("14").unwrap();
    kit.add_operator("Đỗ Thị Anh", OPERATOR, OPERATOR, Role::Operator)
        .unwrap();
    kit.lock().unwrap();
    kit.unlock(OPERATOR).unwrap();
    assert_eq!(kit.retention_days().unwrap(), 14);
    let err = kit.set_retention_days("30").unwrap_err();
    assert_eq!(err.code(), "notSupervisor");
    assert_eq!(
        err.message(Lang::Vi),
        "Chỉ giám sát viên mới được làm việc này."
    );
    // Refused before the form is even read: a bad value from an operator is the same answer.
    assert_eq!(
        kit.set_retention_days("abc").unwrap_err().code(),
        "notSupervisor"
    );
    assert_eq!(kit.retention_days().unwrap(), 14);
}
