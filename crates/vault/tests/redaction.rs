//! Issue 4: no personal data in the vault's logs or `Debug` output. Every vault operation a
//! session does runs with a capturing `tracing` subscriber at TRACE level; the captured
//! text must hold no name, ID number, address, phone, e-mail, comment or passphrase, while it
//! does hold the vault's own events (so the capture is not empty by accident).
//!
//! The subscriber is written here rather than taken from `tracing-subscriber`: it records
//! every span and event, with every field formatted the way `tracing-subscriber`'s `fmt`
//! layer formats it (`Debug` for `?x`, `Display` for `%x`, messages as written), and needs no
//! new dependency.

use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use ghidanh_bundle::BundleId;
use ghidanh_record::{AddressInput, EnrollmentInput, PersonInput, RepresentativeInput};
use ghidanh_vault::{Approval, KdfParams, MediaKind, Role, Vault, VaultError};
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

const SUPERVISOR: &str = "Trần Văn Cảnh";
const OPERATOR: &str = "Phạm Thị Hồng Nhung";
const PASS: &str = "mật khẩu dài 123";
const OPERATOR_PASS: &str = "một mật khẩu khác 456";
const COMMENT: &str = "Sai họ tên: phải là Nguyễn Thị Thuỳ Dương, số 079190012345";

fn person() -> EnrollmentInput {
    EnrollmentInput {
        birth_name: "Nguyễn Thị Thuỳ Dương".into(),
        other_name: "Bé Mít".into(),
        personal_id: "079190012345".into(),
        old_id_number: "024681357".into(),
        date_of_birth: "1990-04-30".into(),
        sex: "female".into(),
        place_of_birth: "Bệnh viện Từ Dũ".into(),
        hometown: "Xã Hóa Châu".into(),
        father: PersonInput {
            name: "Nguyễn Văn Khải".into(),
            personal_id: "001060123456".into(),
            nationality: "VNM".into(),
        },
        permanent_residence: AddressInput {
            province: "001".into(),
            commune: "00004".into(),
            street: "Số 17 ngõ Quỳnh Lôi".into(),
        },
        phone: "0912 345 678".into(),
        email: "thuy.duong.nguyen@example.vn".into(),
        occupation: "Kỹ sư cầu đường".into(),
        representative: RepresentativeInput {
            name: "Phạm Quang Giám".into(),
            relationship: "Người giám hộ".into(),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// What may appear nowhere: every value of the draft, the names, the comment, the passphrases.
fn secrets() -> Vec<String> {
    let p = person();
    let mut out: Vec<String> = [
        &p.birth_name,
        &p.other_name,
        &p.personal_id,
        &p.old_id_number,
        &p.date_of_birth,
        &p.place_of_birth,
        &p.hometown,
        &p.father.name,
        &p.father.personal_id,
        &p.permanent_residence.street,
        &p.phone,
        &p.email,
        &p.occupation,
        &p.representative.name,
        &p.representative.relationship,
    ]
    .into_iter()
    .cloned()
    .collect();
    out.extend(
        [SUPERVISOR, OPERATOR, PASS, OPERATOR_PASS, COMMENT]
            .into_iter()
            .map(str::to_owned),
    );
    // The words and digit groups too: a log may quote part of a value.
    let words: Vec<String> = out
        .iter()
        .flat_map(|s| s.split(|c: char| !c.is_alphanumeric()))
        .filter(|w| w.chars().count() >= 4)
        .map(str::to_owned)
        .collect();
    out.extend(words);
    out.extend(["912345678".to_owned(), "+84912345678".to_owned()]);
    out
}

fn assert_no_secret(what: &str, text: &str) {
    for s in secrets() {
        assert!(!text.contains(&s), "{what} holds {s:?}:\n{text}");
    }
}

/// A subscriber that writes every span and event, with all their fields, to one string.
struct Capture {
    out: Arc<Mutex<String>>,
    next_span: AtomicU64,
}

struct Line<'a>(&'a mut String);

impl Visit for Line<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        write!(self.0, " {}={value:?}", field.name()).unwrap();
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        write!(self.0, " {}={value}", field.name()).unwrap();
    }
}

impl Capture {
    fn line(&self, kind: &str, meta: &Metadata<'_>, fields: impl FnOnce(&mut Line<'_>)) {
        let mut line = format!("{kind} {} {} {}:", meta.level(), meta.target(), meta.name());
        fields(&mut Line(&mut line));
        line.push('\n');
        self.out.lock().unwrap().push_str(&line);
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::TRACE)
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        self.line("span", span.metadata(), |l| span.record(l));
        Id::from_u64(self.next_span.fetch_add(1, Ordering::Relaxed))
    }

    fn record(&self, _: &Id, values: &Record<'_>) {
        let mut line = "span record:".to_owned();
        values.record(&mut Line(&mut line));
        line.push('\n');
        self.out.lock().unwrap().push_str(&line);
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        self.line("event", event.metadata(), |l| event.record(l));
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// The tests of this file run one at a time: `tracing` caches per call site whether anyone
/// listens, and a vault made on another thread with no subscriber while the capture is being
/// installed can leave a call site marked "never" (seen: "vault created" missing from the log).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Runs `body` with every `tracing` span and event of this thread captured at TRACE level.
fn capture_logs(body: impl FnOnce()) -> String {
    let out = Arc::new(Mutex::new(String::new()));
    let subscriber = Capture {
        out: Arc::clone(&out),
        next_span: AtomicU64::new(1),
    };
    tracing::subscriber::with_default(subscriber, body);
    let text = out.lock().unwrap().clone();
    text
}

/// One session's worth of vault work on a record full of personal data.
fn a_day_of_work(dir: &std::path::Path) {
    let kdf = KdfParams::insecure_fast_for_tests;
    let (vault, supervisor) = Vault::create(dir, SUPERVISOR, PASS, kdf()).unwrap();
    vault
        .add_operator(OPERATOR, OPERATOR_PASS, Role::Operator, kdf())
        .unwrap();
    let id = vault.save_draft(None, supervisor.id, &person()).unwrap();
    let mut edited = person();
    edited.mother.name = "Trần Thị Lụa".into();
    vault.save_draft(Some(id), supervisor.id, &edited).unwrap();
    vault
        .store_media(id, MediaKind::Portrait, "jpeg", b"\xff\xd8 portrait bytes")
        .unwrap();
    assert_eq!(vault.list().unwrap().len(), 1);
    vault.finalise(id).unwrap();
    vault.send_back(id, COMMENT).unwrap();
    vault
        .save_draft(Some(id), supervisor.id, &person())
        .unwrap();
    vault.finalise(id).unwrap();
    vault.approve(id, Approval::Supervisor).unwrap();
    vault
        .seal(id, &person(), BundleId::new(), b"sealed bytes")
        .unwrap();
    assert_eq!(vault.due_uploads(i64::MAX).unwrap().len(), 1);
    vault.lock().unwrap();

    // A wrong passphrase, then the right one (which audits the failure), then the other account.
    assert!(matches!(
        Vault::unlock(dir, "sai mật khẩu"),
        Err(VaultError::WrongPassphrase)
    ));
    let (vault, _) = Vault::unlock(dir, PASS).unwrap();
    vault.close().unwrap();
    let (vault, operator) = Vault::unlock(dir, OPERATOR_PASS).unwrap();
    assert_eq!(operator.name, OPERATOR);
    assert_eq!(vault.enrollment(id).unwrap().input, person());
    // And the remote wipe, which logs a warning.
    vault.wipe().unwrap();
}

#[test]
fn the_vault_logs_no_personal_data_at_trace_level() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("vault");
    let log = capture_logs(|| a_day_of_work(&dir));

    // The capture works and reaches TRACE: the vault's own events are there.
    for expected in [
        "vault created",
        "operator added",
        "TRACE ghidanh_vault",
        "draft saved",
        "vault unlocked",
        "vault wiped",
        // The values logged are the redacted Debugs: field names, ids and roles only.
        "EnrollmentInput { filled: [birth_name",
        "Operator { id: ",
        "role: Operator",
    ] {
        assert!(log.contains(expected), "the log lacks {expected:?}:\n{log}");
    }
    assert_no_secret("the vault's log", &log);
}

#[test]
fn debug_of_operators_and_enrollments_shows_no_personal_data() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("vault");
    let kdf = KdfParams::insecure_fast_for_tests;
    let (vault, supervisor) = Vault::create(&dir, SUPERVISOR, PASS, kdf()).unwrap();
    let operator = vault
        .add_operator(OPERATOR, OPERATOR_PASS, Role::Operator, kdf())
        .unwrap();
    let id = vault.save_draft(None, supervisor.id, &person()).unwrap();
    vault.finalise(id).unwrap();
    vault.send_back(id, COMMENT).unwrap();
    let summary = vault.enrollment(id).unwrap();
    assert_eq!(summary.review_comment.as_deref(), Some(COMMENT));
    let texts = [
        format!("{supervisor:?}"),
        format!("{operator:#?}"),
        format!("{:?}", vault.operators().unwrap()),
        format!("{summary:?}"),
        format!("{summary:#?}"),
        format!("{:?}", vault.list().unwrap()),
    ];
    for text in &texts {
        assert_no_secret("Debug", text);
    }
    assert!(texts[0].contains("role: Supervisor"), "{}", texts[0]);
    assert!(texts[3].contains("state: Draft"), "{}", texts[3]);
}
