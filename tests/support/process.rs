//! Child processes that cannot outlive the test: each runs in its own process
//! group, and dropping its [`ChildGuard`] signals the whole group (SIGTERM,
//! then SIGKILL), so the grandchildren go too: tauri-driver starts
//! WebKitWebDriver, which starts the app, which starts WebKit's helpers.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use rustix::process::{kill_process_group, Pid, Signal};

/// How long a group gets to exit after SIGTERM before SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(3);

/// A running child process leading its own process group.
#[derive(Debug)]
pub struct ChildGuard {
    name: String,
    child: Child,
    log: Option<PathBuf>,
}

impl ChildGuard {
    /// Spawns `cmd` as the leader of a new process group. Its stdout and
    /// stderr go to `log` (created or truncated) unless the caller already
    /// configured them and passes `None`.
    pub fn spawn(name: &str, mut cmd: Command, log: Option<&Path>) -> Result<Self> {
        if let Some(log) = log {
            let out = File::create(log).with_context(|| format!("creating {}", log.display()))?;
            let err = out.try_clone()?;
            cmd.stdout(out).stderr(err);
        }
        cmd.stdin(Stdio::null()).process_group(0);
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {name} ({:?})", cmd.get_program()))?;
        Ok(Self {
            name: name.to_owned(),
            child,
            log: log.map(Path::to_path_buf),
        })
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Fails if the process has already exited, quoting the end of its log.
    pub fn ensure_running(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("{} exited early ({status}){}", self.name, self.log_tail());
        }
        Ok(())
    }

    /// The last lines of the log, for error messages.
    pub fn log_tail(&self) -> String {
        let Some(log) = &self.log else {
            return String::new();
        };
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(30)..].join("\n");
        format!("\n--- last lines of {} ---\n{tail}", log.display())
    }

    /// SIGKILL to the group at once, as a power cut would end it: no shutdown code runs.
    pub fn kill_hard(&mut self) {
        let _ = kill_process_group(Pid::from_child(&self.child), Signal::KILL);
        let _ = self.child.wait();
    }

    /// SIGTERM to the group, SIGKILL after a grace period. Idempotent.
    pub fn stop(&mut self) {
        let group = Pid::from_child(&self.child);
        // Errors mean "no such group any more": nothing left to stop.
        let _ = kill_process_group(group, Signal::TERM);
        let deadline = Instant::now() + TERM_GRACE;
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) && !group_alive(group) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = kill_process_group(group, Signal::KILL);
        let _ = self.child.wait();
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether any live process is still in `group`.
fn group_alive(group: Pid) -> bool {
    pids_in_group(group.as_raw_nonzero().get().unsigned_abs())
        .map(|pids| !pids.is_empty())
        .unwrap_or(false)
}

/// Processes whose process group is `pgid`, from `/proc`. Zombies count as
/// gone.
pub fn pids_in_group(pgid: u32) -> Result<Vec<u32>> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc")? {
        let entry = entry?;
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ppid pgrp ...": comm may contain spaces and ')'.
        let Some(after_comm) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        let mut fields = after_comm.split_whitespace();
        let state = fields.next();
        let pgrp = fields.nth(1).and_then(|s| s.parse::<u32>().ok());
        if pgrp == Some(pgid) && state != Some("Z") {
            pids.push(pid);
        }
    }
    Ok(pids)
}

/// `N` distinct TCP ports on 127.0.0.1 that were free a moment ago.
pub fn free_ports<const N: usize>() -> Result<[u16; N]> {
    // Hold every listener until all ports are chosen, so they differ.
    let listeners = (0..N)
        .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)))
        .collect::<std::io::Result<Vec<_>>>()
        .context("binding a free local port")?;
    let mut ports = [0; N];
    for (port, listener) in ports.iter_mut().zip(&listeners) {
        *port = listener.local_addr()?.port();
    }
    Ok(ports)
}

/// An Xvfb server on a display number it chose itself (`-displayfd`).
#[derive(Debug)]
pub struct Xvfb {
    pub display: String,
    guard: ChildGuard,
}

impl Xvfb {
    /// Screen size: room for the 1200x800 window (no window manager, so it
    /// sits at 0,0 without decorations).
    pub const SCREEN: &'static str = "1280x1024x24";

    pub fn start(log: &Path) -> Result<Self> {
        let xvfb = crate::paths::find_executable("Xvfb", None)
            .context("Xvfb not found: install the Debian package xvfb")?;
        let mut cmd = Command::new(xvfb);
        cmd.args(["-displayfd", "1", "-screen", "0", Self::SCREEN])
            .args(["-nolisten", "tcp", "-noreset"])
            .stdout(Stdio::piped())
            .stderr(File::create(log).with_context(|| format!("creating {}", log.display()))?);
        let mut guard = ChildGuard::spawn("Xvfb", cmd, None)?;
        guard.log = Some(log.to_path_buf());
        let stdout = guard.child_mut().stdout.take().context("Xvfb stdout")?;

        // Xvfb writes the display number once it accepts connections.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = tx.send(BufReader::new(stdout).read_line(&mut line).map(|_| line));
        });
        let line = match rx.recv_timeout(Duration::from_secs(15)) {
            Ok(Ok(line)) if !line.trim().is_empty() => line,
            _ => bail!("Xvfb did not report a display number{}", guard.log_tail()),
        };
        let number: u32 = line
            .trim()
            .parse()
            .with_context(|| format!("Xvfb printed {line:?}, not a display number"))?;
        Ok(Self {
            display: format!(":{number}"),
            guard,
        })
    }

    pub fn stop(&mut self) {
        self.guard.stop();
    }
}

/// Spawns a `ghidanh` server (stdout piped, stderr dropped) and waits up to 30 s for its first
/// line, `listening on URL`; answers the URL. Its stdout is drained afterwards so the server
/// never blocks on a full pipe.
pub fn spawn_listening(name: &str, mut cmd: Command) -> Result<(ChildGuard, String)> {
    cmd.stdout(Stdio::piped()).stderr(Stdio::null());
    let mut child = ChildGuard::spawn(name, cmd, None)?;
    let out = child
        .child_mut()
        .stdout
        .take()
        .with_context(|| format!("{name} stdout"))?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .with_context(|| format!("the {name} printed nothing within 30 s"))?;
    let url = line
        .strip_prefix("listening on ")
        .with_context(|| format!("unexpected first line from the {name}: {line}"))?
        .to_owned();
    Ok((child, url))
}
