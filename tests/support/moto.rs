//! The local AWS emulator: moto's server from the project's virtual environment,
//! started by each test on its own free loopback port (fresh state, no sharing
//! between tests) and killed when the handle drops.
//!
//! It runs through `tests/support/moto_server.py`, moto's server with DynamoDB's
//! BatchExecuteStatement served for the state writes moto's PartiQL cannot run
//! (`scripts/moto-partiql.py` checks it); every other operation is moto's own.
//!
//! Never skipped: a missing emulator fails the test with the command that installs
//! it, so a green run always means the adapters really talked to something.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;

/// The region every test uses (the simulator's default too).
pub const REGION: &str = "eu-west-1";

/// The workspace root (the tests package sits one level below it).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// A running moto server.
#[derive(Debug)]
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
}

/// A free TCP port on loopback (bound, then released for the child to take).
pub fn free_port() -> anyhow::Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").context("binding a loopback port")?;
    Ok(l.local_addr()?.port())
}

impl Moto {
    /// Starts moto with ECS reporting no running task.
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with(&[]).await
    }

    /// Starts moto with extra environment, e.g. `MOTO_ECS_SERVICE_RUNNING=1` (moto's
    /// ECS reports one fixed running count per server).
    pub async fn start_with(env: &[(&str, &str)]) -> anyhow::Result<Self> {
        let root = workspace_root();
        // moto_server comes with moto, which `make test-setup` installs.
        let installed = root.join(".venv/bin/moto_server");
        if !installed.exists() {
            bail!(
                "the AWS emulator is not installed ({} is missing): run `make test-setup` first",
                installed.display()
            );
        }
        let python = root.join(".venv/bin/python");
        let launcher = root.join("tests/support/moto_server.py");
        if !launcher.exists() {
            bail!("the moto launcher {} is missing", launcher.display());
        }
        let port = free_port()?;
        let child = Command::new(&python)
            .arg(&launcher)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {} {}", python.display(), launcher.display()))?;
        let mut moto = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        moto.wait_ready(port).await?;
        Ok(moto)
    }

    async fn wait_ready(&mut self, port: u16) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("moto_server exited during start-up ({status})");
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("moto_server did not listen on port {port} within 60 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// An SDK configuration pointing at this server (what `AWS_ENDPOINT_URL` does for
    /// the bootstrap binaries).
    pub async fn sdk_config(&self) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
            .endpoint_url(&self.endpoint)
            .load()
            .await
    }

    /// Environment variables that point a child process (the bootstrap) here.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.endpoint.as_str()),
            ("AWS_REGION", REGION),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
