//! End-to-end: the real `ghidanh-app` binary driven through tauri-driver.
//!
//! Needs `cargo build -p ghidanh-app` first; `scripts/e2e.sh` does it all.
//! Runs without a display (starts Xvfb). One session at a time: the tests in
//! this file share a lock.

#![forbid(unsafe_code)]

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use ghidanh_tests::{AppSession, LaunchOptions};
use serde_json::json;
use tokio::sync::Mutex;

/// WebKitGTK apps are heavy: run one session at a time even when libtest
/// runs tests in parallel.
static ONE_SESSION_AT_A_TIME: Mutex<()> = Mutex::const_new(());

#[tokio::test]
async fn app_starts_shows_a_page_and_answers_app_status() -> Result<()> {
    let _lock = ONE_SESSION_AT_A_TIME.lock().await;
    let started = std::time::Instant::now();
    let app = AppSession::launch(LaunchOptions::named("app_starts")).await?;
    eprintln!(
        "app up on display {} after {:?}",
        app.display(),
        started.elapsed()
    );

    // The page comes from the embedded frontendDist, not a dev server.
    let url = app.client().current_url().await?;
    ensure!(
        matches!(url.scheme(), "tauri" | "http") && url.host_str() != Some("localhost:5173"),
        "unexpected page URL {url}"
    );

    // A screen root if the UI has one, else at least a body with text.
    let root = match app.wait_for("[data-screen]", Duration::from_secs(5)).await {
        Ok(element) => element,
        Err(_) => app.wait_for("body", Duration::from_secs(5)).await?,
    };
    let screen = root.attr("data-screen").await?;
    let text = root.text().await?;
    eprintln!("screen {screen:?}, text {text:?}");
    ensure!(!text.trim().is_empty(), "the page shows no text");

    // The command round trip works under the app's CSP.
    let status = app.invoke("app_status", json!({})).await?;
    ensure!(
        status
            == json!({
                "state": "needsSetup",
                "operatorName": null,
                "deviceId": null,
                "registryUrl": null,
                "language": "vi"
            }),
        "app_status returned {status}"
    );

    // The environment reached the app through tauri-driver and WebKitWebDriver.
    let data_dir = app.app_env("GHIDANH_DATA_DIR")?;
    ensure!(
        data_dir.as_deref() == app.data_dir().to_str(),
        "app saw GHIDANH_DATA_DIR={data_dir:?}, expected {}",
        app.data_dir().display()
    );

    // The window has the configured size (no window manager under Xvfb).
    let viewport = app
        .client()
        .execute("return [window.innerWidth, window.innerHeight];", vec![])
        .await?;
    eprintln!("viewport {viewport}");
    ensure!(viewport == json!([1200, 800]), "viewport is {viewport}");

    let shot = app.screenshot("app_starts").await?;
    let size = std::fs::metadata(&shot)
        .with_context(|| format!("reading {}", shot.display()))?
        .len();
    ensure!(
        size > 1000,
        "screenshot {} is only {size} bytes",
        shot.display()
    );
    eprintln!("screenshot {}", shot.display());

    app.quit().await?;
    eprintln!("session took {:?}", started.elapsed());
    Ok(())
}

/// Polls `probe` until it returns `Some`, for at most `timeout`.
async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut probe: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>>>,
{
    let start = std::time::Instant::now();
    loop {
        if let Some(v) = probe().await? {
            return Ok(v);
        }
        if start.elapsed() > timeout {
            anyhow::bail!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Types into an input the way a person does (the field is cleared first).
async fn type_into(app: &AppSession, css: &str, text: &str) -> Result<()> {
    let el = app.wait_for(css, Duration::from_secs(5)).await?;
    el.clear().await?;
    el.send_keys(text).await?;
    Ok(())
}

/// Sets a date input: WebKit's date widget does not take keystrokes over WebDriver,
/// so the value is set and the same events a person's edit fires are dispatched.
async fn set_date(app: &AppSession, css: &str, iso: &str) -> Result<()> {
    app.client()
        .execute(
            "const el = document.querySelector(arguments[0]); el.value = arguments[1]; \
             el.dispatchEvent(new Event('input', {bubbles: true})); \
             el.dispatchEvent(new Event('change', {bubbles: true})); \
             el.dispatchEvent(new Event('blur', {bubbles: true}));",
            vec![json!(css), json!(iso)],
        )
        .await?;
    Ok(())
}

async fn text_of(app: &AppSession, css: &str) -> Result<String> {
    Ok(app
        .wait_for(css, Duration::from_secs(5))
        .await?
        .text()
        .await?)
}

#[tokio::test]
async fn operator_enrolls_one_person_and_sees_the_registrys_receipt() -> Result<()> {
    use ghidanh_tests::process::free_ports;
    use ghidanh_tests::{RegistryData, RegistryProcess};

    let _lock = ONE_SESSION_AT_A_TIME.lock().await;
    let root = tempfile::tempdir()?;
    let [port] = free_ports::<1>()?;
    let listen = format!("127.0.0.1:{port}");
    let data = RegistryData::create(root.path(), &format!("http://{listen}"))?;
    let _registry = RegistryProcess::start(&data, &listen)?;
    let kit_dir = root.path().join("kit");
    let options = |name: &str| {
        LaunchOptions::named(name)
            .env("GHIDANH_DATA_DIR", kit_dir.clone())
            .env("GHIDANH_PROVISIONING", data.provisioning.clone())
    };

    // First start: create the operator account.
    let app = AppSession::launch(options("enroll_first_start")).await?;
    app.wait_for("[data-screen=\"setup\"]", Duration::from_secs(10))
        .await?;
    app.screenshot("01-setup").await?;
    type_into(&app, "#setup-name", "Trần Văn Cảnh").await?;
    type_into(&app, "#setup-pass", "mật khẩu 123").await?;
    type_into(&app, "#setup-pass2", "mật khẩu 124").await?;
    app.wait_for("#setup-submit", Duration::from_secs(5))
        .await?
        .click()
        .await?;
    let mismatch = eventually("the mismatch error", Duration::from_secs(10), || async {
        let t = text_of(&app, "[data-error-for=\"passphraseConfirm\"]").await?;
        Ok((!t.trim().is_empty()).then_some(t))
    })
    .await?;
    ensure!(
        mismatch.contains("không khớp"),
        "mismatch message was {mismatch:?}"
    );
    app.screenshot("02-setup-mismatch").await?;
    type_into(&app, "#setup-pass2", "mật khẩu 123").await?;
    app.wait_for("#setup-submit", Duration::from_secs(5))
        .await?
        .click()
        .await?;
    app.wait_for("[data-screen=\"main\"]", Duration::from_secs(15))
        .await?;
    let operator = text_of(&app, "#operator-name").await?;
    ensure!(
        operator.contains("Trần Văn Cảnh"),
        "header shows {operator:?}"
    );
    ensure!(
        text_of(&app, "#registry-url").await?.contains(&listen),
        "registry URL not shown"
    );

    // Fill the enrollment; an ID number whose sex digit contradicts the sex is refused by
    // the record crate, with a Vietnamese message naming the field.
    type_into(&app, "#f-birthName", "Nguyễn Văn An").await?;
    set_date(&app, "#f-dateOfBirth", "1990-05-17").await?;
    app.wait_for("#f-sex", Duration::from_secs(5))
        .await?
        .select_by_value("male")
        .await?;
    type_into(&app, "#f-personalId", "001190123456").await?;
    let id_error = eventually("the ID number error", Duration::from_secs(10), || async {
        let t = text_of(&app, "[data-error-for=\"personalId\"]").await?;
        Ok((!t.trim().is_empty()).then_some(t))
    })
    .await?;
    ensure!(
        id_error.starts_with("Số định danh cá nhân:") && id_error.contains("giới tính"),
        "ID error was {id_error:?}"
    );
    app.screenshot("03-enrollment-invalid").await?;

    type_into(&app, "#f-personalId", "001090123456").await?;
    eventually(
        "the ID number error to clear",
        Duration::from_secs(10),
        || async {
            let t = text_of(&app, "[data-error-for=\"personalId\"]").await?;
            Ok(t.trim().is_empty().then_some(()))
        },
    )
    .await?;
    app.wait_for("#btn-finalise", Duration::from_secs(5))
        .await?
        .click()
        .await?;

    // The sync worker delivers it; the list shows "accepted" and the receipt id.
    let row = "[data-enrollment-id][data-state=\"accepted\"]";
    app.wait_for(row, Duration::from_secs(30)).await?;
    let receipt_shown = eventually("the receipt id", Duration::from_secs(10), || async {
        let t = text_of(&app, &format!("{row} .receipt-id")).await?;
        Ok((!t.trim().is_empty()).then_some(t.trim().to_owned()))
    })
    .await?;
    app.screenshot("04-accepted").await?;

    let stored = data.accepted_bundles()?;
    ensure!(stored.len() == 1, "registry holds {} bundles", stored.len());
    ensure!(
        stored[0]["receiptId"] == receipt_shown.as_str(),
        "screen shows receipt {receipt_shown}, registry stored {}",
        stored[0]["receiptId"]
    );
    app.quit().await?;

    // Second start: the passphrase is asked; a wrong one is refused, the right one opens.
    let app = AppSession::launch(options("enroll_second_start")).await?;
    app.wait_for("[data-screen=\"unlock\"]", Duration::from_secs(10))
        .await?;
    type_into(&app, "#unlock-pass", "sai mật khẩu").await?;
    app.wait_for("#unlock-submit", Duration::from_secs(5))
        .await?
        .click()
        .await?;
    let banner = eventually(
        "the wrong-passphrase banner",
        Duration::from_secs(15),
        || async {
            let t = text_of(&app, "#banner").await?;
            Ok((!t.trim().is_empty()).then_some(t))
        },
    )
    .await?;
    ensure!(banner.contains("không đúng"), "banner was {banner:?}");
    app.screenshot("05-unlock-wrong").await?;
    type_into(&app, "#unlock-pass", "mật khẩu 123").await?;
    app.wait_for("#unlock-submit", Duration::from_secs(5))
        .await?
        .click()
        .await?;
    app.wait_for(row, Duration::from_secs(15)).await?;
    let again = text_of(&app, &format!("{row} .receipt-id")).await?;
    ensure!(again.trim() == receipt_shown, "after restart: {again:?}");
    app.screenshot("06-after-restart").await?;
    app.quit().await?;
    Ok(())
}
