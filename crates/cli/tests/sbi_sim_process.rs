//! `ghidanh sbi-sim` as a process: it starts, answers SBI with the seeded key, captures a
//! scripted finger and stops on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use ghidanh_sbi::{FingerRequest, SbiClient, SbiError};

const BIN: &str = env!("CARGO_BIN_EXE_ghidanh");

#[tokio::test]
async fn sbi_sim_serves_the_seeded_device_and_its_script() {
    let mut child = Command::new(BIN)
        .args(["sbi-sim", "--port", "0", "--seed", "5", "--quality", "poor"])
        .args(["--script", "good,no_finger"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let line = rx.recv_timeout(Duration::from_secs(30)).unwrap();
    let port: u16 = line
        .strip_prefix("listening on http://127.0.0.1:")
        .unwrap_or_else(|| panic!("unexpected first line: {line}"))
        .parse()
        .unwrap();
    let client = SbiClient::new(port);
    let info = client.device_info().await.unwrap();
    assert_eq!(info.serial, "000000000005");
    assert_eq!(
        info.key,
        *ghidanh_sbi::sim::device_key(5).verifying_key().as_bytes()
    );
    let req = FingerRequest {
        transaction_id: "cli-1".into(),
        position: 6,
        requested_score: 40,
        timeout: Duration::from_secs(5),
    };
    let good = client.capture_finger(&req).await.unwrap();
    assert_eq!(good.position, 6);
    assert!(good.device_quality > 60, "{}", good.device_quality);
    assert!(matches!(
        client.capture_finger(&req).await,
        Err(SbiError::NoFinger)
    ));
    let poor = client.capture_finger(&req).await.unwrap();
    assert!(poor.device_quality < 40, "{}", poor.device_quality);

    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{:?}", output.status);
    let log = String::from_utf8_lossy(&output.stderr);
    // One line per capture: finger, quality, outcome; never image bytes.
    let captures: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("sbi-sim capture"))
        .collect();
    assert_eq!(captures.len(), 3, "{log}");
    assert!(
        captures[0].contains("Left Thumb") && captures[0].contains("captured"),
        "{log}"
    );
    assert!(captures[1].contains("no_finger"), "{log}");
    assert!(
        captures[2].contains("quality=\"poor\"") || captures[2].contains("quality=poor"),
        "{log}"
    );
    assert!(
        log.len() < 10_000,
        "the log holds more than lines: {} bytes",
        log.len()
    );
}
