//! `ghidanh loadgen` against a real `ghidanh registry serve` child process on an embedded
//! store, and `ghidanh bench ingest` end to end. Nothing here depends on timing: only
//! counts, stored rows and the shape of the output are checked.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use ghidanh_bundle::Provisioning;

const BIN: &str = env!("CARGO_BIN_EXE_ghidanh");

fn ghidanh<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new(BIN)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A running `ghidanh registry serve`, killed when dropped (also when a test panics).
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(data: &Path) -> Server {
        let mut child = Command::new(BIN)
            .args(["registry", "serve", "--data"])
            .arg(data)
            .args(["--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        // Keeps draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut server = Server {
            child,
            url: String::new(),
        };
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the server printed no line within 30 s");
        server.url = line
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line}"))
            .to_owned();
        server
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A registry with `devices` provisioned devices, their files in `<tmp>/devices/`.
struct Setup {
    dir: tempfile::TempDir,
    device_ids: BTreeSet<String>,
}

impl Setup {
    fn new(devices: usize) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let s = Setup {
            dir,
            device_ids: BTreeSet::new(),
        };
        let o = ghidanh([
            OsStr::new("registry"),
            OsStr::new("init"),
            OsStr::new("--data"),
            s.data().as_os_str(),
        ]);
        assert!(o.status.success(), "{o:?}");
        std::fs::create_dir(s.devices()).unwrap();
        let mut s = s;
        for i in 0..devices {
            let out = s.devices().join(format!("kit-{i}.prov"));
            let o = ghidanh([
                OsStr::new("device"),
                OsStr::new("provision"),
                OsStr::new("--data"),
                s.data().as_os_str(),
                // The provisioned URL is not where the registry listens: --url decides.
                OsStr::new("--url"),
                OsStr::new("http://127.0.0.1:9"),
                OsStr::new("--out"),
                out.as_os_str(),
            ]);
            assert!(o.status.success(), "{o:?}");
            let p = Provisioning::parse(&std::fs::read(&out).unwrap()).unwrap();
            s.device_ids.insert(p.device_id.to_string());
        }
        s
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("registry")
    }

    fn devices(&self) -> PathBuf {
        self.dir.path().join("devices")
    }

    fn loadgen(&self, server: &Server, extra: &[&str]) -> Output {
        let mut args: Vec<std::ffi::OsString> = vec![
            "loadgen".into(),
            "--url".into(),
            server.url.clone().into(),
            "--provisioning".into(),
            self.devices().into(),
        ];
        args.extend(extra.iter().map(Into::into));
        ghidanh(args)
    }

    /// `registry bundles --json`: one object per accepted bundle.
    fn listed(&self) -> Vec<serde_json::Value> {
        let o = ghidanh([
            OsStr::new("registry"),
            OsStr::new("bundles"),
            OsStr::new("--data"),
            self.data().as_os_str(),
            OsStr::new("--json"),
        ]);
        assert!(o.status.success(), "{o:?}");
        stdout(&o)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Rows of the registry's enrollments table, read from its data folder.
    fn enrollments(&self) -> i64 {
        let db = rusqlite::Connection::open_with_flags(
            self.data().join("registry.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        db.query_row("SELECT COUNT(*) FROM enrollments", [], |r| r.get(0))
            .unwrap()
    }
}

#[test]
fn loadgen_delivers_every_bundle_once_and_a_replay_is_not_counted_twice() {
    let s = Setup::new(3);
    let server = Server::start(&s.data());

    let o = s.loadgen(
        &server,
        &[
            "--bundles",
            "20",
            "--concurrency",
            "4",
            "--size",
            "4096",
            "--replay",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 1, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["bundles"], 20, "{v}");
    assert_eq!(v["devices"], 3, "{v}");
    assert_eq!(v["upload"], "resumable", "{v}");
    assert_eq!(
        (
            &v["accepted"],
            &v["duplicate"],
            &v["rejected"],
            &v["errors"]
        ),
        (&20.into(), &0.into(), &0.into(), &0.into()),
        "{v}"
    );
    assert_eq!(v["reasons"], serde_json::json!({}), "{v}");
    // The replay: the same bytes again, each answered with its first acceptance (by
    // resumable upload: the completed upload's kept receipt, the same receipt id).
    assert_eq!(v["replay"]["firstAcceptance"], 20, "{v}");
    assert_eq!(v["replay"]["accepted"], 20, "{v}");
    assert_eq!(v["replay"]["rejected"], 0, "{v}");
    assert_eq!(v["replay"]["errors"], 0, "{v}");
    assert!(v["bundlesPerSec"].as_f64().unwrap() > 0.0, "{v}");
    assert!(v["mbPerSec"].as_f64().unwrap() > 0.0, "{v}");
    let (p50, p99) = (
        v["latencyMs"]["p50"].as_f64().unwrap(),
        v["latencyMs"]["p99"].as_f64().unwrap(),
    );
    assert!(0.0 < p50 && p50 <= p99, "{v}");

    // The store holds exactly the 20, spread round-robin over the 3 devices.
    assert_eq!(s.enrollments(), 20);
    let listed = s.listed();
    assert_eq!(listed.len(), 20);
    let mut per_device: BTreeMap<String, usize> = BTreeMap::new();
    for b in &listed {
        assert_eq!(b["verdict"], "accepted", "{b}");
        *per_device
            .entry(b["deviceId"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert_eq!(
        per_device.keys().cloned().collect::<BTreeSet<_>>(),
        s.device_ids
    );
    let mut counts: Vec<usize> = per_device.into_values().collect();
    counts.sort_unstable();
    assert_eq!(counts, vec![6, 7, 7]);

    // A second run with the same provisioning files (the same keys register again), by
    // single POST this time, replayed, in text: five more, nothing counted twice.
    let o = s.loadgen(
        &server,
        &[
            "--bundles",
            "5",
            "--size",
            "4096",
            "--upload",
            "post",
            "--replay",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let text = stdout(&o);
    assert!(
        text.contains("accepted 5  duplicate 0  rejected 0  errors 0"),
        "{text}"
    );
    assert!(text.contains("post uploads"), "{text}");
    // By single POST a replay is a verified duplicate naming the first receipt.
    assert!(
        text.contains("replay: 5 of 5 answered with the first acceptance (duplicate 5, the same accepted receipt 0)"),
        "{text}"
    );
    assert!(
        text.contains("throughput ") && text.contains(" bundles/s "),
        "{text}"
    );
    assert!(
        text.contains("latency p50 ") && text.contains(" p99 "),
        "{text}"
    );
    assert!(
        text.lines()
            .last()
            .unwrap()
            .starts_with("ok: every bundle has a verified accepted receipt"),
        "{text}"
    );
    assert_eq!(s.enrollments(), 25);
    assert_eq!(s.listed().len(), 25);
}

#[test]
fn loadgen_fails_when_a_device_cannot_deliver() {
    let s = Setup::new(2);
    let server = Server::start(&s.data());
    let o = s.loadgen(&server, &["--bundles", "2", "--size", "1024"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");

    let revoked = s.device_ids.iter().next().unwrap().clone();
    let o = ghidanh([
        OsStr::new("registry"),
        OsStr::new("revoke-device"),
        OsStr::new("--data"),
        s.data().as_os_str(),
        OsStr::new("--device"),
        OsStr::new(&revoked),
    ]);
    assert!(o.status.success(), "{o:?}");
    let o = s.loadgen(&server, &["--bundles", "2", "--size", "1024"]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(&revoked) && err.contains("revoked"), "{err}");
    assert_eq!(s.enrollments(), 2);

    // No registry at all: an error, not a success with zero bundles.
    drop(server);
    let o = ghidanh([
        OsStr::new("loadgen"),
        OsStr::new("--url"),
        OsStr::new("http://127.0.0.1:9"),
        OsStr::new("--provisioning"),
        s.devices().as_os_str(),
        OsStr::new("--bundles"),
        OsStr::new("1"),
    ]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
}

#[test]
fn bench_ingest_prints_the_table_and_ends_with_the_throughput_ratio() {
    let o = ghidanh(["bench", "ingest", "--bundles", "20", "--devices", "2"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("bench ingest: 20 bundles of ") && lines[0].contains("2 devices"),
        "{text}"
    );
    assert!(
        lines[1].starts_with("side") && lines[1].contains("bundles/s"),
        "{text}"
    );
    assert_eq!(lines.len(), 7, "{text}");
    for (line, label) in lines[2..6].iter().zip([
        "registry, resumable uploads",
        "registry, one POST per bundle",
        "  of which: Registry::ingest in-process, no HTTP",
        "baseline: write_durably + journal fdatasync",
    ]) {
        assert!(line.starts_with(label), "{text}");
        // bundles/s, MB/s, p50, p99, ratio, p99 ratio: six positive numbers.
        let figures: Vec<f64> = line[label.len()..]
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        assert_eq!(figures.len(), 6, "{line}");
        assert!(figures.iter().all(|f| *f > 0.0), "{line}");
    }
    let last = *lines.last().unwrap();
    let ratio = last
        .strip_prefix("ingest_throughput ratio=")
        .and_then(|r| r.strip_suffix(" goal=0.5"))
        .unwrap_or_else(|| panic!("last line: {last}"));
    assert!(
        !ratio.is_empty() && ratio.bytes().all(|b| b.is_ascii_digit() || b == b'.'),
        "{last}"
    );
    assert!(ratio.parse::<f64>().unwrap() > 0.0, "{last}");
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("ingest_throughput"))
            .count(),
        1
    );
}
