//! `ghidanh registry publish-reference` against the real binary: publishes a checked list,
//! refuses one not newer or not valid (exit 1, naming why), usage errors exit 2.

use std::process::Command;

const COMMUNES: &str = include_str!("../../../schema/reference/communes.tsv");

fn ghidanh(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ghidanh"))
        .args(args)
        .env("RUST_LOG", "off")
        .output()
        .expect("run ghidanh");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn communes(version: &str, row: &str) -> String {
    COMMUNES
        .lines()
        .map(|l| {
            if l.starts_with("# version:") {
                format!("# version: {version}\n")
            } else if l.starts_with("00004\t") {
                format!("{row}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect()
}

#[test]
fn publishes_a_newer_valid_list_and_refuses_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("reg");
    let data = data.to_str().unwrap();
    assert_eq!(ghidanh(&["registry", "init", "--data", data]).0, 0);
    let file = dir.path().join("c.tsv");
    let file = file.to_str().unwrap();
    let v = "vietnam-provinces-2026.1.0";
    let publish = |version: &str| {
        ghidanh(&[
            "registry",
            "publish-reference",
            "--data",
            data,
            "--list",
            "communes",
            "--file",
            file,
            "--version",
            version,
        ])
    };

    std::fs::write(file, communes(v, "99001\tBa Đình Mới\tquận\t001")).unwrap();
    let (code, _, err) = publish(v);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("communes.tsv line") && err.contains("quận"),
        "{err}"
    );

    let good = communes(v, "99001\tBa Đình Mới\tphường\t001");
    std::fs::write(file, &good).unwrap();
    let (code, out, err) = publish(v);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!("published communes {v} ({} bytes)\n", good.len())
    );
    assert!(std::path::Path::new(data)
        .join("reference/communes.gdref")
        .exists());

    let (code, _, err) = publish(v);
    assert_eq!(code, 1);
    assert!(err.contains("is not newer than"), "{err}");

    let (code, _, err) = ghidanh(&[
        "registry",
        "publish-reference",
        "--data",
        data,
        "--list",
        "communes",
        "--file",
        file,
    ]);
    assert_eq!(code, 2, "{err}");
}
