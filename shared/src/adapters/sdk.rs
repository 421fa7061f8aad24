//! The AWS SDK configuration every function starts with: one HTTP client for all its
//! SDK clients, Mozilla's root certificates compiled in, and time limits on every
//! call.
//!
//! Why not `aws_config::defaults(..).load()` as it comes: its default HTTP client
//! reads the platform's trust store before the first invocation (rustls-native-certs
//! reads the CA bundle *and* stats and reads every file of the certificate directory,
//! 294 on a Debian host: 3 to 5 ms of a 6 to 9 ms cold start), and every SDK client
//! built on it constructs a TLS connector, root store included, only to drop it
//! (smithy's `validate_base_client_config` does so to pre-load those native roots).
//! Here the roots come from `webpki-root-certs` (Mozilla's program, as curated for
//! rustls), certificate verification is unchanged (rustls' WebPKI verifier, no
//! extra anchors), and the one connector is built when the first request needs it
//! and then shared by every client with the same timeouts.
//!
//! The timeouts exist so that a hung call fails the invocation (a retryable error,
//! retried by Lambda) instead of holding it until the Lambda timeout, which reports
//! nothing useful: see [`timeouts`].

use std::time::Duration;

use aws_config::environment::{
    EnvironmentVariableCredentialsProvider, EnvironmentVariableRegionProvider,
};
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::shared::IntoShared;

/// A boxed error from building the client.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Time to open a TCP connection (and finish the TLS handshake) to an AWS endpoint.
/// In-region endpoints answer in milliseconds; 3 s is the SDK's own default too.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// One attempt of one call, from sending the request to the end of the response.
/// DynamoDB, SNS, ECS and Secrets Manager answer in tens of milliseconds; an attempt
/// still waiting after 5 s is hung, and the SDK's retry (standard mode, 3 attempts)
/// is more likely to get through than waiting longer.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

/// One call, all its attempts and back-offs together. Two hung attempts fit, or three
/// quick failures. The bound is the smallest Lambda timeout of `infra/variables.tf`,
/// the slack-notifier's 15 s: its one SDK call (the webhook secret) must leave time
/// to post to Slack. The handler (30 s) and the sweeper (50 s) make several calls
/// per invocation; one hung call then fails the invocation after 10 s, well within
/// their limits, and Lambda retries it.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(10);

/// The time limits of every deployed SDK client.
pub fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

/// Mozilla's root certificates as one PEM bundle, the only form smithy's
/// [`TrustStore`] takes. Encoded from the compiled-in DER (base64, SIMD): tens of
/// microseconds, against milliseconds for reading a certificate directory.
pub fn mozilla_roots_pem() -> Vec<u8> {
    let certs = webpki_root_certs::TLS_SERVER_ROOT_CERTS;
    let mut pem = Vec::with_capacity(certs.iter().map(|c| c.len() * 4 / 3 + 64).sum());
    for cert in certs {
        pem.extend_from_slice(b"-----BEGIN CERTIFICATE-----\n");
        pem.extend_from_slice(aws_smithy_types::base64::encode(cert.as_ref()).as_bytes());
        pem.extend_from_slice(b"\n-----END CERTIFICATE-----\n");
    }
    pem
}

/// The same roots as a rustls store, for an HTTPS client outside the SDK (the
/// slack-notifier's webhook client), so every function trusts exactly one list.
pub fn mozilla_root_store() -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
    roots
}

/// The HTTP client all the SDK clients of a function share: hyper 1 and rustls with
/// aws-lc-rs like the SDK's default, Mozilla's roots instead of the platform's.
/// Plain `http://` endpoints (`AWS_ENDPOINT_URL` pointing at a local emulator) work
/// as with the default client.
pub fn http_client() -> Result<SharedHttpClient, BoxError> {
    let trust_store = TrustStore::empty()
        .with_native_roots(false)
        .with_pem_certificate(mozilla_roots_pem());
    let tls_context = TlsContext::builder()
        .with_trust_store(trust_store)
        .build()?;
    let client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(tls_context)
        .build_https();
    Ok(NoThrowawayConnector(client).into_shared())
}

/// The SDK configuration from the environment (region, credentials,
/// `AWS_ENDPOINT_URL`), with [`http_client`] and [`timeouts`].
///
/// Lambda puts the function's region and its role's credentials in the environment,
/// where the default chains look first and stop. Naming those sources outright
/// when they are there skips building the fallbacks the chains would otherwise
/// construct and never use: an STS client for web identity tokens (its endpoint
/// rules parsed and compiled), IMDS clients for region and credentials, the
/// container-credentials provider (in a perf profile of the handler's start, the
/// load fell from 12 % to 4 % of its CPU samples, about 0.1 ms). Where the
/// environment lacks them, the default chains decide as before.
pub async fn load_sdk_config() -> Result<SdkConfig, BoxError> {
    let is_set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client()?)
        .timeout_config(timeouts());
    if is_set("AWS_REGION") || is_set("AWS_DEFAULT_REGION") {
        loader = loader.region(EnvironmentVariableRegionProvider::new());
    }
    if is_set("AWS_ACCESS_KEY_ID") && is_set("AWS_SECRET_ACCESS_KEY") {
        loader = loader.credentials_provider(EnvironmentVariableCredentialsProvider::new());
    }
    Ok(loader.load().await)
}

/// Smithy's client with its `validate_base_client_config` left out: that hook builds
/// a complete TLS connector (root store parsed, rustls configuration made) and drops
/// it, once per SDK client, only so that native roots are read at start. With
/// compiled-in roots there is nothing to pre-load: the connector the first request
/// builds (it always did: the dropped one is never cached) is the only one.
#[derive(Debug)]
struct NoThrowawayConnector(SharedHttpClient);

impl HttpClient for NoThrowawayConnector {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn connector_metadata(
        &self,
    ) -> Option<aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_pem_bundle_decodes_to_the_compiled_in_roots() {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let pem = mozilla_roots_pem();
        let decoded: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(decoded.as_slice(), webpki_root_certs::TLS_SERVER_ROOT_CERTS);
        assert!(decoded.len() > 100);
    }

    #[test]
    fn every_root_parses_as_a_trust_anchor() {
        assert_eq!(
            mozilla_root_store().len(),
            webpki_root_certs::TLS_SERVER_ROOT_CERTS.len()
        );
    }

    #[test]
    fn every_call_has_all_three_limits() {
        let t = timeouts();
        assert_eq!(t.connect_timeout(), Some(CONNECT_TIMEOUT));
        assert_eq!(t.operation_attempt_timeout(), Some(ATTEMPT_TIMEOUT));
        assert_eq!(t.operation_timeout(), Some(OPERATION_TIMEOUT));
        assert!(OPERATION_TIMEOUT < Duration::from_secs(15));
    }
}
