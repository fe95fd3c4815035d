//! `ghidanh bench vault` through the real binary, on a tiny run: the figures are the
//! machine's, so the test checks the report's shape and that every figure is a real number.

use std::process::Command;

#[test]
fn bench_vault_prints_the_table_then_the_two_ratio_lines() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ghidanh"))
        .args([
            "bench",
            "vault",
            "--autosaves",
            "20",
            "--seals",
            "3",
            "--dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("vault: autosave N=20 "), "{stdout}");
    assert!(lines[0].contains("seal N=3 (bundle 400 KiB)"), "{stdout}");
    for row in ["autosave p50 ms", "autosave p99 ms", "sealed enrollments/s"] {
        let line = lines.iter().find(|l| l.starts_with(row)).unwrap();
        let figures: Vec<f64> = line
            .split_whitespace()
            .rev()
            .take(3)
            .map(|f| f.parse().unwrap())
            .collect();
        assert!(figures.iter().all(|f| f.is_finite() && *f > 0.0), "{line}");
    }
    let n = lines.len();
    assert!(lines[n - 3].starts_with("autosave_p99_ms="), "{stdout}");
    assert!(lines[n - 3].ends_with(" target_ms=20"), "{stdout}");
    for (line, prefix, goal) in [
        (lines[n - 2], "autosave_p99 ratio=", " goal=0.5"),
        (lines[n - 1], "seal_throughput ratio=", " goal=0.5"),
    ] {
        let ratio = line
            .strip_prefix(prefix)
            .and_then(|r| r.strip_suffix(goal))
            .unwrap_or_else(|| panic!("{line}"));
        assert!(ratio.parse::<f64>().unwrap() > 0.0, "{line}");
    }
    // The temporary databases are gone once the command ends.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
