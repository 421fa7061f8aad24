//! The Slack webhook URL: where it is stored, how it is read, and how it stays secret.
//!
//! An incoming-webhook URL is a bearer credential: whoever has it can post to the
//! channel. So it lives in Secrets Manager or SSM Parameter Store (never a plain
//! environment variable), is read once per sandbox and cached, and is held in
//! [`WebhookUrl`], whose `Debug` and `Display` print `<redacted>`: no log line, error
//! or panic message can carry it. Errors name the secret's ARN, never its value.
//!
//! The [`WebhookSource`] port exists so the delivery tests can hand the function a
//! loopback URL directly, while the secret-store adapter is tested on its own against
//! the AWS emulator.

use std::fmt;
use std::future::Future;

use aws_config::SdkConfig;
use http::Uri;
use thiserror::Error;
use tokio::sync::RwLock;

use crate::config::SecretRef;

/// A boxed lower-level error (the SDK's), kept as the source.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The webhook secret could not be read or is not a webhook URL.
#[derive(Debug, Error)]
pub enum SecretError {
    /// The store refused or failed the read (permissions, KMS, throttling, network).
    #[error("{store} {arn}: could not read the webhook secret")]
    Fetch {
        /// "Secrets Manager" or "SSM Parameter Store".
        store: &'static str,
        /// The secret's ARN.
        arn: String,
        /// The SDK error.
        #[source]
        source: BoxError,
    },
    /// The secret has no string value.
    #[error("{arn}: the secret has no string value")]
    Empty {
        /// The secret's ARN.
        arn: String,
    },
    /// The value is not an `https://` URL (nor `{"webhook_url": "https://…"}`).
    #[error("{arn}: the secret's value is not an https:// webhook URL (value not shown)")]
    NotAWebhookUrl {
        /// The secret's ARN.
        arn: String,
    },
}

/// A webhook URL that never prints itself.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookUrl(Uri);

impl WebhookUrl {
    /// Reads a secret's value: the URL itself, or a JSON object with a `webhook_url`
    /// or `url` field (the Secrets Manager console's key/value form). The URL must be
    /// `https://`; plain `http://` is accepted only on loopback, for local tests.
    /// `None` means it is not one; the caller names the secret in its error.
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        let text = if value.starts_with('{') {
            let json: serde_json::Value = serde_json::from_str(value).ok()?;
            ["webhook_url", "url"]
                .iter()
                .find_map(|k| json.get(k).and_then(serde_json::Value::as_str))?
                .trim()
                .to_owned()
        } else {
            value.to_owned()
        };
        let uri: Uri = text.parse().ok()?;
        let host = uri.host()?;
        let allowed = match uri.scheme_str() {
            Some("https") => !host.is_empty(),
            Some("http") => matches!(host, "127.0.0.1" | "localhost" | "[::1]"),
            _ => false,
        };
        allowed.then_some(Self(uri))
    }

    /// The URL, for the one place that sends the request.
    pub(crate) fn uri(&self) -> &Uri {
        &self.0
    }
}

impl fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookUrl(<redacted>)")
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Where the webhook URL comes from.
pub trait WebhookSource: Send + Sync {
    /// Reads the URL (one call per cold start, and after Slack says it is gone).
    fn fetch(&self) -> impl Future<Output = Result<WebhookUrl, SecretError>> + Send;
}

/// A fixed URL (tests, local runs).
#[derive(Clone, Debug)]
pub struct StaticWebhook(pub WebhookUrl);

impl WebhookSource for StaticWebhook {
    async fn fetch(&self) -> Result<WebhookUrl, SecretError> {
        Ok(self.0.clone())
    }
}

/// The secret in Secrets Manager or SSM Parameter Store, by ARN.
#[derive(Clone, Debug)]
pub struct AwsSecretStore {
    secret: SecretRef,
    client: StoreClient,
}

#[derive(Clone, Debug)]
enum StoreClient {
    SecretsManager(aws_sdk_secretsmanager::Client),
    Ssm(aws_sdk_ssm::Client),
}

impl AwsSecretStore {
    /// Builds only the client the ARN needs.
    pub fn new(sdk: &SdkConfig, secret: SecretRef) -> Self {
        let client = match secret {
            SecretRef::SecretsManager(_) => {
                StoreClient::SecretsManager(aws_sdk_secretsmanager::Client::new(sdk))
            }
            SecretRef::SsmParameter(_) => StoreClient::Ssm(aws_sdk_ssm::Client::new(sdk)),
        };
        Self { secret, client }
    }
}

impl WebhookSource for AwsSecretStore {
    async fn fetch(&self) -> Result<WebhookUrl, SecretError> {
        let arn = self.secret.arn();
        let value = match &self.client {
            StoreClient::SecretsManager(c) => {
                c.get_secret_value()
                    .secret_id(arn)
                    .send()
                    .await
                    .map_err(|e| SecretError::Fetch {
                        store: "Secrets Manager",
                        arn: arn.to_owned(),
                        source: e.into(),
                    })?
                    .secret_string
            }
            // GetParameter takes the ARN as the name; SecureStrings need decryption.
            StoreClient::Ssm(c) => c
                .get_parameter()
                .name(arn)
                .with_decryption(true)
                .send()
                .await
                .map_err(|e| SecretError::Fetch {
                    store: "SSM Parameter Store",
                    arn: arn.to_owned(),
                    source: e.into(),
                })?
                .parameter
                .and_then(|p| p.value),
        };
        let value = value.ok_or_else(|| SecretError::Empty {
            arn: arn.to_owned(),
        })?;
        WebhookUrl::parse(&value).ok_or_else(|| SecretError::NotAWebhookUrl {
            arn: arn.to_owned(),
        })
    }
}

/// The URL, read once and kept for the sandbox's life.
///
/// A `RwLock<Option<_>>` rather than a `OnceCell`: when Slack answers that the
/// webhook is gone (403/404/410, as after a rotation), [`forget`](Self::forget) drops
/// it, and the retry of the same SNS message reads the rotated secret without waiting
/// for a cold start.
#[derive(Debug)]
pub struct CachedWebhook<S> {
    source: S,
    url: RwLock<Option<WebhookUrl>>,
}

impl<S: WebhookSource> CachedWebhook<S> {
    /// Nothing is read until the first alert needs it.
    pub fn new(source: S) -> Self {
        Self {
            source,
            url: RwLock::new(None),
        }
    }

    /// The URL, reading the source on first use.
    pub async fn get(&self) -> Result<WebhookUrl, SecretError> {
        if let Some(url) = self.url.read().await.as_ref() {
            return Ok(url.clone());
        }
        let mut slot = self.url.write().await;
        if let Some(url) = slot.as_ref() {
            return Ok(url.clone());
        }
        let url = self.source.fetch().await?;
        *slot = Some(url.clone());
        Ok(url)
    }

    /// Drops the cached URL: the next [`get`](Self::get) reads the source again.
    pub async fn forget(&self) {
        *self.url.write().await = None;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const URL: &str = "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX";

    #[test]
    fn the_url_never_prints_itself() {
        let url = WebhookUrl::parse(URL).unwrap();
        assert_eq!(format!("{url:?}"), "WebhookUrl(<redacted>)");
        assert_eq!(format!("{url}"), "<redacted>");
        assert_eq!(
            format!("{:?}", StaticWebhook(url)),
            "StaticWebhook(WebhookUrl(<redacted>))"
        );
    }

    #[test]
    fn the_secret_may_be_the_url_or_a_key_value_object() {
        assert!(WebhookUrl::parse(&format!(" {URL}\n")).is_some());
        assert!(WebhookUrl::parse(&format!(r#"{{"webhook_url":"{URL}"}}"#)).is_some());
        assert!(WebhookUrl::parse(&format!(r#"{{"url":"{URL}"}}"#)).is_some());
        assert!(WebhookUrl::parse(r#"{"token":"x"}"#).is_none());
    }

    #[test]
    fn only_https_is_accepted_except_on_loopback() {
        assert!(WebhookUrl::parse("http://hooks.slack.com/services/x").is_none());
        assert!(WebhookUrl::parse("ftp://hooks.slack.com/x").is_none());
        assert!(WebhookUrl::parse("hooks.slack.com/services/x").is_none());
        assert!(WebhookUrl::parse("http://127.0.0.1:8080/hook").is_some());
    }

    #[test]
    fn errors_name_the_secret_not_its_value() {
        let e = SecretError::NotAWebhookUrl {
            arn: "arn:aws:ssm:eu-west-1:123456789012:parameter/slack".into(),
        };
        assert_eq!(
            e.to_string(),
            "arn:aws:ssm:eu-west-1:123456789012:parameter/slack: the secret's value is not an https:// webhook URL (value not shown)"
        );
    }

    struct Counting(std::sync::atomic::AtomicUsize);

    impl WebhookSource for Counting {
        async fn fetch(&self) -> Result<WebhookUrl, SecretError> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(WebhookUrl::parse(URL).unwrap())
        }
    }

    #[tokio::test]
    async fn the_secret_is_read_once_until_forgotten() {
        let cache = CachedWebhook::new(Counting(0.into()));
        cache.get().await.unwrap();
        cache.get().await.unwrap();
        assert_eq!(cache.source.0.load(std::sync::atomic::Ordering::SeqCst), 1);
        cache.forget().await;
        cache.get().await.unwrap();
        assert_eq!(cache.source.0.load(std::sync::atomic::Ordering::SeqCst), 2);
    }
}
