//! I/O faults (issue 4): a full disk and a read-only file system give a clear error
//! (`DiskFull` / `ReadOnly`, saying what was being done, no personal data) and lose nothing
//! that was already saved.
//!
//! Where the faults come from, in order of preference:
//! 1. a small tmpfs mounted for the test (needs root with CAP_SYS_ADMIN, as on the dev machine);
//! 2. the same, inside a user + mount namespace (`unshare -rm`), where the kernel allows it;
//! 3. for the full disk only: a file-size limit (`RLIMIT_FSIZE` through the shell's `ulimit -f`,
//!    with SIGXFSZ ignored so writes fail with EFBIG instead of killing the process). That needs
//!    no privilege at all and always runs as its own test too.
//!
//! When neither 1 nor 2 works, the tmpfs tests FAIL, saying why: there is no privilege-free way
//! to make a file system read-only under a process that owns the files (see docs/vault.md
//! "Faults"), and a test that cannot fail proves nothing. Only outside CI (`CI` unset, empty,
//! `false` or `0`), and only with `GHIDANH_FAULTS_NO_MOUNT=skip`, do they say so on stderr and
//! pass (the disk-full one then runs the file-size-limit flavour instead); in CI that opt-out
//! is refused.
//!
//! Children are this same test binary run again with `GHIDANH_FAULTS_CHILD=<role>`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ghidanh_bundle::{EnrollmentId, OperatorId};
use ghidanh_record::EnrollmentInput;
use ghidanh_vault::{KdfParams, Vault, VaultError};

const PASS: &str = "mật khẩu dài 123";
const CHILD_ENV: &str = "GHIDANH_FAULTS_CHILD";
/// `skip`: outside CI, let the tmpfs tests pass where no tmpfs can be mounted (documented in
/// docs/vault.md, "Faults"). Refused when `CI` is set.
const NO_MOUNT_ENV: &str = "GHIDANH_FAULTS_NO_MOUNT";
const DIR_ENV: &str = "GHIDANH_FAULTS_DIR";
/// A name no error message may contain.
const NAME: &str = "Nguyễn Thị Thuỳ Dương";
const ID_PREFIX: &str = "079190";

/// Draft `n`: deterministic and a few KB, so the disk fills in tens of saves, not thousands.
fn draft(n: u64) -> EnrollmentInput {
    EnrollmentInput {
        birth_name: format!("{NAME} {n}"),
        date_of_birth: "1990-04-30".into(),
        sex: "female".into(),
        personal_id: format!("{ID_PREFIX}{:06}", n % 1_000_000),
        place_of_birth: format!("Phường Bến Thành {n} ").repeat(150),
        ..Default::default()
    }
}

fn draft_number(input: &EnrollmentInput) -> Option<u64> {
    let n = input.birth_name.rsplit_once(' ')?.1.parse().ok()?;
    (*input == draft(n)).then_some(n)
}

/// The message says what failed and what was being done, and nothing about a person.
fn assert_clear_message(e: &VaultError, words: &str) {
    let msg = e.to_string();
    assert!(msg.contains(words), "message {msg:?} lacks {words:?}");
    assert!(
        msg.contains("while trying to "),
        "message {msg:?} names no step"
    );
    for secret in [NAME, "Dương", ID_PREFIX, "Bến Thành", PASS] {
        assert!(!msg.contains(secret), "message {msg:?} holds {secret:?}");
    }
    let debug = format!("{e:?}");
    assert!(
        !debug.contains(NAME) && !debug.contains(ID_PREFIX),
        "{debug}"
    );
}

/// Saves drafts until a save fails; returns the acknowledged drafts (id → number) and the error.
fn fill(
    vault: &Vault,
    op: OperatorId,
    ack: &mut dyn FnMut(EnrollmentId, u64),
) -> (BTreeMap<EnrollmentId, u64>, VaultError) {
    let mut saved = BTreeMap::new();
    for n in 0..100_000u64 {
        match vault.save_draft(None, op, &draft(n)) {
            Ok(id) => {
                ack(id, n);
                saved.insert(id, n);
            }
            Err(e) => return (saved, e),
        }
    }
    panic!("100000 drafts saved and the disk never filled");
}

/// Everything acknowledged is there, exactly, and nothing else; the file is sound.
fn assert_all_there(dir: &Path, saved: &BTreeMap<EnrollmentId, u64>) {
    let (vault, _) = Vault::unlock(dir, PASS).expect("unlock after freeing space");
    assert_eq!(vault.integrity_check().unwrap(), "ok");
    let list = vault.list().unwrap();
    let found: BTreeMap<EnrollmentId, u64> = list
        .iter()
        .map(|s| {
            let n =
                draft_number(&s.input).unwrap_or_else(|| panic!("{} holds a damaged draft", s.id));
            (s.id, n)
        })
        .collect();
    // Equal maps: every acknowledged draft with its content, and the failed save left no row.
    assert_eq!(found.len(), saved.len(), "drafts found vs acknowledged");
    assert_eq!(&found, saved);
    // And the vault takes new work again.
    let id = vault
        .save_draft(None, vault.operator().id, &draft(999_999))
        .unwrap();
    assert_eq!(
        draft_number(&vault.enrollment(id).unwrap().input),
        Some(999_999)
    );
}

fn new_vault(dir: &Path) -> (Vault, OperatorId) {
    let (vault, op) = Vault::create(
        dir,
        "Trần Văn Cảnh",
        PASS,
        KdfParams::insecure_fast_for_tests(),
    )
    .unwrap();
    (vault, op.id)
}

// ---------------------------------------------------------------------------------------
// Mounting

/// A tmpfs mounted on a folder, unmounted when dropped (also when a test fails).
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Result<Tmpfs, String> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        run(
            "mount",
            &[
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ],
            dir,
        )?;
        Ok(Tmpfs {
            dir: dir.to_owned(),
        })
    }

    fn remount(&self, mode: &str) {
        // Type and source named: without them mount(8) re-applies the options it reads back
        // (`uid=`, `gid=` inside a user namespace), which the kernel refuses there.
        run(
            "mount",
            &["-t", "tmpfs", "-o", &format!("remount,{mode}"), "tmpfs"],
            &self.dir,
        )
        .unwrap_or_else(|e| panic!("remount {mode}: {e}"));
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy: a vault still open in a failing test must not keep the mount alive.
        if let Err(e) = run("umount", &["-l"], &self.dir) {
            eprintln!("faults: cannot unmount {}: {e}", self.dir.display());
        }
    }
}

fn run(cmd: &str, args: &[&str], path: &Path) -> Result<(), String> {
    let out = Command::new(cmd)
        .args(args)
        .arg(path)
        .output()
        .map_err(|e| format!("{cmd}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd} {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// How this machine lets a test mount a tmpfs.
enum Mounting {
    /// Here, directly.
    Direct,
    /// Only inside `unshare -rm`: the test re-runs itself there.
    Unshare,
    /// Not at all; the reasons.
    No(String),
}

fn mounting() -> Mounting {
    let probe = tempfile::tempdir().unwrap();
    // GHIDANH_FAULTS_MOUNT=unshare tries the namespace path on a machine that could mount.
    let force_unshare = std::env::var("GHIDANH_FAULTS_MOUNT").as_deref() == Ok("unshare");
    let direct = match Tmpfs::mount(&probe.path().join("m"), "64k") {
        Ok(_m) if !force_unshare => return Mounting::Direct,
        Ok(_m) => "not tried (GHIDANH_FAULTS_MOUNT=unshare)".to_owned(),
        Err(e) => e,
    };
    let out = Command::new("unshare")
        .args(["-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs \"$0\""])
        .arg(probe.path())
        .output();
    match out {
        Ok(o) if o.status.success() => Mounting::Unshare,
        Ok(o) => Mounting::No(format!(
            "mount: {direct}; unshare -rm: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Mounting::No(format!("mount: {direct}; unshare: {e}")),
    }
}

/// Runs test `name` of this binary again with `role`, optionally through a wrapper command.
fn rerun(name: &str, role: &str, wrapper: &[&str], envs: &[(&str, &str)]) -> Output {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = match wrapper.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(&exe);
            c
        }
        None => Command::new(&exe),
    };
    cmd.args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, role);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    // Shown by the parent so a failure in the child is readable.
    std::io::stderr().write_all(&out.stderr).ok();
    out
}

fn child_role() -> Option<String> {
    std::env::var(CHILD_ENV).ok()
}

/// Whether this runs in CI: `CI` set to anything but empty, `false` or `0` (GitHub, GitLab and
/// most others set `CI=true`).
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "false" | "0"))
}

/// No tmpfs can be mounted here (`why`): a failure, unless outside CI the run opted out with
/// `GHIDANH_FAULTS_NO_MOUNT=skip`, which is said on stderr. Returns only when skipping.
fn no_tmpfs(test: &str, why: &str) {
    let opted_out = std::env::var(NO_MOUNT_ENV).as_deref() == Ok("skip");
    let how = "run the tests as root with CAP_SYS_ADMIN (e.g. a container started with \
               --cap-add SYS_ADMIN or --privileged), or where unprivileged user namespaces \
               may mount (`unshare -rm`)";
    if in_ci() {
        panic!(
            "faults: {test}: CANNOT MOUNT A TMPFS ({why}). CI must stage this fault: {how}. \
             {NO_MOUNT_ENV}=skip is refused when CI is set{}.",
            if opted_out { " (and it is set)" } else { "" }
        );
    }
    if !opted_out {
        panic!(
            "faults: {test}: CANNOT MOUNT A TMPFS ({why}). To stage the fault, {how}; to \
             skip this case knowingly outside CI, set {NO_MOUNT_ENV}=skip (docs/vault.md, \
             Faults)."
        );
    }
    eprintln!("faults: {test}: SKIPPED the tmpfs case ({NO_MOUNT_ENV}=skip; {why})");
}

/// Runs `body` with a tmpfs where the machine allows one. Where none can be mounted it
/// fails, or returns false after saying so when the run opted out (see [`no_tmpfs`]).
fn with_tmpfs(test: &str, size: &str, body: fn(&Tmpfs)) -> bool {
    if child_role().as_deref() == Some("in-namespace") {
        let root = tempfile::tempdir().unwrap();
        body(&Tmpfs::mount(&root.path().join("mnt"), size).unwrap());
        return true;
    }
    match mounting() {
        Mounting::Direct => {
            eprintln!("faults: {test}: on a tmpfs mounted here");
            let root = tempfile::tempdir().unwrap();
            body(&Tmpfs::mount(&root.path().join("mnt"), size).unwrap());
            true
        }
        Mounting::Unshare => {
            eprintln!("faults: {test}: on a tmpfs inside unshare -rm");
            let out = rerun(test, "in-namespace", &["unshare", "-rm"], &[]);
            assert!(out.status.success(), "{test} failed inside unshare -rm");
            true
        }
        Mounting::No(why) => {
            no_tmpfs(test, &why);
            false
        }
    }
}

// ---------------------------------------------------------------------------------------
// Disk full on a tmpfs

fn disk_full_on(fs: &Tmpfs) {
    let dir = fs.dir.join("vault");
    // Made first, removed later: the space that lets the vault open again.
    let filler = fs.dir.join("filler");
    std::fs::write(&filler, vec![0x5a; 1024 * 1024]).unwrap();
    let (vault, op) = new_vault(&dir);
    let (saved, err) = fill(&vault, op, &mut |_, _| {});
    assert!(saved.len() >= 5, "only {} drafts fit", saved.len());
    assert!(matches!(err, VaultError::DiskFull(_)), "{err:?}");
    assert_clear_message(&err, "disk full");
    // Still full: the next save fails the same way, and reading still works.
    let again = vault.save_draft(None, op, &draft(100_001)).unwrap_err();
    assert!(matches!(again, VaultError::DiskFull(_)), "{again:?}");
    assert_eq!(vault.list().unwrap().len(), saved.len());
    drop(vault);

    std::fs::remove_file(&filler).unwrap();
    assert_all_there(&dir, &saved);
}

#[test]
fn disk_full_on_a_small_tmpfs_is_a_clear_error_and_loses_nothing() {
    let test = "disk_full_on_a_small_tmpfs_is_a_clear_error_and_loses_nothing";
    if !with_tmpfs(test, "6m", disk_full_on) {
        // Opted out of the tmpfs (never in CI): the other flavour of a full disk at least.
        eprintln!("faults: {test}: running the file-size-limit flavour instead");
        disk_full_under_a_file_size_limit_is_a_clear_error_and_loses_nothing();
    }
}

// ---------------------------------------------------------------------------------------
// Disk full under RLIMIT_FSIZE (no privilege needed)

#[test]
fn disk_full_under_a_file_size_limit_is_a_clear_error_and_loses_nothing() {
    let test = "disk_full_under_a_file_size_limit_is_a_clear_error_and_loses_nothing";
    if child_role().as_deref() == Some("fsize-writer") {
        return fsize_writer();
    }
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("vault");
    drop(new_vault(&dir));
    let db_len = std::fs::metadata(dir.join(ghidanh_vault::DB_FILE))
        .unwrap()
        .len();
    // 1 MiB of room past the database as it is, in the shell's 512-byte blocks. SIGXFSZ is
    // ignored in the shell and stays ignored across exec, so the writes fail with EFBIG.
    let blocks = (db_len + 1024 * 1024) / 512;
    let script = format!("trap '' XFSZ; ulimit -f {blocks} && exec \"$0\" \"$@\"");
    let out = rerun(
        test,
        "fsize-writer",
        &["sh", "-c", &script],
        &[(DIR_ENV, dir.to_str().unwrap())],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "writer failed: {stdout}");
    let mut saved = BTreeMap::new();
    let mut error = None;
    for line in stdout.lines() {
        // libtest prints "test … ... " without a newline before the child's first line.
        if let Some((_, rest)) = line.split_once("faults-ack ") {
            let (id, n) = rest.split_once(' ').unwrap();
            saved.insert(EnrollmentId::parse(id).unwrap(), n.parse::<u64>().unwrap());
        } else if let Some((_, rest)) = line.split_once("faults-error ") {
            error = Some(rest.to_owned());
        }
    }
    let error = error.expect("the writer never reported its error");
    assert!(saved.len() >= 5, "only {} drafts fit", saved.len());
    assert!(error.starts_with("DiskFull("), "writer's error: {error}");
    assert!(
        !error.contains(NAME) && !error.contains(ID_PREFIX),
        "{error}"
    );
    // A new process has no limit: the vault opens and holds every acknowledged draft.
    assert_all_there(&dir, &saved);
}

/// The child: saves until the limit bites, acknowledging each save on stdout.
fn fsize_writer() {
    let dir = PathBuf::from(std::env::var(DIR_ENV).unwrap());
    let (vault, _) = Vault::unlock(&dir, PASS).unwrap();
    let op = vault.operator().id;
    let mut out = std::io::stdout().lock();
    let (_, err) = fill(&vault, op, &mut |id, n| {
        writeln!(out, "faults-ack {id} {n}").unwrap();
        out.flush().unwrap();
    });
    assert_clear_message(&err, "disk full");
    writeln!(out, "faults-error {err:?}").unwrap();
    out.flush().unwrap();
    // Closing checkpoints into the limited file too; whatever it says, nothing is lost.
    drop(vault);
}

// ---------------------------------------------------------------------------------------
// Read-only file system

fn read_only_on(fs: &Tmpfs) {
    let dir = fs.dir.join("vault");
    let (vault, op) = new_vault(&dir);
    let saved: BTreeMap<EnrollmentId, u64> = (0..5)
        .map(|n| (vault.save_draft(None, op, &draft(n)).unwrap(), n))
        .collect();
    vault.close().unwrap();

    let before = files_of(&dir);

    fs.remount("ro");
    // The fault is real: the kernel refuses a write with EROFS, to root too (a chmod would not).
    let probe = std::fs::write(fs.dir.join("probe"), b"x").unwrap_err();
    assert_eq!(
        probe.kind(),
        std::io::ErrorKind::ReadOnlyFilesystem,
        "after remount,ro a write fails with {probe}"
    );
    // Unlocking writes its audit entry (and SQLCipher's WAL needs its -shm file), so on a
    // read-only file system it is refused, clearly, naming the step.
    let e = Vault::unlock(&dir, PASS).err().expect("unlock on ro");
    eprintln!("faults: unlock on a read-only file system: {e}");
    assert!(
        matches!(e, VaultError::ReadOnly("open the vault database")),
        "unlock on ro: {e:?}"
    );
    assert_clear_message(&e, "read-only file system");
    assert_eq!(
        e.to_string(),
        "read-only file system while trying to open the vault database"
    );
    // A wrong passphrase is still that (the operator's mistake comes first); the failure
    // counter cannot be written, which is a logged warning, not a panic or another error.
    let e = Vault::unlock(&dir, "sai mật khẩu").err().unwrap();
    assert!(
        matches!(e, VaultError::WrongPassphrase),
        "wrong passphrase on ro: {e:?}"
    );
    // And the right passphrase again: still the read-only refusal, not a rate limit.
    let e = Vault::unlock(&dir, PASS).err().expect("unlock on ro");
    assert!(matches!(e, VaultError::ReadOnly(_)), "unlock on ro: {e:?}");
    // Creating a vault there is refused as read-only.
    let e = Vault::create(
        &fs.dir.join("other"),
        "Lê Văn Tám",
        PASS,
        KdfParams::insecure_fast_for_tests(),
    )
    .err()
    .unwrap();
    assert!(matches!(e, VaultError::ReadOnly(_)), "create on ro: {e:?}");
    assert_clear_message(&e, "read-only file system");

    fs.remount("rw");
    // Nothing of the vault changed while it was read-only, and every draft is there, whole.
    assert_eq!(files_of(&dir), before, "the vault folder changed");
    assert_all_there(&dir, &saved);
}

/// Every file of a folder with its bytes.
fn files_of(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn read_only_file_system_is_a_clear_error_and_loses_nothing() {
    let test = "read_only_file_system_is_a_clear_error_and_loses_nothing";
    // Fails where no tmpfs can be mounted, except outside CI with GHIDANH_FAULTS_NO_MOUNT=skip.
    with_tmpfs(test, "16m", read_only_on);
}
