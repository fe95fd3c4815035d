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
