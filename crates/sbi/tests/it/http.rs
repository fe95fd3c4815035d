//! The client and the simulator over real HTTP.

use std::time::{Duration, Instant};

use ghidanh_biometrics::finger::FingerImageRecord;
use ghidanh_sbi::sim::{device_key, SimConfig, SimQuality, SimStep};
use ghidanh_sbi::{DeviceStatus, SbiClient, SbiError};

use crate::support::{finger, quick, start};

#[tokio::test]
async fn discovery_finds_the_simulator_and_skips_a_closed_port() {
    let sim = start(SimConfig {
        seed: 4242,
        ..quick()
    })
    .await;
    let key = *device_key(4242).verifying_key().as_bytes();
    // A port that was free a moment ago: nothing listens there.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    assert!(SbiClient::discover(closed..=closed).await.is_empty());
    // A range around the simulator: its neighbours are closed (or another test's simulator,
    // which has another key).
    let range = sim.port.saturating_sub(3)..=sim.port.saturating_add(3);
    let started = Instant::now();
    let found = SbiClient::discover(range.clone()).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let ours: Vec<_> = found.iter().filter(|(_, info)| info.key == key).collect();
    assert_eq!(ours.len(), 1, "{found:?}");
    let (client, info) = ours[0];
    assert_eq!(client.port(), sim.port);
    assert_eq!(info.status, DeviceStatus::Ready);
    assert_eq!(client.pinned_key(), Some(key));
    assert!(found.windows(2).all(|w| w[0].0.port() < w[1].0.port()));
    assert!(found.iter().all(|(c, _)| range.contains(&c.port())));
}

#[tokio::test]
async fn device_info_names_the_device_and_pins_its_key() {
    let sim = start(SimConfig { seed: 7, ..quick() }).await;
    let client = sim.client();
    let info = client.device_info().await.unwrap();
    assert_eq!(info.make_model, "Ghi Danh SBI-SIM-1");
    assert_eq!(info.serial, "000000000007");
    assert_eq!(info.slot, "1");
    assert!(info.device_id.starts_with("GD-SIM-"), "{}", info.device_id);
    assert_eq!(info.key, *device_key(7).verifying_key().as_bytes());
    assert_eq!(client.pinned_key(), Some(info.key));
    // A client paired with another device's key refuses this one.
    let paired = SbiClient::with_pinned_key(sim.port, *device_key(8).verifying_key().as_bytes());
    assert!(matches!(
        paired.device_info().await,
        Err(SbiError::WrongKey)
    ));
}

#[tokio::test]
async fn every_finger_comes_back_parsed_at_its_position() {
    let sim = start(quick()).await;
    let client = sim.client();
    let info = client.device_info().await.unwrap();
    for position in 1..=10 {
        let got = client
            .capture_finger(&finger("enrol-a", position))
            .await
            .unwrap();
        let record = FingerImageRecord::parse(&got.record).unwrap();
        assert_eq!((got.position, record.position), (position, position));
        assert_eq!(record.quality, got.device_quality);
        assert_eq!((record.width, record.height), (256, 320));
        assert_eq!(got.device_key, info.key);
        assert_eq!(got.device_id, info.device_id);
        assert!(
            got.device_quality > 60,
            "finger {position}: {}",
            got.device_quality
        );
    }
}

async fn quality_at(level: SimQuality) -> Vec<u8> {
    let sim = start(SimConfig {
        quality: level,
        ..quick()
    })
    .await;
    let client = sim.client();
    let mut scores = Vec::new();
    for (t, p) in [("q-1", 2), ("q-2", 7), ("q-3", 1)] {
        scores.push(
            client
                .capture_finger(&finger(t, p))
                .await
                .unwrap()
                .device_quality,
        );
    }
    scores
}

#[tokio::test]
async fn quality_follows_the_simulators_level() {
    let good = quality_at(SimQuality::Good).await;
    let fair = quality_at(SimQuality::Fair).await;
    let poor = quality_at(SimQuality::Poor).await;
    eprintln!("good {good:?} fair {fair:?} poor {poor:?}");
    for i in 0..good.len() {
        assert!(good[i] > 60, "good {good:?}");
        assert!(poor[i] < 40, "poor {poor:?}");
        assert!((40..=60).contains(&fair[i]), "fair {fair:?}");
        assert!(
            good[i] > fair[i] && fair[i] > poor[i],
            "{good:?} {fair:?} {poor:?}"
        );
    }
}

fn png(captured: &ghidanh_sbi::CapturedFinger) -> Vec<u8> {
    FingerImageRecord::parse(&captured.record).unwrap().png
}

#[tokio::test]
async fn the_same_enrollment_shows_the_same_person_and_another_a_different_one() {
    let sim = start(quick()).await;
    let client = sim.client();
    let a1 = client.capture_finger(&finger("enrol-1", 3)).await.unwrap();
    let a2 = client.capture_finger(&finger("enrol-1", 3)).await.unwrap();
    let b = client.capture_finger(&finger("enrol-2", 3)).await.unwrap();
    assert_eq!(png(&a1), png(&a2));
    assert_ne!(png(&a1), png(&b));
    // Another simulated device sees the same person for the same enrollment.
    let other = start(SimConfig {
        seed: 99,
        ..quick()
    })
    .await;
    let c = other
        .client()
        .capture_finger(&finger("enrol-1", 3))
        .await
        .unwrap();
    assert_eq!(png(&a1), png(&c));
    assert_ne!(a1.device_key, c.device_key);
}

#[tokio::test]
async fn script_steps_are_consumed_in_order_then_the_default_returns() {
    let sim = start(quick()).await;
    let set = sim
        .control(
            "/sim/script",
            serde_json::json!({"steps": ["poor", "good", "no_finger", "fair"]}),
        )
        .await;
    assert_eq!(set["steps"], 4);
    let client = sim.client();
    let poor = client
        .capture_finger(&finger("s", 2))
        .await
        .unwrap()
        .device_quality;
    let good = client
        .capture_finger(&finger("s", 2))
        .await
        .unwrap()
        .device_quality;
    assert!(poor < 40 && good > 60, "{poor} {good}");
    assert!(matches!(
        client.capture_finger(&finger("s", 2)).await,
        Err(SbiError::NoFinger)
    ));
    let state = sim.state().await;
    assert_eq!(state["script"], serde_json::json!(["fair"]));
    assert_eq!(state["captures"], 3);
    let fair = client
        .capture_finger(&finger("s", 2))
        .await
        .unwrap()
        .device_quality;
    assert!(poor < fair && fair < good, "{poor} {fair} {good}");
    let again = client
        .capture_finger(&finger("s", 2))
        .await
        .unwrap()
        .device_quality;
    assert_eq!(again, good);
    assert_eq!(sim.state().await["script"], serde_json::json!([]));
}

#[tokio::test]
async fn no_finger_and_timeout_are_what_a_device_answers() {
    let sim = start(SimConfig {
        script: vec![SimStep::NoFinger, SimStep::Timeout],
        ..quick()
    })
    .await;
    let client = sim.client();
    let started = Instant::now();
    assert!(matches!(
        client.capture_finger(&finger("t", 1)).await,
        Err(SbiError::NoFinger)
    ));
    assert!(started.elapsed() >= Duration::from_millis(200));
    let mut req = finger("t", 1);
    req.timeout = Duration::from_millis(400);
    let started = Instant::now();
    assert!(matches!(
        client.capture_finger(&req).await,
        Err(SbiError::Timeout)
    ));
    // The device waited the request's timeout before it answered.
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_second_capture_while_one_runs_is_told_busy() {
    let sim = start(SimConfig {
        capture_delay: Duration::from_millis(800),
        ..quick()
    })
    .await;
    let first = sim.client();
    let second = sim.client();
    let running = tokio::spawn(async move { first.capture_finger(&finger("b", 1)).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        second.device_info().await.unwrap().status,
        DeviceStatus::Busy
    );
    assert!(matches!(
        second.capture_finger(&finger("b", 2)).await,
        Err(SbiError::Busy)
    ));
    let got = running.await.unwrap().unwrap();
    assert_eq!(got.position, 1);
    // Free again afterwards; a scripted busy refuses once.
    sim.control("/sim/script", serde_json::json!({"steps": ["busy"]}))
        .await;
    assert!(matches!(
        second.capture_finger(&finger("b", 2)).await,
        Err(SbiError::Busy)
    ));
    assert_eq!(
        second
            .capture_finger(&finger("b", 2))
            .await
            .unwrap()
            .position,
        2
    );
}

#[tokio::test]
async fn an_unplugged_device_breaks_off_and_vanishes_until_plugged_in() {
    let sim = start(SimConfig {
        script: vec![SimStep::Unplugged],
        ..quick()
    })
    .await;
    let client = sim.client();
    let e = client.capture_finger(&finger("u", 4)).await.unwrap_err();
    assert!(matches!(e, SbiError::Unplugged), "{e:?}");
    assert_eq!(sim.state().await["plugged"], false);
    assert!(SbiClient::discover(sim.port..=sim.port).await.is_empty());
    assert!(matches!(
        client.device_info().await,
        Err(SbiError::Unplugged)
    ));
    sim.control("/sim/plug", serde_json::json!({"plugged": true}))
        .await;
    assert_eq!(SbiClient::discover(sim.port..=sim.port).await.len(), 1);
    assert_eq!(
        client
            .capture_finger(&finger("u", 4))
            .await
            .unwrap()
            .position,
        4
    );
}

#[tokio::test]
async fn an_unregistered_device_says_so() {
    let sim = start(SimConfig {
        registered: false,
        ..quick()
    })
    .await;
    let client = sim.client();
    assert_eq!(
        client.device_info().await.unwrap().status,
        DeviceStatus::NotRegistered
    );
    assert!(matches!(
        client.capture_finger(&finger("r", 1)).await,
        Err(SbiError::NotRegistered)
    ));
}

#[tokio::test]
async fn a_capture_from_another_device_on_the_same_port_is_refused() {
    let sim = start(quick()).await;
    let client = sim.client();
    client.device_info().await.unwrap();
    let port = sim.port;
    drop(sim);
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Another device (another key) now answers on that port: the pinned client refuses it.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let _other = tokio::spawn(ghidanh_sbi::sim::serve(
        listener,
        SimConfig { seed: 2, ..quick() },
    ));
    assert!(matches!(
        client.capture_finger(&finger("w", 1)).await,
        Err(SbiError::WrongKey)
    ));
}

#[tokio::test]
async fn the_control_endpoint_refuses_what_it_does_not_know() {
    let sim = start(quick()).await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    for (path, body) in [
        ("/sim/script", r#"{"steps":["great"]}"#),
        ("/sim/script", r#"{"steps":"good"}"#),
        ("/sim/plug", r#"{"plugged":"yes"}"#),
        ("/sim/plug", "{"),
    ] {
        let r = http
            .post(format!("http://127.0.0.1:{}{path}", sim.port))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400, "{path} {body}");
    }
    assert_eq!(sim.state().await["plugged"], true);
}
