//! The AWS emulator (moto's server), started by the test itself on loopback.
//!
//! Its own small starter, so this crate's tests do not wait on the workspace harness.
//! moto is installed by `make test-setup` into the workspace's `.venv`; when it is
//! missing the test fails and says so (a skipped secret test would hide a broken
//! secret path).

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_secretsmanager::config::Credentials;

/// A running moto server, stopped on drop.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
}

impl Moto {
    pub fn start() -> Self {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let bin = root.join(".venv/bin/moto_server");
        assert!(
            bin.exists(),
            "moto_server not found at {}: run `make test-setup` at the workspace root \
             (it installs infra/tests/requirements.txt into .venv)",
            bin.display()
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free loopback port");
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {}: {e}", bin.display()));
        let mut moto = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!("moto_server exited at start ({status})");
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "moto_server did not listen within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    /// SDK configuration pointing at the emulator, with test credentials.
    pub async fn sdk(&self) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(Region::new("eu-west-1"))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
            .load()
            .await
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
