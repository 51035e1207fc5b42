//! The TLS configuration of the process's HTTP clients, built once (by the first client) and
//! cloned by every later one: reading and parsing the platform's root certificates takes
//! milliseconds, which each `Fetcher` (each `Client`, each `fetch_archives` without one) used
//! to pay again.
//!
//! The configuration is what reqwest builds by default with rustls: the ring provider, TLS 1.2
//! and 1.3, the platform verifier, SNI, ALPN `http/1.1`. Each clone gets a session cache of its
//! own, as a client built by reqwest has. A build that fails is not kept: the next client
//! tries again (and fails the same way, with the same message).

use std::sync::{Arc, Mutex, PoisonError};

use rustls::client::Resumption;
use rustls::crypto::CryptoProvider;
use rustls::ClientConfig;

static SHARED: Mutex<Option<Arc<ClientConfig>>> = Mutex::new(None);

/// The process's TLS client configuration (see the module header).
pub fn client_config() -> Result<ClientConfig, String> {
    let mut shared = SHARED.lock().unwrap_or_else(PoisonError::into_inner);
    let config = match shared.as_ref() {
        Some(config) => config.clone(),
        None => {
            let built = Arc::new(build()?);
            *shared = Some(built.clone());
            built
        }
    };
    drop(shared);
    let mut own = (*config).clone();
    own.resumption = Resumption::default();
    Ok(own)
}

fn build() -> Result<ClientConfig, String> {
    // Ring as the rustls crypto provider; a second install attempt is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let provider = CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    let verifier =
        rustls_platform_verifier::Verifier::new(provider.clone()).map_err(|e| e.to_string())?;
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests;
