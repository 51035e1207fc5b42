//! The TLS configuration of the process's HTTP clients, built once (by the first client) and
//! cloned by every later one: reading and parsing the platform's root certificates takes
//! milliseconds, which each `Fetcher` (each `Client`, each `fetch_archives` without one) used
//! to pay again.
//!
//! The configuration is what reqwest builds by default with rustls: the ring provider, TLS 1.2
//! and 1.3, the platform verifier, SNI, ALPN `http/1.1`. Each clone gets a session cache of its
//! own, as a client built by reqwest has. A build that fails is not kept: the next client
//! tries again (and fails the same way, with the same message).
//!
//! `warm` builds it ahead, on a thread of its own, when the extension is imported: the imports
//! that follow (pyarrow's alone take tens of ms) hide the build, which the first client of a
//! process used to wait for (3-6 ms here). The lock is never held while building, so a fork
//! can only catch it during a pointer swap; a child whose parent was still warming up builds
//! its own (the warming flag names the process).

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rustls::client::Resumption;
use rustls::crypto::CryptoProvider;
use rustls::ClientConfig;

static SHARED: Mutex<Option<Arc<ClientConfig>>> = Mutex::new(None);
/// The process warming the configuration up, while it does (see `warm`).
static WARMING: Mutex<Option<u32>> = Mutex::new(None);
static WARMED: Condvar = Condvar::new();
/// The longest a client waits for the warm-up before building its own.
const WARM_WAIT: Duration = Duration::from_secs(2);

fn shared() -> MutexGuard<'static, Option<Arc<ClientConfig>>> {
    SHARED.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Start building the configuration on a thread of its own, unless it is built or being built;
/// a thread that cannot be started leaves the build to the first client.
pub fn warm() {
    if shared().is_some() {
        return;
    }
    let me = std::process::id();
    {
        let mut warming = WARMING.lock().unwrap_or_else(PoisonError::into_inner);
        if *warming == Some(me) {
            return;
        }
        *warming = Some(me);
    }
    let started = std::thread::Builder::new()
        .name("ckv-tls".into())
        .spawn(|| {
            if let Ok(built) = build() {
                shared().get_or_insert_with(|| Arc::new(built));
            }
            done_warming();
        });
    if started.is_err() {
        done_warming();
    }
}

fn done_warming() {
    *WARMING.lock().unwrap_or_else(PoisonError::into_inner) = None;
    WARMED.notify_all();
}

/// Wait (at most `WARM_WAIT`) while this process's warm-up runs.
fn wait_for_warm_up() {
    let me = std::process::id();
    let warming = WARMING.lock().unwrap_or_else(PoisonError::into_inner);
    let _ = WARMED
        .wait_timeout_while(warming, WARM_WAIT, |w| *w == Some(me))
        .unwrap_or_else(PoisonError::into_inner);
}

/// The process's TLS client configuration (see the module header).
pub fn client_config() -> Result<ClientConfig, String> {
    if shared().is_none() {
        wait_for_warm_up();
    }
    let existing = shared().clone(); // the lock is let go here, before any build
    let config = match existing {
        Some(config) => config,
        None => {
            let built = Arc::new(build()?);
            shared().get_or_insert(built).clone()
        }
    };
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
