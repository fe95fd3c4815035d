//! A simulator on a free loopback port, and requests to it.

use std::time::Duration;

use ghidanh_sbi::sim::{self, SimConfig};
use ghidanh_sbi::{FingerRequest, SbiClient};

/// A running simulator; stops when dropped.
pub struct Sim {
    pub port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn start(config: SimConfig) -> Sim {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        sim::serve(listener, config).await.unwrap();
    });
    Sim { port, task }
}

/// Fast enough for tests, slow enough that a second capture meets a busy device.
pub fn quick() -> SimConfig {
    SimConfig {
        capture_delay: Duration::from_millis(50),
        no_finger_wait: Duration::from_millis(200),
        ..SimConfig::default()
    }
}

pub fn finger(transaction: &str, position: u8) -> FingerRequest {
    FingerRequest {
        transaction_id: transaction.into(),
        position,
        requested_score: 40,
        timeout: Duration::from_secs(5),
    }
}

impl Sim {
    pub fn client(&self) -> SbiClient {
        SbiClient::new(self.port)
    }

    pub async fn control(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let r = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .post(format!("http://127.0.0.1:{}{path}", self.port))
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        serde_json::from_slice(&r.bytes().await.unwrap()).unwrap()
    }

    pub async fn state(&self) -> serde_json::Value {
        let r = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .get(format!("http://127.0.0.1:{}/sim/state", self.port))
            .send()
            .await
            .unwrap();
        serde_json::from_slice(&r.bytes().await.unwrap()).unwrap()
    }

    /// The raw RCAPTURE answer, for the hostile tests to take apart.
    pub async fn raw_capture(&self, req: &FingerRequest) -> Vec<u8> {
        let body = serde_json::json!({
            "env": "Developer", "purpose": "Registration", "specVersion": "0.9.5",
            "timeout": "5000", "transactionId": req.transaction_id,
            "bio": [{"type": "Finger", "count": "1",
                     "bioSubType": [ghidanh_sbi::bio_sub_type(req.position).unwrap()],
                     "requestedScore": "40", "deviceId": "1", "previousHash": ""}],
        });
        reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .request(
                reqwest::Method::from_bytes(b"RCAPTURE").unwrap(),
                format!("http://127.0.0.1:{}/capture", self.port),
            )
            .body(body.to_string())
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .to_vec()
    }
}
