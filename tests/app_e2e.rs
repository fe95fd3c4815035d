//! End-to-end: the real `ghidanh-app` binary driven through tauri-driver.
//!
//! Needs `cargo build -p ghidanh-app` first; `scripts/e2e.sh` does it all.
//! Runs without a display (starts Xvfb). One session at a time: the tests in
//! this file share a lock.

#![forbid(unsafe_code)]

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use ghidanh_tests::capture::CaptureDevices;
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
                "operatorId": null,
                "role": null,
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
    // The scanner's first capture is poor, its retry good; the ones after that good.
    let devices = CaptureDevices::start(&["--script", "poor,good"])?;
    let kit_dir = root.path().join("kit");
    let options = |name: &str| {
        LaunchOptions::named(name)
            .env("GHIDANH_DATA_DIR", kit_dir.clone())
            .env("GHIDANH_PROVISIONING", data.provisioning.clone())
            .devices(&devices)
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
    // Finalising without the portrait and the fingers is refused, saying what is missing.
    app.wait_for("#btn-finalise", Duration::from_secs(5))
        .await?
        .click()
        .await?;
    let missing = eventually(
        "the missing biometrics",
        Duration::from_secs(15),
        || async {
            let t = text_of(&app, "#capture-errors").await?;
            Ok((!t.trim().is_empty()).then_some(t))
        },
    )
    .await?;
    ensure!(
        missing.contains("Ảnh chân dung") && missing.contains("phải đủ 10 ngón"),
        "capture errors read {missing:?}"
    );
    app.screenshot("03b-capture-missing").await?;

    // The right thumb: a poor print asks for a retry, the retry is kept.
    app.wait_for(
        "#scanner-state[data-found=\"true\"]",
        Duration::from_secs(20),
    )
    .await?;
    let thumb = "tr[data-position=\"1\"]";
    for (want, unless) in [("thấp — hãy lấy lại", "Đang lấy"), ("/100.", "thấp")] {
        app.click(
            &format!("{thumb} .btn-capture:not([disabled])"),
            Duration::from_secs(10),
        )
        .await?;
        let said = eventually("the thumb's feedback", Duration::from_secs(20), || async {
            let t = text_of(&app, "#finger-feedback").await?;
            Ok((t.contains(want) && !t.contains(unless)).then_some(t))
        })
        .await?;
        ensure!(said.starts_with("Ngón cái phải"), "feedback {said:?}");
    }
    let thumb_state = text_of(&app, &format!("{thumb} .finger-state")).await?;
    ensure!(
        thumb_state.starts_with("Chất lượng "),
        "thumb: {thumb_state:?}"
    );
    // The left little finger is bandaged: an exception with its reason.
    let little = "tr[data-position=\"10\"]";
    app.wait_for(
        &format!("{little} .exception-reason"),
        Duration::from_secs(5),
    )
    .await?
    .select_by_value("bandaged")
    .await?;
    app.click(&format!("{little} .btn-except"), Duration::from_secs(5))
        .await?;
    app.wait_for(
        &format!("{little}[data-state=\"excepted\"]"),
        Duration::from_secs(10),
    )
    .await?;
    let little_state = text_of(&app, &format!("{little} .finger-state")).await?;
    ensure!(
        little_state == "Không lấy được: Đang băng bó",
        "little finger: {little_state:?}"
    );
    capture_biometrics(&app).await?;
    app.screenshot("03c-captured").await?;
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
    // Retention (default 0 days) purged the person's data at this sign-in; the receipt stays.
    let purged = "[data-enrollment-id][data-state=\"purged\"]";
    app.wait_for(purged, Duration::from_secs(15)).await?;
    let again = text_of(&app, &format!("{purged} .receipt-id")).await?;
    ensure!(again.trim() == receipt_shown, "after restart: {again:?}");
    let name = text_of(&app, &format!("{purged} .name")).await?;
    ensure!(name.contains("đã xoá"), "purged row shows {name:?}");
    app.screenshot("06-after-restart").await?;
    app.quit().await?;
    Ok(())
}

/// For a failure's message: a screenshot named `shot`, and the text of each element.
async fn what_shows(app: &AppSession, shot: &str, selectors: &[&str]) -> Result<String> {
    app.screenshot(shot).await?;
    let mut seen = Vec::new();
    for css in selectors {
        let text = text_of(app, css).await.unwrap_or_default();
        seen.push(format!("{css}: {text:?}"));
    }
    Ok(seen.join("; "))
}

/// Takes the portrait from the camera (a frames folder holding a real photograph) and the
/// fingers still missing from the simulated scanner, through the capture panel, as an
/// operator does; waits until all ten are accounted for.
async fn capture_biometrics(app: &AppSession) -> Result<()> {
    app.wait_for(
        "#scanner-state[data-found=\"true\"]",
        Duration::from_secs(20),
    )
    .await?;
    app.click("#btn-camera:not([hidden])", Duration::from_secs(10))
        .await?;
    let preview = match eventually("a usable camera frame", Duration::from_secs(30), || async {
        let t = text_of(app, "#preview-state").await?;
        Ok(t.contains("Ảnh đạt yêu cầu").then_some(t))
    })
    .await
    {
        Ok(t) => t,
        Err(e) => {
            let seen = what_shows(
                app,
                "capture-no-usable-frame",
                &[
                    "#preview-state",
                    "#portrait-issues",
                    "#btn-camera",
                    "#banner",
                ],
            )
            .await?;
            return Err(e.context(seen));
        }
    };
    ensure!(
        preview.starts_with("Chất lượng khung hình: "),
        "preview reads {preview:?}"
    );
    app.click("#btn-take-photo:not([hidden])", Duration::from_secs(5))
        .await?;
    if let Err(e) = app
        .wait_for(
            "#portrait-state[data-kept=\"true\"]",
            Duration::from_secs(20),
        )
        .await
    {
        let seen = what_shows(
            app,
            "capture-portrait-not-kept",
            &[
                "#portrait-state",
                "#preview-state",
                "#portrait-issues",
                "#banner",
            ],
        )
        .await?;
        return Err(e.context(seen));
    }
    app.click("#btn-capture-all:not([disabled])", Duration::from_secs(10))
        .await?;
    app.wait_for(
        "#fingers-accounted[data-count=\"10\"]",
        Duration::from_secs(90),
    )
    .await?;
    Ok(())
}

/// WebDriver's Enter key: forms submit on it (keyboard first).
const ENTER: &str = "\u{E007}";

/// Types into the control a label names (cleared first); `enter` presses Enter after.
async fn fill(app: &AppSession, label: &str, text: &str, enter: bool) -> Result<()> {
    let el = app.field(label).await?;
    el.clear().await?;
    if enter {
        el.send_keys(&format!("{text}{ENTER}")).await?;
    } else {
        el.send_keys(text).await?;
    }
    Ok(())
}

/// Waits until the banner shows a text that contains `part`; returns the whole text.
async fn banner_with(app: &AppSession, part: &str) -> Result<String> {
    let found = eventually(
        &format!("the banner to say {part:?}"),
        Duration::from_secs(15),
        || async {
            let t = text_of(app, "#banner").await?;
            Ok(t.contains(part).then_some(t))
        },
    )
    .await;
    match found {
        Ok(t) => Ok(t),
        Err(e) => {
            let t = text_of(app, "#banner").await.unwrap_or_default();
            app.screenshot("banner-timeout").await?;
            Err(e.context(format!("the banner read {t:?}")))
        }
    }
}

async fn wait_screen(app: &AppSession, screen: &str) -> Result<()> {
    app.wait_for(
        &format!("[data-screen=\"{screen}\"]"),
        Duration::from_secs(20),
    )
    .await?;
    Ok(())
}

/// Signs in on the unlock screen and waits for the main screen of `who`.
async fn sign_in(app: &AppSession, passphrase: &str, who: &str) -> Result<()> {
    wait_screen(app, "unlock").await?;
    fill(app, "Cụm mật khẩu", passphrase, true).await?;
    wait_screen(app, "main").await?;
    let shown = text_of(app, "#operator-name").await?;
    ensure!(shown == who, "signed in as {shown:?}, expected {who:?}");
    Ok(())
}

async fn lock_now(app: &AppSession) -> Result<()> {
    app.button("Khoá máy").await?.click().await?;
    wait_screen(app, "unlock").await
}

#[tokio::test]
async fn supervisor_adds_an_operator_who_changes_and_gets_a_reset_passphrase() -> Result<()> {
    const SUPERVISOR: &str = "trăng rằm tháng tám";
    const FIRST: &str = "hoa sen trắng";
    const CHANGED: &str = "mây trôi bốn phương";
    const RESET: &str = "gió mùa đông bắc";
    let _lock = ONE_SESSION_AT_A_TIME.lock().await;
    let started = std::time::Instant::now();
    let app = AppSession::launch(LaunchOptions::named("vault_accounts")).await?;

    // First start: the supervisor's account.
    wait_screen(&app, "setup").await?;
    fill(&app, "Họ và tên người thu nhận", "Lê Văn Giám", false).await?;
    fill(&app, "Cụm mật khẩu", SUPERVISOR, false).await?;
    fill(&app, "Nhập lại cụm mật khẩu", SUPERVISOR, true).await?;
    wait_screen(&app, "main").await?;
    ensure!(text_of(&app, "#operator-role").await? == "Giám sát viên");

    // The supervisor adds an operator.
    app.button("Người thu nhận").await?.click().await?;
    wait_screen(&app, "operators").await?;
    fill(&app, "Họ và tên", "Đỗ Thị Anh", false).await?;
    app.field("Vai trò")
        .await?
        .select_by_value("operator")
        .await?;
    fill(&app, "Cụm mật khẩu", FIRST, false).await?;
    fill(&app, "Nhập lại cụm mật khẩu", FIRST, true).await?;
    banner_with(&app, "Đã thêm Đỗ Thị Anh").await?;
    let list = eventually("two accounts listed", Duration::from_secs(10), || async {
        let t = text_of(&app, "#operator-list").await?;
        Ok(t.contains("Đỗ Thị Anh").then_some(t))
    })
    .await?;
    ensure!(list.contains("Lê Văn Giám"), "list: {list:?}");
    app.screenshot("vault-01-operators").await?;
    lock_now(&app).await?;
    app.screenshot("vault-02-locked").await?;

    // The operator signs in and changes her passphrase.
    sign_in(&app, FIRST, "Đỗ Thị Anh").await?;
    ensure!(text_of(&app, "#operator-role").await? == "Người thu nhận");
    ensure!(
        app.button("Người thu nhận").await.is_err(),
        "an operator sees the accounts screen"
    );
    app.button("Đổi cụm mật khẩu").await?.click().await?;
    wait_screen(&app, "passphrase").await?;
    fill(&app, "Cụm mật khẩu hiện tại", FIRST, false).await?;
    fill(&app, "Cụm mật khẩu mới", CHANGED, false).await?;
    fill(&app, "Nhập lại cụm mật khẩu mới", CHANGED, true).await?;
    banner_with(&app, "Đã đổi cụm mật khẩu").await?;
    app.screenshot("vault-03-passphrase-changed").await?;
    lock_now(&app).await?;

    // The old passphrase is refused in Vietnamese; the new one opens.
    fill(&app, "Cụm mật khẩu", FIRST, true).await?;
    let refused = banner_with(&app, "không đúng").await?;
    ensure!(
        refused == "Cụm mật khẩu không đúng. Vui lòng nhập lại.",
        "banner: {refused:?}"
    );
    app.screenshot("vault-04-old-passphrase-refused").await?;
    sign_in(&app, CHANGED, "Đỗ Thị Anh").await?;
    lock_now(&app).await?;

    // She forgets it: the supervisor resets it.
    sign_in(&app, SUPERVISOR, "Lê Văn Giám").await?;
    app.button("Người thu nhận").await?.click().await?;
    wait_screen(&app, "operators").await?;
    app.button("Đặt lại cụm mật khẩu cho Đỗ Thị Anh")
        .await?
        .click()
        .await?;
    fill(&app, "Cụm mật khẩu mới", RESET, false).await?;
    fill(&app, "Nhập lại cụm mật khẩu mới", RESET, true).await?;
    banner_with(&app, "Đã đặt lại cụm mật khẩu cho Đỗ Thị Anh").await?;
    app.screenshot("vault-05-reset").await?;
    lock_now(&app).await?;

    sign_in(&app, RESET, "Đỗ Thị Anh").await?;
    app.quit().await?;
    eprintln!("accounts session took {:?}", started.elapsed());
    Ok(())
}

#[tokio::test]
async fn an_idle_session_locks_and_the_typed_draft_is_back_after_unlock() -> Result<()> {
    const PASS: &str = "trăng rằm tháng tám";
    let _lock = ONE_SESSION_AT_A_TIME.lock().await;
    let started = std::time::Instant::now();
    let app = AppSession::launch(
        LaunchOptions::named("vault_idle_lock").env("GHIDANH_IDLE_LOCK_SECS", "3"),
    )
    .await?;
    wait_screen(&app, "setup").await?;
    fill(&app, "Họ và tên người thu nhận", "Lê Văn Giám", false).await?;
    fill(&app, "Cụm mật khẩu", PASS, false).await?;
    fill(&app, "Nhập lại cụm mật khẩu", PASS, true).await?;
    wait_screen(&app, "main").await?;

    // Type, then leave the keyboard alone: the autosave runs, then the idle lock.
    fill(&app, "Họ, chữ đệm và tên khai sinh", "Vũ Thị Mai", false).await?;
    fill(&app, "Số định danh cá nhân", "001190000001", false).await?;
    app.wait_for(
        "#save-status[data-state=\"saved\"]",
        Duration::from_secs(10),
    )
    .await?;
    let typed_at = std::time::Instant::now();
    wait_screen(&app, "unlock").await?;
    let after = typed_at.elapsed();
    ensure!(
        after >= Duration::from_secs(2),
        "locked after only {after:?}"
    );
    let notice = banner_with(&app, "tự khoá").await?;
    eprintln!("idle lock after {after:?}: {notice:?}");
    app.screenshot("vault-06-idle-locked").await?;

    fill(&app, "Cụm mật khẩu", PASS, true).await?;
    wait_screen(&app, "main").await?;
    let value = |label: &'static str| {
        let app = &app;
        async move {
            anyhow::Ok(
                app.field(label)
                    .await?
                    .prop("value")
                    .await?
                    .unwrap_or_default(),
            )
        }
    };
    let name = eventually("the draft to reopen", Duration::from_secs(10), || async {
        let v = value("Họ, chữ đệm và tên khai sinh").await?;
        Ok((!v.is_empty()).then_some(v))
    })
    .await?;
    ensure!(name == "Vũ Thị Mai", "name after unlock: {name:?}");
    let id = value("Số định danh cá nhân").await?;
    ensure!(id == "001190000001", "ID after unlock: {id:?}");
    let row = text_of(&app, "[data-enrollment-id][data-state=\"draft\"] .name").await?;
    ensure!(row == "Vũ Thị Mai", "list shows {row:?}");
    app.screenshot("vault-07-draft-back").await?;
    app.quit().await?;
    eprintln!("idle-lock session took {:?}", started.elapsed());
    Ok(())
}

#[tokio::test]
async fn a_revoked_device_shows_the_wiped_screen() -> Result<()> {
    use ghidanh_tests::process::free_ports;
    use ghidanh_tests::{ghidanh, RegistryData, RegistryProcess};

    const PASS: &str = "trăng rằm tháng tám";
    let _lock = ONE_SESSION_AT_A_TIME.lock().await;
    let started = std::time::Instant::now();
    let root = tempfile::tempdir()?;
    let [port] = free_ports::<1>()?;
    let listen = format!("127.0.0.1:{port}");
    let data = RegistryData::create(root.path(), &format!("http://{listen}"))?;
    let _registry = RegistryProcess::start(&data, &listen)?;
    let devices = CaptureDevices::start(&[])?;
    let app = AppSession::launch(
        LaunchOptions::named("vault_wiped")
            .env("GHIDANH_PROVISIONING", data.provisioning.clone())
            .devices(&devices),
    )
    .await?;
    wait_screen(&app, "setup").await?;
    fill(&app, "Họ và tên người thu nhận", "Lê Văn Giám", false).await?;
    fill(&app, "Cụm mật khẩu", PASS, false).await?;
    fill(&app, "Nhập lại cụm mật khẩu", PASS, true).await?;
    wait_screen(&app, "main").await?;
    let device = text_of(&app, "#device-id").await?;
    ensure!(!device.trim().is_empty(), "no device id shown");
    ensure!(app.data_dir().join("vault.keys").is_file(), "no vault made");

    // The registry revokes the device; the next upload hears it and the kit wipes its vault.
    ghidanh(&[
        "registry",
        "revoke-device",
        "--data",
        data.dir.to_str().context("non-UTF-8 path")?,
        "--device",
        device.trim(),
    ])?;
    fill(&app, "Họ, chữ đệm và tên khai sinh", "Nguyễn Văn An", false).await?;
    set_date(&app, "#f-dateOfBirth", "1990-05-17").await?;
    app.field("Giới tính")
        .await?
        .select_by_value("male")
        .await?;
    fill(&app, "Số định danh cá nhân", "001090123456", false).await?;
    capture_biometrics(&app).await?;
    app.button("Hoàn tất và niêm phong").await?.click().await?;

    wait_screen(&app, "wiped").await?;
    let title = text_of(&app, "[data-screen=\"wiped\"] h1").await?;
    ensure!(
        title == "Máy này đã bị thu hồi; dữ liệu đã được xoá",
        "title: {title:?}"
    );
    ensure!(
        !app.data_dir().join("vault.keys").exists(),
        "the key file outlived the wipe"
    );
    let status = app.invoke("app_status", json!({})).await?;
    ensure!(status["state"] == "wiped", "app_status: {status}");
    app.screenshot("vault-08-wiped").await?;
    app.quit().await?;
    eprintln!("wiped session took {:?}", started.elapsed());
    Ok(())
}

/// The sync panel follows the registry: down (the record waits, the panel says the server is
/// not reached), then up (delivered: the last contact is shown, nothing waits, and the row
/// carries the receipt id the registry holds).
#[tokio::test]
async fn the_sync_panel_shows_waiting_while_the_registry_is_down_and_the_last_contact_once_it_is_up(
) -> Result<()> {
    use ghidanh_tests::process::free_ports;
    use ghidanh_tests::{RegistryData, RegistryProcess};

    const PASS: &str = "trăng rằm tháng tám";
    let _lock = ONE_SESSION_AT_A_TIME.lock().await;
    let started = std::time::Instant::now();
    let root = tempfile::tempdir()?;
    let [port] = free_ports::<1>()?;
    let listen = format!("127.0.0.1:{port}");
    // Provisioned for this address, but nothing listens there yet: the registry is down.
    let data = RegistryData::create(root.path(), &format!("http://{listen}"))?;
    let devices = CaptureDevices::start(&[])?;
    let app = AppSession::launch(
        LaunchOptions::named("sync_panel")
            .env("GHIDANH_PROVISIONING", data.provisioning.clone())
            .devices(&devices),
    )
    .await?;
    wait_screen(&app, "setup").await?;
    fill(&app, "Họ và tên người thu nhận", "Lê Văn Giám", false).await?;
    fill(&app, "Cụm mật khẩu", PASS, false).await?;
    fill(&app, "Nhập lại cụm mật khẩu", PASS, true).await?;
    wait_screen(&app, "main").await?;
    let never = eventually("the sync panel", Duration::from_secs(10), || async {
        let t = text_of(&app, "#sync-last-contact").await?;
        Ok((!t.trim().is_empty()).then_some(t))
    })
    .await?;
    ensure!(
        never == "Lần liên lạc cuối: chưa liên lạc được lần nào",
        "before any contact: {never:?}"
    );

    fill(&app, "Họ, chữ đệm và tên khai sinh", "Nguyễn Văn An", false).await?;
    set_date(&app, "#f-dateOfBirth", "1990-05-17").await?;
    app.field("Giới tính")
        .await?
        .select_by_value("male")
        .await?;
    fill(&app, "Số định danh cá nhân", "001090123456", false).await?;
    capture_biometrics(&app).await?;
    app.button("Hoàn tất và niêm phong").await?.click().await?;

    // Down: one record waits, the last attempt could not reach the server.
    let error = eventually(
        "waiting 1 and the unreachable error",
        Duration::from_secs(20),
        || async {
            let waiting = text_of(&app, "#sync-waiting").await?;
            let error = text_of(&app, "#sync-error").await?;
            Ok(
                (waiting == "Đang chờ gửi: 1" && error.contains("Không kết nối được máy chủ"))
                    .then_some(error),
            )
        },
    )
    .await?;
    ensure!(
        !error.contains(&listen) && !error.contains("127.0.0.1"),
        "the error shows a raw detail: {error:?}"
    );
    let row = app
        .wait_for("[data-enrollment-id]", Duration::from_secs(5))
        .await?;
    let state = row.attr("data-state").await?.unwrap_or_default();
    ensure!(
        state == "sealed" || state == "uploading",
        "row state while down: {state:?}"
    );
    let label = text_of(&app, "[data-enrollment-id] .state-label").await?;
    ensure!(
        label == "Đã niêm phong, chờ gửi" || label == "Đang gửi",
        "row label while down: {label:?}"
    );
    ensure!(
        text_of(&app, "#sync-last-contact").await? == never,
        "a last contact while the registry was down"
    );
    app.screenshot("sync-01-registry-down").await?;

    // Up on the provisioned address: the worker's next try delivers it (its backoff is at
    // most 30 s).
    let _registry = RegistryProcess::start(&data, &listen)?;
    let accepted = "[data-enrollment-id][data-state=\"accepted\"]";
    app.wait_for(accepted, Duration::from_secs(60)).await?;
    let contact = eventually(
        "the last contact and waiting 0",
        Duration::from_secs(10),
        || async {
            let waiting = text_of(&app, "#sync-waiting").await?;
            let contact = text_of(&app, "#sync-last-contact").await?;
            Ok((waiting == "Đang chờ gửi: 0" && contact != never).then_some(contact))
        },
    )
    .await?;
    let stamp = contact
        .strip_prefix("Lần liên lạc cuối: ")
        .with_context(|| format!("last contact reads {contact:?}"))?;
    // HH:MM dd/mm/yyyy
    let digits_at = |i: &[usize]| {
        i.iter()
            .all(|&i| stamp.as_bytes().get(i).is_some_and(u8::is_ascii_digit))
    };
    ensure!(
        stamp.len() == 16
            && digits_at(&[0, 1, 3, 4, 6, 7, 9, 10, 12, 13, 14, 15])
            && &stamp[2..3] == ":"
            && &stamp[5..6] == " "
            && &stamp[8..9] == "/"
            && &stamp[11..12] == "/",
        "last contact is not HH:MM dd/mm/yyyy: {stamp:?}"
    );
    ensure!(
        text_of(&app, "#sync-error").await?.trim().is_empty(),
        "an error is still shown after delivery"
    );
    let label = text_of(&app, &format!("{accepted} .state-label")).await?;
    ensure!(
        label == "Đã gửi, trung tâm đã chấp nhận",
        "row label once delivered: {label:?}"
    );
    let receipt_shown = eventually("the receipt id", Duration::from_secs(10), || async {
        let t = text_of(&app, &format!("{accepted} .receipt-id")).await?;
        Ok((!t.trim().is_empty()).then_some(t.trim().to_owned()))
    })
    .await?;
    let stored = data.accepted_bundles()?;
    ensure!(stored.len() == 1, "registry holds {} bundles", stored.len());
    ensure!(
        stored[0]["receiptId"] == receipt_shown.as_str(),
        "screen shows receipt {receipt_shown}, registry stored {}",
        stored[0]["receiptId"]
    );
    app.screenshot("sync-02-registry-up").await?;
    app.quit().await?;
    eprintln!("sync panel session took {:?}", started.elapsed());
    Ok(())
}

/// Seals `input` into the app's vault as its finalise does but without validating it, and
/// queues it for upload: a record the kit never sends, which the registry refuses.
fn seal_unchecked(
    vault: &ghidanh_vault::Vault,
    operator: &ghidanh_vault::Operator,
    input: &ghidanh_kit::EnrollmentInput,
) -> Result<ghidanh_kit::EnrollmentId> {
    let device = vault.device()?.context("the app provisioned its vault")?;
    let id = vault.save_draft(None, operator.id, input)?;
    vault.finalise(id)?;
    vault.approve(id, ghidanh_vault::Approval::NoReviewPolicy)?;
    let mut payload = ghidanh_bundle::testkit::sample_payload(device.provisioning.device_id);
    payload.enrollment_id = id;
    payload.operator = ghidanh_bundle::OperatorRef {
        id: operator.id,
        name: operator.name.clone(),
    };
    payload.record = input.clone();
    payload.biometrics = ghidanh_bundle::Biometrics::default();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let bytes = ghidanh_bundle::seal(&payload, &device.key, &device.provisioning.registry, now)?;
    vault.seal(id, input, payload.bundle_id, &bytes)?;
    Ok(id)
}

/// Two records the registry refuses for their 11-digit ID numbers (sealed into the app's
/// vault while it is closed): each row says why in words; one is discarded after the
/// confirmation (going back first keeps it), the other is corrected as a new draft, which the
/// registry then accepts (issue 4).
#[tokio::test]
async fn a_refused_record_is_discarded_or_corrected_from_its_row() -> Result<()> {
    use ghidanh_tests::process::free_ports;
    use ghidanh_tests::{RegistryData, RegistryProcess};

    const PASS: &str = "mật khẩu 123";
    let _lock = ONE_SESSION_AT_A_TIME.lock().await;
    let root = tempfile::tempdir()?;
    let [port] = free_ports::<1>()?;
    let listen = format!("127.0.0.1:{port}");
    let data = RegistryData::create(root.path(), &format!("http://{listen}"))?;
    let _registry = RegistryProcess::start(&data, &listen)?;
    let devices = CaptureDevices::start(&[])?;
    let kit_dir = root.path().join("kit");
    let options = |name: &str| {
        LaunchOptions::named(name)
            .env("GHIDANH_DATA_DIR", kit_dir.clone())
            .env("GHIDANH_PROVISIONING", data.provisioning.clone())
            .devices(&devices)
    };

    let app = AppSession::launch(options("rejected_setup")).await?;
    wait_screen(&app, "setup").await?;
    fill(&app, "Họ và tên người thu nhận", "Trần Văn Cảnh", false).await?;
    fill(&app, "Cụm mật khẩu", PASS, false).await?;
    fill(&app, "Nhập lại cụm mật khẩu", PASS, true).await?;
    wait_screen(&app, "main").await?;
    app.quit().await?;

    let person = |name: &str, personal_id: &str| ghidanh_kit::EnrollmentInput {
        birth_name: name.into(),
        date_of_birth: "1987-09-02".into(),
        sex: "female".into(),
        personal_id: personal_id.into(),
        ..Default::default()
    };
    let (vault, operator) = ghidanh_vault::Vault::unlock(&kit_dir, PASS)?;
    let lan = seal_unchecked(&vault, &operator, &person("Hoàng Thị Lan", "03618700451"))?;
    let mai = seal_unchecked(&vault, &operator, &person("Lê Thị Mai", "03618700452"))?;
    vault.lock()?;

    let app = AppSession::launch(options("rejected_decide")).await?;
    sign_in(&app, PASS, "Trần Văn Cảnh").await?;
    let lan_row = format!("[data-enrollment-id=\"{lan}\"]");
    let mai_row = format!("[data-enrollment-id=\"{mai}\"]");
    for row in [&lan_row, &mai_row] {
        app.wait_for(
            &format!("{row}[data-state=\"rejected\"]"),
            Duration::from_secs(60),
        )
        .await?;
    }
    let reason = text_of(&app, &format!("{lan_row} .reason")).await?;
    ensure!(
        reason.contains("Số định danh cá nhân: phải gồm đúng 12 chữ số."),
        "the reason reads {reason:?}"
    );
    let code = text_of(&app, &format!("{lan_row} .reason-code")).await?;
    ensure!(
        code == "Mã lý do: invalid_record:personalId/notTwelveDigits",
        "the code reads {code:?}"
    );
    app.screenshot("rejected-01-rows").await?;

    // Discard asks first; going back keeps the record.
    let discard = format!("{lan_row} .btn-discard");
    app.wait_for(&discard, Duration::from_secs(5))
        .await?
        .click()
        .await?;
    let title = eventually("the confirmation", Duration::from_secs(10), || async {
        let t = text_of(&app, "#confirm-title").await?;
        Ok((!t.trim().is_empty()).then_some(t))
    })
    .await?;
    ensure!(
        title == "Huỷ hồ sơ bị từ chối?",
        "the dialog asks {title:?}"
    );
    let question = text_of(&app, "#confirm-text").await?;
    ensure!(
        question.contains("Hoàng Thị Lan") && question.contains("vẫn được giữ"),
        "the dialog says {question:?}"
    );
    app.screenshot("rejected-02-confirm").await?;
    app.wait_for("#confirm-no", Duration::from_secs(5))
        .await?
        .click()
        .await?;
    let dialog = app
        .wait_for("#confirm-dialog", Duration::from_secs(5))
        .await?;
    eventually("the dialog to close", Duration::from_secs(10), || async {
        Ok(dialog.attr("hidden").await?.map(|_| ()))
    })
    .await?;
    let state = app
        .wait_for(&lan_row, Duration::from_secs(5))
        .await?
        .attr("data-state")
        .await?;
    ensure!(
        state.as_deref() == Some("rejected"),
        "after going back: {state:?}"
    );

    app.wait_for(&discard, Duration::from_secs(5))
        .await?
        .click()
        .await?;
    // The dialog is open again, asking about the same record, before "yes" is pressed.
    app.wait_for(
        &format!("#confirm-dialog:not([hidden])[data-enrollment-id=\"{lan}\"]"),
        Duration::from_secs(10),
    )
    .await?;
    app.wait_for(
        "#confirm-yes[data-action=\"discard\"]",
        Duration::from_secs(5),
    )
    .await?
    .click()
    .await?;
    banner_with(&app, "Đã huỷ hồ sơ của Hoàng Thị Lan").await?;
    app.wait_for(
        &format!("{lan_row}[data-state=\"purged\"][data-discarded=\"true\"]"),
        Duration::from_secs(10),
    )
    .await?;
    let label = text_of(&app, &format!("{lan_row} .state-label")).await?;
    ensure!(
        label == "Đã huỷ sau khi bị từ chối",
        "discarded row: {label:?}"
    );

    // Correct and resend: the new draft opens with the record and the reason.
    app.wait_for(&format!("{mai_row} .btn-redo"), Duration::from_secs(5))
        .await?
        .click()
        .await?;
    app.wait_for("#confirm-yes", Duration::from_secs(5))
        .await?
        .click()
        .await?;
    banner_with(&app, "Bản nháp mới từ hồ sơ của Lê Thị Mai").await?;
    let typed = app
        .wait_for("#f-personalId", Duration::from_secs(5))
        .await?
        .prop("value")
        .await?;
    ensure!(
        typed.as_deref() == Some("03618700452"),
        "the new draft holds {typed:?}"
    );
    app.wait_for(
        &format!("{mai_row}[data-discarded=\"true\"]"),
        Duration::from_secs(10),
    )
    .await?;
    app.screenshot("rejected-03-redo-draft").await?;
    fill(&app, "Số định danh cá nhân", "036187004520", false).await?;
    // The refused bundle carried no portrait and no prints: the correction takes them.
    capture_biometrics(&app).await?;
    app.button("Hoàn tất và niêm phong").await?.click().await?;
    let accepted = "[data-enrollment-id][data-state=\"accepted\"]";
    app.wait_for(accepted, Duration::from_secs(60)).await?;
    let name = text_of(&app, &format!("{accepted} .name")).await?;
    ensure!(name == "Lê Thị Mai", "accepted row: {name:?}");
    let stored = data.accepted_bundles()?;
    ensure!(stored.len() == 1, "registry holds {} bundles", stored.len());
    app.screenshot("rejected-04-corrected-accepted").await?;
    app.quit().await?;
    Ok(())
}
