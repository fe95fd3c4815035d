//! One WebDriver session on the real app: display, tauri-driver, app.
//!
//! How the pieces connect: the test talks WebDriver (plain HTTP) to
//! `tauri-driver --port P`, which starts `WebKitWebDriver --port N` and
//! forwards to it, turning `tauri:options.application` into WebKitGTK's
//! browser binary. WebKitWebDriver then launches the app as its "browser".
//! tauri-driver has no capability for environment variables: the app inherits
//! the environment of tauri-driver (through WebKitWebDriver), so `DISPLAY`,
//! `GHIDANH_DATA_DIR` and friends are set on the tauri-driver process, and
//! every session therefore gets its own tauri-driver.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::paths;
use crate::process::{pids_in_group, ChildGuard, Xvfb};

/// How long tauri-driver gets to answer `/status`.
const DRIVER_READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the app gets to start and load its page (new session).
const SESSION_TIMEOUT: Duration = Duration::from_secs(60);
/// Drivers started before a session is given up (see `AppSession::launch`).
const SESSION_ATTEMPTS: u32 = 3;
/// `GHIDANH_E2E_XVFB=1`: start Xvfb even when `$DISPLAY` is set (keeps the
/// app off a developer's desktop).
pub const ENV_FORCE_XVFB: &str = "GHIDANH_E2E_XVFB";
/// Default wait for elements.
pub const ELEMENT_TIMEOUT: Duration = Duration::from_secs(10);

/// What to launch the app with.
#[derive(Debug, Clone, Default)]
pub struct LaunchOptions {
    /// Names the log directory (`target/e2e-logs/<name>/`).
    pub name: String,
    /// Extra environment for the app (through tauri-driver), e.g.
    /// `GHIDANH_PROVISIONING`. `GHIDANH_DATA_DIR` is always set to a fresh
    /// temporary directory unless given here.
    pub env: Vec<(String, OsString)>,
    /// Always start Xvfb, even when `$DISPLAY` is set (also with
    /// `GHIDANH_E2E_XVFB=1`).
    pub force_xvfb: bool,
}

impl LaunchOptions {
    pub fn named(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            ..Self::default()
        }
    }

    pub fn env(mut self, key: &str, value: impl Into<OsString>) -> Self {
        self.env.push((key.to_owned(), value.into()));
        self
    }

    /// The environment of capture devices (scanner port, camera).
    pub fn devices(self, devices: &crate::capture::CaptureDevices) -> Self {
        devices
            .env()
            .into_iter()
            .fold(self, |options, (key, value)| options.env(key, value))
    }
}

/// The running app under WebDriver. Drop kills every process it started;
/// prefer [`AppSession::quit`] at the end of a passing test, which also ends
/// the WebDriver session cleanly.
#[derive(Debug)]
pub struct AppSession {
    client: Option<Client>,
    // Field order is drop order: the driver (and with it the app) goes
    // before the display and before the data directory is deleted.
    driver: ChildGuard,
    xvfb: Option<Xvfb>,
    data_dir: TempDir,
    display: String,
    app_binary: PathBuf,
    logs: PathBuf,
}

impl AppSession {
    /// Starts Xvfb (unless `$DISPLAY` is set), tauri-driver on free ports and
    /// a session running the app, and waits until the app's page is loaded.
    pub async fn launch(options: LaunchOptions) -> Result<Self> {
        let app_binary = paths::app_binary()?;
        let driver_bin = paths::tauri_driver()?;
        if paths::find_executable("WebKitWebDriver", None).is_none() {
            bail!("WebKitWebDriver not found: install the Debian package webkit2gtk-driver");
        }
        let name = if options.name.is_empty() {
            "session"
        } else {
            &options.name
        };
        let logs = paths::logs_dir().join(name);
        std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;

        let force_xvfb =
            options.force_xvfb || std::env::var_os(ENV_FORCE_XVFB).is_some_and(|v| v == "1");
        let existing_display = std::env::var("DISPLAY").ok().filter(|d| !d.is_empty());
        let (xvfb, display) = match existing_display {
            Some(display) if !force_xvfb => (None, display),
            _ => {
                let xvfb = Xvfb::start(&logs.join("xvfb.log"))?;
                let display = xvfb.display.clone();
                (Some(xvfb), display)
            }
        };

        let data_dir = tempfile::Builder::new()
            .prefix("ghidanh-e2e-")
            .tempdir()
            .context("creating the app's data dir")?;

        // Under load WebKitWebDriver sometimes drops the first connection while the app
        // starts ("webdriver server did not respond"); a fresh driver then opens the session.
        let mut attempt = 0;
        let (client, driver) = loop {
            attempt += 1;
            let [port, native_port] = crate::process::free_ports::<2>()?;
            let mut cmd = Command::new(&driver_bin);
            cmd.arg("--port")
                .arg(port.to_string())
                .arg("--native-port")
                .arg(native_port.to_string())
                .env("DISPLAY", &display)
                .env("GHIDANH_DATA_DIR", data_dir.path())
                // Keep the app's logs readable and its behaviour predictable.
                .env("NO_AT_BRIDGE", "1")
                .env_remove("WAYLAND_DISPLAY");
            for (key, value) in &options.env {
                cmd.env(key, value);
            }
            let mut driver =
                ChildGuard::spawn("tauri-driver", cmd, Some(&logs.join("tauri-driver.log")))?;

            wait_for_status(&mut driver, port).await?;

            let capabilities = json!({
                // No browserName: WebKitWebDriver refuses the session with it.
                "tauri:options": { "application": app_binary },
            });
            let Value::Object(capabilities) = capabilities else {
                unreachable!("json! object literal")
            };
            let url = format!("http://127.0.0.1:{port}");
            let mut builder = ClientBuilder::new(HttpConnector::new());
            builder.capabilities(capabilities);
            match tokio::time::timeout(SESSION_TIMEOUT, builder.connect(&url)).await {
                Ok(Ok(client)) => break (client, driver),
                Ok(Err(e)) if attempt < SESSION_ATTEMPTS => {
                    eprintln!(
                        "WebDriver session attempt {attempt} failed ({e}); starting a fresh driver"
                    );
                    drop(driver);
                }
                Ok(Err(e)) => bail!(
                    "WebDriver session for {} failed after {attempt} attempts: {e}{}",
                    app_binary.display(),
                    driver.log_tail()
                ),
                Err(_) => bail!(
                    "WebDriver session for {} not open after {SESSION_TIMEOUT:?}{}",
                    app_binary.display(),
                    driver.log_tail()
                ),
            }
        };

        Ok(Self {
            client: Some(client),
            driver,
            xvfb,
            data_dir,
            display,
            app_binary,
            logs,
        })
    }

    pub fn client(&self) -> &Client {
        self.client.as_ref().expect("session already closed")
    }

    /// The app's `GHIDANH_DATA_DIR`, deleted after the session.
    pub fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    /// The X display the app runs on.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// Where tauri-driver's and Xvfb's logs went.
    pub fn logs_dir(&self) -> &Path {
        &self.logs
    }

    /// Waits up to `timeout` for an element matching the CSS selector.
    /// A timeout says what the banner showed and what the app last logged, so a failure
    /// on a slow CI machine can be read from its output alone.
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> Result<Element> {
        match self
            .client()
            .wait()
            .at_most(timeout)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(el) => {
                self.centre(&el).await?;
                Ok(el)
            }
            Err(e) => {
                let banner = match self.client().find(Locator::Css("#banner")).await {
                    Ok(b) => b.text().await.unwrap_or_default(),
                    Err(_) => String::from("(no banner)"),
                };
                Err(anyhow::Error::new(e).context(format!(
                    "waiting {timeout:?} for `{css}`; the banner read {banner:?}{}",
                    self.driver.log_tail()
                )))
            }
        }
    }

    /// Waits for the element and clicks it; a refused click says which element, the
    /// driver's whole error, and leaves a screenshot (`click-refused.png`).
    pub async fn click(&self, css: &str, timeout: Duration) -> Result<()> {
        let el = self.wait_for(css, timeout).await?;
        if let Err(e) = el.click().await {
            let shot = self.screenshot("click-refused").await.ok();
            // What lies on top: the element the centre of this one hits.
            let on_top = self
                .client()
                .execute(
                    "const r = arguments[0].getBoundingClientRect(); \
                     const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2); \
                     return [JSON.stringify(r), hit ? hit.outerHTML.slice(0, 300) : null];",
                    vec![serde_json::to_value(&el)?],
                )
                .await
                .ok();
            bail!("clicking `{css}` was refused: {e:?}; on top: {on_top:?} (screenshot {shot:?})");
        }
        Ok(())
    }

    /// The form control a visible `<label for>` names, found as a person finds it: by the
    /// label's text (whitespace normalised), not by an id. Waits up to [`ELEMENT_TIMEOUT`].
    pub async fn field(&self, label: &str) -> Result<Element> {
        let xpath = format!(
            "//label[normalize-space(.)={}][not(ancestor::*[@hidden])]",
            xpath_literal(label)
        );
        let label_el = self
            .client()
            .wait()
            .at_most(ELEMENT_TIMEOUT)
            .for_element(Locator::XPath(&xpath))
            .await
            .with_context(|| format!("waiting for the label {label:?}"))?;
        let id = label_el
            .attr("for")
            .await?
            .with_context(|| format!("label {label:?} names no control"))?;
        let el = self
            .client()
            .find(Locator::Id(&id))
            .await
            .with_context(|| format!("the control of label {label:?}"))?;
        self.centre(&el).await?;
        Ok(el)
    }

    /// A visible button by its accessible name: its `aria-label`, else its text. Waits up to
    /// [`ELEMENT_TIMEOUT`].
    pub async fn button(&self, name: &str) -> Result<Element> {
        let lit = xpath_literal(name);
        let xpath = format!(
            "//button[@aria-label={lit} or (not(@aria-label) and normalize-space(.)={lit})]\
             [not(ancestor-or-self::*[@hidden])]"
        );
        let el = self
            .client()
            .wait()
            .at_most(ELEMENT_TIMEOUT)
            .for_element(Locator::XPath(&xpath))
            .await
            .with_context(|| format!("waiting for the button {name:?}"))?;
        self.centre(&el).await?;
        Ok(el)
    }

    /// Scrolls an element to the middle of the window. WebKitWebDriver refuses a click whose
    /// centre lies at the viewport's edge ("intercepted") rather than scrolling it fully into
    /// view, and the form is taller than the window since it holds the capture panel.
    async fn centre(&self, el: &Element) -> Result<()> {
        self.client()
            .execute(
                "arguments[0].scrollIntoView({block: 'center', inline: 'nearest'});",
                vec![serde_json::to_value(el)?],
            )
            .await
            .context("scrolling an element into view")?;
        Ok(())
    }

    /// Calls a Tauri command from inside the page, like the UI's `invoke()`.
    /// `Ok` carries the command's result, `Err` its rejection.
    pub async fn invoke(&self, command: &str, args: Value) -> Result<Value> {
        const SCRIPT: &str = r#"
            const [command, args, done] = arguments;
            window.__TAURI_INTERNALS__.invoke(command, args).then(
                (value) => done({ ok: value === undefined ? null : value }),
                (error) => done({ err: error === undefined ? null : error }),
            );
        "#;
        let reply = self
            .client()
            .execute_async(SCRIPT, vec![json!(command), args])
            .await
            .with_context(|| format!("invoking `{command}` in the page"))?;
        match reply {
            Value::Object(mut map) if map.contains_key("ok") => Ok(map.remove("ok").unwrap()),
            Value::Object(mut map) if map.contains_key("err") => Err(anyhow!(
                "`{command}` rejected: {}",
                map.remove("err").unwrap()
            )),
            other => bail!("unexpected reply from `{command}`: {other}"),
        }
    }

    /// Saves a PNG of the web view to `<workspace>/target/e2e-screens/<name>.png`
    /// and returns its path. Waits for two animation frames first: a
    /// screenshot right after a DOM change can still show the old frame.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        self.client()
            .execute_async(
                "const done = arguments[0]; \
                 requestAnimationFrame(() => requestAnimationFrame(() => done(null)));",
                vec![],
            )
            .await
            .context("waiting for the next frame")?;
        let png = self
            .client()
            .screenshot()
            .await
            .context("taking a screenshot")?;
        let dir = paths::screens_dir();
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }

    /// Process ids of the running app (normally one), found among the
    /// processes of tauri-driver's process group.
    pub fn app_pids(&self) -> Result<Vec<u32>> {
        let mut pids = pids_in_group(self.driver.id())?;
        pids.retain(|pid| {
            std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == self.app_binary)
        });
        Ok(pids)
    }

    /// One environment variable of the running app process, read from
    /// `/proc/<pid>/environ`: proves what the app was started with.
    pub fn app_env(&self, key: &str) -> Result<Option<String>> {
        let pid = *self.app_pids()?.first().context("no running app process")?;
        let environ = std::fs::read(format!("/proc/{pid}/environ"))?;
        let prefix = format!("{key}=");
        Ok(environ
            .split(|b| *b == 0)
            .filter_map(|entry| std::str::from_utf8(entry).ok())
            .find_map(|entry| entry.strip_prefix(&prefix).map(str::to_owned)))
    }

    /// Ends the WebDriver session (which closes the app), then stops
    /// tauri-driver and Xvfb.
    pub async fn quit(mut self) -> Result<()> {
        let result = match self.client.take() {
            Some(client) => client
                .close()
                .await
                .context("closing the WebDriver session"),
            None => Ok(()),
        };
        self.driver.stop();
        if let Some(xvfb) = &mut self.xvfb {
            xvfb.stop();
        }
        result
    }
}

impl Drop for AppSession {
    fn drop(&mut self) {
        // Without quit() (a failed assertion): no async here, so skip the
        // polite session end and kill the processes; fields then drop in
        // order (driver group, Xvfb, data dir).
        self.driver.stop();
    }
}

/// `text` as an XPath 1.0 string literal (which has no escapes: a text with both quote
/// kinds becomes a `concat()`).
fn xpath_literal(text: &str) -> String {
    if !text.contains('\'') {
        format!("'{text}'")
    } else if !text.contains('"') {
        format!("\"{text}\"")
    } else {
        let parts: Vec<String> = text.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}

/// Polls `GET /status` on tauri-driver until it answers 200.
async fn wait_for_status(driver: &mut ChildGuard, port: u16) -> Result<()> {
    let deadline = Instant::now() + DRIVER_READY_TIMEOUT;
    loop {
        driver.ensure_running()?;
        let last_error = match http_get_status(port).await {
            Ok(()) => return Ok(()),
            Err(e) => format!("{e:#}"),
        };
        if Instant::now() >= deadline {
            bail!(
                "tauri-driver on port {port} not ready after {DRIVER_READY_TIMEOUT:?} \
                 ({last_error}){}",
                driver.log_tail()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One `GET /status` over a raw HTTP/1.1 connection: Ok if the status is 200.
async fn http_get_status(port: u16) -> Result<()> {
    let exchange = async {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
        stream
            .write_all(b"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .await?;
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply).await?;
        anyhow::Ok(reply)
    };
    let reply = tokio::time::timeout(Duration::from_secs(5), exchange)
        .await
        .context("timed out")??;
    let status_line = reply.split(|b| *b == b'\n').next().unwrap_or_default();
    let status_line = String::from_utf8_lossy(status_line);
    if status_line.split_whitespace().nth(1) == Some("200") {
        Ok(())
    } else {
        bail!("status answered {:?}", status_line.trim())
    }
}
