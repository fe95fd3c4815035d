//! A list kept in one setting and changed by two processes at once (the app's sync worker
//! and `ghidanh import-receipts` both change the custody list): `update_setting` reads and
//! writes in one immediate transaction, so no change is lost. Two handles on the same vault
//! files stand for the two processes.

use ghidanh_vault::{KdfParams, Vault};

const PASS: &str = "mật khẩu dài 123";

#[test]
fn two_handles_appending_to_one_setting_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (first, _) = Vault::create(
        dir.path(),
        "Trần Văn Cảnh",
        PASS,
        KdfParams::insecure_fast_for_tests(),
    )
    .unwrap();
    let (second, _) = Vault::unlock(dir.path(), PASS).unwrap();
    let run = |vault: Vault, tag: &'static str| {
        std::thread::spawn(move || {
            for i in 0..50 {
                vault
                    .update_setting("list", |current| {
                        format!("{}{tag}{i}\n", current.unwrap_or_default())
                    })
                    .unwrap();
            }
            vault
        })
    };
    let a = run(first, "a");
    let b = run(second, "b");
    let first = a.join().unwrap();
    let _second = b.join().unwrap();
    let value = first.setting("list").unwrap().unwrap();
    let lines: Vec<&str> = value.lines().collect();
    assert_eq!(lines.len(), 100, "{value}");
    for tag in ["a", "b"] {
        for i in 0..50 {
            assert!(
                lines.contains(&format!("{tag}{i}").as_str()),
                "{tag}{i} lost"
            );
        }
    }
}
