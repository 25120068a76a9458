//! End to end in headless Chromium, driven through chromedriver's WebDriver protocol
//! (fantoccini): log in, read the wall view, work a case from 待受理 to 办结 by filling and
//! submitting its forms, check that hostile posts stay text, and take a screenshot of the wall
//! view that must decode, have the window's size and show the red and orange grade colours.
//!
//! Needs the Debian packages `chromium` and `chromium-driver` (or `YUQING_CHROMIUM` and
//! `YUQING_CHROMEDRIVER` naming the binaries). Without them the test says so and passes, unless
//! `YUQING_REQUIRE_BROWSER=1`, which makes a missing browser a failure (for CI). Everything
//! talks over 127.0.0.1 only.

mod common;

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{World, DUTY};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use yuqing_cases::CaseState;

const WIDTH: u32 = 1920;
const HEIGHT: u32 = 1080;

fn find_binary(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env) {
        let p = PathBuf::from(p);
        return p.exists().then_some(p);
    }
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.push(PathBuf::from("/usr/bin"));
    dirs.push(PathBuf::from("/usr/lib/chromium"));
    for d in dirs {
        for n in names {
            let p = d.join(n);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// chromedriver on a free loopback port, killed when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start(bin: &PathBuf) -> Driver {
        let port = yuqing_testkit::free_port();
        let child = Command::new(bin)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting chromedriver");
        let d = Driver { child, port };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        for _ in 0..200 {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
                return d;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("chromedriver did not listen on {addr}");
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn connect(driver: &Driver, chromium: &PathBuf, profile: &std::path::Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("chrome"));
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--hide-scrollbars",
                "--force-device-scale-factor=1",
                format!("--window-size={WIDTH},{HEIGHT}"),
                format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a WebDriver session with headless Chromium")
}

async fn wait_url(b: &Client, url: &str) {
    let u = url::Url::parse(url).unwrap();
    b.wait()
        .at_most(Duration::from_secs(30))
        .for_url(&u)
        .await
        .unwrap_or_else(|e| panic!("never reached {url}: {e}"));
}

async fn js(b: &Client, script: &str) -> Value {
    b.execute(script, vec![]).await.expect(script)
}

/// Pixels within `tol` of `rgb` in an RGB(A) buffer.
fn count_colour(buf: &[u8], channels: usize, rgb: [u8; 3], tol: u8) -> usize {
    buf.chunks_exact(channels)
        .filter(|p| (0..3).all(|i| p[i].abs_diff(rgb[i]) <= tol))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duty_officer_works_a_case_in_headless_chromium() {
    let chromium = find_binary("YUQING_CHROMIUM", &["chromium", "chromium-browser"]);
    let chromedriver = find_binary("YUQING_CHROMEDRIVER", &["chromedriver"]);
    let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
        let msg = "chromium or chromedriver is not installed (apt-get install chromium \
                   chromium-driver, or set YUQING_CHROMIUM / YUQING_CHROMEDRIVER)";
        if std::env::var("YUQING_REQUIRE_BROWSER").as_deref() == Ok("1") {
            panic!("{msg}, and YUQING_REQUIRE_BROWSER=1");
        }
        eprintln!("SKIPPED browser end-to-end test: {msg}.");
        return;
    };

    let w = World::new().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = w.app.clone();
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    let base = format!("http://{addr}");

    let driver = Driver::start(&chromedriver);
    let profile = tempfile::tempdir().unwrap();
    let b = connect(&driver, &chromium, profile.path()).await;
    let outcome = scenario(&w, &b, &base).await;
    let closed = b.close().await;
    server.abort();
    drop(driver);
    let png = outcome.unwrap_or_else(|e| panic!("{e}"));
    closed.expect("closing the browser session");

    // The screenshot check: it decodes, has the window's size, and shows the grade colours.
    let decoder = png::Decoder::new(std::io::Cursor::new(&png));
    let mut reader = decoder.read_info().expect("the screenshot is a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("a sane PNG size")];
    let info = reader.next_frame(&mut buf).expect("the PNG decodes");
    assert_eq!(
        (info.width, info.height),
        (WIDTH, HEIGHT),
        "screenshot size"
    );
    let channels = match info.color_type {
        png::ColorType::Rgba => 4,
        png::ColorType::Rgb => 3,
        other => panic!("unexpected colour type {other:?}"),
    };
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    let pixels = &buf[..info.buffer_size()];
    // --red #e53935 and --orange #fb8c00 of console.css.
    let red = count_colour(pixels, channels, [0xe5, 0x39, 0x35], 8);
    let orange = count_colour(pixels, channels, [0xfb, 0x8c, 0x00], 8);
    let background = count_colour(pixels, channels, [0x0e, 0x11, 0x17], 2);
    let total = (info.width * info.height) as usize;
    assert!(red > 500, "too few red pixels ({red}) on the wall view");
    assert!(
        orange > 500,
        "too few orange pixels ({orange}) on the wall view"
    );
    assert!(
        background > total / 10,
        "the dark theme is missing ({background} px)"
    );
    assert!(background < total, "the screenshot is blank");
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join("console-wall.png");
    std::fs::write(&path, &png).unwrap();
    eprintln!(
        "Wall view screenshot: {} ({red} red, {orange} orange px)",
        path.display()
    );
}

/// Saves a screenshot of the page next to the test's other output (for people and CI artifacts).
async fn save(b: &Client, name: &str) -> Result<(), String> {
    let png = b.screenshot().await.map_err(|e| e.to_string())?;
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, png).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("Screenshot: {}", path.display());
    Ok(())
}

/// The scenario; returns the wall view's screenshot (PNG bytes).
async fn scenario(w: &World, b: &Client, base: &str) -> Result<Vec<u8>, String> {
    // Logged out: the console sends the browser to the login form.
    b.goto(&format!("{base}/console/"))
        .await
        .map_err(|e| e.to_string())?;
    wait_url(b, &format!("{base}/console/login?next=%2Fconsole%2F")).await;
    let token = b
        .find(Locator::Css("#token"))
        .await
        .map_err(|e| e.to_string())?;
    token.send_keys(DUTY).await.map_err(|e| e.to_string())?;
    b.form(Locator::Css("form[action='/console/login']"))
        .await
        .map_err(|e| e.to_string())?
        .submit()
        .await
        .map_err(|e| e.to_string())?;
    wait_url(b, &format!("{base}/console/")).await;

    // The viewport must be the wall screen's 1920×1080: grow the window by its own frame.
    let frame = js(b, "return window.outerHeight - window.innerHeight")
        .await
        .as_u64()
        .unwrap_or(0) as u32;
    if frame > 0 {
        b.set_window_size(WIDTH, HEIGHT + frame)
            .await
            .map_err(|e| e.to_string())?;
        b.refresh().await.map_err(|e| e.to_string())?;
    }
    let viewport = js(
        b,
        "return [window.innerWidth, window.innerHeight, window.devicePixelRatio]",
    )
    .await;
    assert_eq!(
        viewport,
        json!([WIDTH, HEIGHT, 1]),
        "the viewport of a wall screen"
    );

    // The wall: four columns, the user, the countdowns ticking under the script (it adds
    // `soon` to a countdown under an hour, which the server never writes).
    let text = b
        .find(Locator::Css(".user"))
        .await
        .map_err(|e| e.to_string())?
        .text()
        .await
        .map_err(|e| e.to_string())?;
    assert!(text.contains("王值班"), "{text}");
    assert_eq!(
        js(b, "return document.querySelectorAll('.card').length").await,
        json!(4)
    );
    b.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(".countdown.soon"))
        .await
        .map_err(|e| format!("the countdown script did not run: {e}"))?;
    let countdown = b
        .find(Locator::Css(".card.grade-i .countdown"))
        .await
        .map_err(|e| e.to_string())?
        .text()
        .await
        .map_err(|e| e.to_string())?;
    assert!(
        countdown.starts_with("剩余 00:5") || countdown == "剩余 01:00:00",
        "{countdown}"
    );
    // Hostile post text stayed text: one script (ours), no image, no javascript: link.
    assert_eq!(js(b, "return document.scripts.length").await, json!(1));
    let title = js(
        b,
        "return document.querySelector('.card.grade-i .card-title').textContent",
    )
    .await;
    assert!(title.as_str().unwrap_or("").contains("<script>"), "{title}");
    let shot = b.screenshot().await.map_err(|e| e.to_string())?;

    let ev = format!("{base}/console/events/{}", w.red);
    b.goto(&ev).await.map_err(|e| e.to_string())?;
    assert_eq!(js(b, "return document.images.length").await, json!(0));
    assert_eq!(
        js(
            b,
            "return document.querySelectorAll('a[href^=\"javascript:\" i]').length"
        )
        .await,
        json!(0)
    );
    assert_eq!(js(b, "return document.scripts.length").await, json!(1));
    assert_eq!(
        js(
            b,
            "return document.querySelectorAll('svg.chart circle.point').length"
        )
        .await,
        json!(10)
    );
    assert!(
        b.get_alert_text().await.is_err(),
        "no script of a post may raise an alert"
    );
    save(b, "console-event.png").await?;

    // The case, from the wall, through every step.
    b.goto(&format!("{base}/console/"))
        .await
        .map_err(|e| e.to_string())?;
    b.find(Locator::Css(".card.grade-i .card-title a"))
        .await
        .map_err(|e| e.to_string())?
        .click()
        .await
        .map_err(|e| e.to_string())?;
    let case = w.cases.show(&w.red).await.unwrap();
    let page = format!("{base}/console/cases/{}", case.case_id);
    wait_url(b, &page).await;
    save(b, "console-case.png").await?;

    let steps: [(&str, CaseState); 5] = [
        ("accept", CaseState::Accepted),
        ("assign", CaseState::Assigned),
        ("feedback", CaseState::Feedback),
        ("respond", CaseState::Responded),
        ("close", CaseState::Closed),
    ];
    for (action, want) in steps {
        let form = format!("#form-{action}");
        match action {
            "assign" => {
                let f = b
                    .find(Locator::Css("#assign-department"))
                    .await
                    .map_err(|e| e.to_string())?;
                f.clear().await.map_err(|e| e.to_string())?;
                f.send_keys("应急管理局").await.map_err(|e| e.to_string())?;
            }
            "feedback" => {
                b.find(Locator::Css("#feedback-facts"))
                    .await
                    .map_err(|e| e.to_string())?
                    .send_keys("经核实：储罐起火已扑灭，2 人轻伤送医。")
                    .await
                    .map_err(|e| e.to_string())?;
            }
            "respond" => {
                b.find(Locator::Css("#respond-channel"))
                    .await
                    .map_err(|e| e.to_string())?
                    .select_by_value("weibo")
                    .await
                    .map_err(|e| e.to_string())?;
                b.find(Locator::Css("#respond-link"))
                    .await
                    .map_err(|e| e.to_string())?
                    .send_keys("https://weibo.com/gov/2026")
                    .await
                    .map_err(|e| e.to_string())?;
            }
            "close" => {
                b.find(Locator::Css("#close-note"))
                    .await
                    .map_err(|e| e.to_string())?
                    .send_keys("已回应，办结。")
                    .await
                    .map_err(|e| e.to_string())?;
            }
            _ => {}
        }
        b.form(Locator::Css(&form))
            .await
            .map_err(|e| format!("{action}: no form {form}: {e}"))?
            .submit()
            .await
            .map_err(|e| format!("{action}: {e}"))?;
        wait_url(b, &format!("{page}?done={action}")).await;
        let shown = b
            .find(Locator::Css("#case-state"))
            .await
            .map_err(|e| e.to_string())?
            .text()
            .await
            .map_err(|e| e.to_string())?;
        assert_eq!(shown, want.label(), "after {action}");
        assert_eq!(
            w.cases.show(&w.red).await.unwrap().state,
            want,
            "after {action}"
        );
    }
    let audit = w.cases.audit(&w.red).await.unwrap();
    let done: Vec<&str> = audit
        .iter()
        .filter(|e| e.actor == "王值班")
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(done, ["accept", "assign", "feedback", "respond", "close"]);
    let case = w.cases.show(&w.red).await.unwrap();
    assert_eq!(case.assigned_to.as_deref(), Some("应急管理局"));
    assert_eq!(
        case.response.as_ref().and_then(|r| r.link.as_deref()),
        Some("https://weibo.com/gov/2026")
    );
    // A closed case shows no forms but close-independent ones (notes).
    assert_eq!(
        js(b, "return document.querySelectorAll('form.action').length").await,
        json!(1)
    );

    // The closed case's summary report opens as its own document, without any script.
    b.find(Locator::Css(&format!(
        "a[href='/console/reports/summary/{}']",
        case.case_id
    )))
    .await
    .map_err(|e| format!("no summary link on the closed case: {e}"))?
    .click()
    .await
    .map_err(|e| e.to_string())?;
    wait_url(
        b,
        &format!("{base}/console/reports/summary/{}", case.case_id),
    )
    .await;
    assert_eq!(js(b, "return document.scripts.length").await, json!(0));
    let title = js(b, "return document.title").await;
    assert!(title.as_str().unwrap_or("").contains("总结报告"), "{title}");
    b.back().await.map_err(|e| e.to_string())?;
    wait_url(b, &format!("{page}?done=close")).await;

    // Logout ends the session: the wall sends to the login form again.
    b.form(Locator::Css("form.logout"))
        .await
        .map_err(|e| e.to_string())?
        .submit()
        .await
        .map_err(|e| e.to_string())?;
    wait_url(b, &format!("{base}/console/login")).await;
    b.goto(&format!("{base}/console/"))
        .await
        .map_err(|e| e.to_string())?;
    wait_url(b, &format!("{base}/console/login?next=%2Fconsole%2F")).await;
    Ok(shot)
}
