//! `ghidanh bench bundle` through the real binary, on a tiny run: the figures are the
//! machine's, so the test checks the report's shape and that every figure is a real number.

use std::process::Command;

#[test]
fn bench_bundle_prints_the_table_then_the_two_ratio_lines() {
    let out = Command::new(env!("CARGO_BIN_EXE_ghidanh"))
        .args(["bench", "bundle", "--seconds", "0.05"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("bundle: plaintext "), "{stdout}");
    let raw = lines
        .iter()
        .find(|l| l.starts_with("raw ChaCha20-Poly1305"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(raw.trim_end().ends_with("1.00"), "{raw}");
    for row in ["seal+sign", "verify+open", "  of which: BLAKE3 digest"] {
        let line = lines
            .iter()
            .find(|l| l.starts_with(row))
            .unwrap_or_else(|| panic!("no {row} in {stdout}"));
        let ratio: f64 = line.split_whitespace().last().unwrap().parse().unwrap();
        assert!(ratio.is_finite() && ratio > 0.0, "{line}");
    }
    let n = lines.len();
    for (line, prefix) in [
        (lines[n - 2], "seal_sign ratio="),
        (lines[n - 1], "verify_open ratio="),
    ] {
        let ratio = line
            .strip_prefix(prefix)
            .and_then(|r| r.strip_suffix(" goal=0.5"))
            .unwrap_or_else(|| panic!("{line}"));
        let r: f64 = ratio.parse().unwrap();
        // Debug builds are slower than the raw cipher (kept at opt-level 3) but never faster.
        assert!(r > 0.0 && r < 1.5, "{line}");
    }
}
