//! Runs the real `sukusuku` binary (`serve`) on a loopback port for end-to-end tests, and
//! builds the signed webhook requests LINE would send it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

pub const CHANNEL_SECRET: &str = "e2e-channel-secret-0123456789abcdef";
pub const ACCESS_TOKEN: &str = "e2e-access-token";

/// The workspace's example catalog.
pub fn example_catalog() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/catalog/example.yaml")
}

/// The `sukusuku` binary built alongside these tests (`cargo test --workspace` builds it
/// because the CLI package has integration tests of its own).
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> → target/<profile>/sukusuku
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let bin = dir.join(format!("sukusuku{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run the tests with `cargo test --workspace` (or `cargo build -p sukusuku` first)",
        bin.display()
    );
    bin
}

pub fn sign(body: &[u8]) -> String {
    sign_with(CHANNEL_SECRET, body)
}

pub fn sign_with(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("hmac key");
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The channel secret `serve` uses in local mode when `LINE_CHANNEL_SECRET` is not set.
pub const LOCAL_CHANNEL_SECRET: &str = "sukusuku-local";

pub struct Sukusuku {
    child: Child,
    /// The public listener: `/webhook`, `/healthz`.
    pub base_url: String,
    /// The loopback development listener: `/dev/*`.
    pub dev_url: String,
    log: PathBuf,
    stdout: PathBuf,
    secret: String,
    client: reqwest::Client,
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl Sukusuku {
    /// Starts `sukusuku serve` against `line_base` with data in `data` and waits until it answers.
    pub async fn start(line_base: &str, data: &Path, catalog: &Path) -> Sukusuku {
        let env = [
            ("LINE_CHANNEL_SECRET", CHANNEL_SECRET),
            ("LINE_CHANNEL_ACCESS_TOKEN", ACCESS_TOKEN),
            ("LINE_API_BASE", line_base),
        ];
        Sukusuku::spawn(&env, CHANNEL_SECRET, data, catalog).await
    }

    /// Starts `sukusuku serve` in local mode: no LINE credentials at all. `line_base` is set
    /// anyway, so a test can prove nothing is sent there.
    pub async fn start_local(line_base: &str, data: &Path, catalog: &Path) -> Sukusuku {
        let env = [("LINE_API_BASE", line_base)];
        Sukusuku::spawn(&env, LOCAL_CHANNEL_SECRET, data, catalog).await
    }

    async fn spawn(env: &[(&str, &str)], secret: &str, data: &Path, catalog: &Path) -> Sukusuku {
        // A port found free can be taken by another test before `serve` binds it: try again
        // on new ports then.
        for _ in 0..5 {
            match Sukusuku::spawn_once(env, secret, data, catalog).await {
                Ok(s) => return s,
                Err(log) if log.contains("Address already in use") => continue,
                Err(log) => panic!("sukusuku did not start:\n{log}"),
            }
        }
        panic!("sukusuku found no free port in five tries");
    }

    async fn spawn_once(
        env: &[(&str, &str)],
        secret: &str,
        data: &Path,
        catalog: &Path,
    ) -> Result<Sukusuku, String> {
        let (port, dev_port) = (free_port(), free_port());
        let log = data.with_extension("log");
        let stdout = data.with_extension("stdout");
        let log_file = std::fs::File::create(&log).expect("log file");
        let stdout_file = std::fs::File::create(&stdout).expect("stdout file");
        let child = Command::new(binary())
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            .args(["--dev-addr", &format!("127.0.0.1:{dev_port}"), "--catalog"])
            .arg(catalog)
            .arg("--data")
            .arg(data)
            .env_remove("LINE_CHANNEL_SECRET")
            .env_remove("LINE_CHANNEL_ACCESS_TOKEN")
            .env_remove("LINE_API_BASE")
            .envs(env.iter().copied())
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(stdout_file)
            .stderr(log_file)
            .spawn()
            .expect("start sukusuku");
        let mut s = Sukusuku {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            dev_url: format!("http://127.0.0.1:{dev_port}"),
            log,
            stdout,
            secret: secret.to_string(),
            client: reqwest::Client::new(),
        };
        for _ in 0..200 {
            if let Ok(Some(status)) = s.child.try_wait() {
                return Err(format!("sukusuku exited with {status}:\n{}", s.log_text()));
            }
            // Only once it says it listens: before that the port may be someone else's.
            if s.log_text().contains("sukusuku listening on")
                && let Ok(r) = s.client.get(format!("{}/healthz", s.base_url)).send().await
                && r.status().is_success()
            {
                return Ok(s);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(s.log_text())
    }

    /// What `serve` printed on stdout (local mode's transcript).
    pub fn stdout_text(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub async fn webhook_raw(&self, body: Vec<u8>, signature: Option<String>) -> (u16, String) {
        let mut req = self
            .client
            .post(format!("{}/webhook", self.base_url))
            .header("content-type", "application/json")
            .body(body);
        if let Some(sig) = signature {
            req = req.header("x-line-signature", sig);
        }
        let r = req.send().await.expect("webhook request");
        let status = r.status().as_u16();
        (status, r.text().await.unwrap_or_default())
    }

    /// Posts events signed with the channel secret this server uses.
    pub async fn webhook(&self, events: Vec<Value>) -> u16 {
        let body = callback(events);
        let sig = sign_with(&self.secret, &body);
        self.webhook_raw(body, Some(sig)).await.0
    }

    /// `POST /dev/daily?date=…`, returning its JSON.
    pub async fn daily(&self, date: chrono::NaiveDate) -> Value {
        let r = self
            .client
            .post(format!("{}/dev/daily?date={date}", self.dev_url))
            .send()
            .await
            .expect("daily request");
        assert!(r.status().is_success(), "daily run failed: {}", r.status());
        r.json().await.expect("daily JSON")
    }

    /// `POST /dev/offers`: the waiting-list sweep now, returning its JSON.
    pub async fn offers(&self) -> Value {
        let r = self
            .client
            .post(format!("{}/dev/offers", self.dev_url))
            .send()
            .await
            .expect("offers request");
        assert!(r.status().is_success(), "sweep failed: {}", r.status());
        r.json().await.expect("sweep JSON")
    }

    /// Stops the server; returns its log (stderr).
    pub fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.log_text()
    }
}

impl Drop for Sukusuku {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn callback(events: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(
        &json!({"destination": "Uffffffffffffffffffffffffffffffff", "events": events}),
    )
    .expect("json")
}

/// `event` as LINE redelivers it: the same `webhookEventId` and reply token, with
/// `deliveryContext.isRedelivery` true.
pub fn redelivered(event: &Value) -> Value {
    let mut e = event.clone();
    e["deliveryContext"] = json!({"isRedelivery": true});
    e
}

/// Builds webhook events for one LINE user, with unique ids and increasing timestamps.
pub struct Resident {
    pub user_id: String,
    next: u64,
}

impl Resident {
    pub fn new(n: u32) -> Resident {
        Resident {
            user_id: format!("U{n:032x}"),
            next: 0,
        }
    }

    fn event(&mut self, body: Value) -> Value {
        self.next += 1;
        let mut e = json!({
            "mode": "active",
            "timestamp": chrono::Utc::now().timestamp_millis() + self.next as i64,
            "webhookEventId": format!("01E2E{}X{:06}", &self.user_id[25..], self.next),
            "deliveryContext": {"isRedelivery": false},
            "source": {"type": "user", "userId": self.user_id},
            "replyToken": format!("rt-{}-{}", &self.user_id[25..], self.next),
        });
        if let (Some(e), Some(b)) = (e.as_object_mut(), body.as_object()) {
            e.extend(b.clone());
        }
        e
    }

    pub fn follow(&mut self) -> Value {
        self.event(json!({"type": "follow", "follow": {"isUnblocked": false}}))
    }

    pub fn unfollow(&mut self) -> Value {
        let mut e = self.event(json!({"type": "unfollow"}));
        if let Some(o) = e.as_object_mut() {
            o.remove("replyToken");
        }
        e
    }

    pub fn text(&mut self, text: &str) -> Value {
        self.event(json!({"type": "message", "message": {"type": "text", "id": "1", "quoteToken": "q", "text": text}}))
    }

    pub fn postback(&mut self, data: &str) -> Value {
        self.event(json!({"type": "postback", "postback": {"data": data}}))
    }

    pub fn pick_date(&mut self, data: &str, date: chrono::NaiveDate) -> Value {
        self.event(json!({"type": "postback", "postback": {"data": data, "params": {"date": date.to_string()}}}))
    }
}
