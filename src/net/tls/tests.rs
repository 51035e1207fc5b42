use std::net::TcpListener;
use std::sync::mpsc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ServerConfig, ServerConnection};

use super::*;
use crate::error::Error;
use crate::net::http::{HttpClient, HttpConfig, Tally};

/// A self-signed certificate for `localhost` (no platform trusts it), and its key.
const CERT: &str = "-----BEGIN CERTIFICATE-----
MIIBlTCCATugAwIBAgIUVqwNfVhoWi4JEfz6jv+JHXjN2FkwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTIwMjE0MDQxN1oYDzIxMjYxMTA4
MTQwNDE3WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAQ3/74+lnqeJ8FSMMl5wa3xuaFG1HHubUQo19JTC9m0cndZ9e6qhduR
FgPF32Fn7915aq3G5bKe1siWDpypRxtjo2kwZzAdBgNVHQ4EFgQUJtaswViloJWT
ECZE+byEpKTHr1gwHwYDVR0jBBgwFoAUJtaswViloJWTECZE+byEpKTHr1gwDwYD
VR0TAQH/BAUwAwEB/zAUBgNVHREEDTALgglsb2NhbGhvc3QwCgYIKoZIzj0EAwID
SAAwRQIhALcyvtYy3hELyqR1fg11DhgkmoWg7CKHqSe2lm96z+8UAiBR85NSr0r2
yWVGs9lWNg1VIrL9DLZ6rKNuKEffCdFgWA==
-----END CERTIFICATE-----";
const KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQge7hEo3RyB7vui+0D
/YS4wmiSg9PJJfP1QB0BwGL3C86hRANCAAQ3/74+lnqeJ8FSMMl5wa3xuaFG1HHu
bUQo19JTC9m0cndZ9e6qhduRFgPF32Fn7915aq3G5bKe1siWDpypRxtj
-----END PRIVATE KEY-----";

#[test]
fn later_clients_share_the_first_build() {
    let a = client_config().expect("the platform's roots load");
    let first = SHARED.lock().unwrap().clone().expect("kept after a build");
    let b = client_config().expect("the shared configuration");
    let again = SHARED.lock().unwrap().clone().expect("still kept");
    assert!(Arc::ptr_eq(&first, &again), "built once");
    assert_eq!(a.alpn_protocols, vec![b"http/1.1".to_vec()]);
    assert_eq!(b.alpn_protocols, a.alpn_protocols);
    assert!(a.enable_sni && b.enable_sni);
}

/// What a client's hello asked for: the server name (SNI) and the protocol agreed (ALPN).
type Hello = (Option<String>, Option<Vec<u8>>);

/// One TLS handshake on a loopback port: what the client asked for is sent back.
fn tls_server() -> (u16, mpsc::Receiver<Hello>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let certs = vec![CertificateDer::from_pem_slice(CERT.as_bytes()).unwrap()];
        let key = PrivateKeyDer::from_pem_slice(KEY.as_bytes()).unwrap();
        let mut config =
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(certs, key)
                .unwrap();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let Ok((mut sock, _)) = listener.accept() else {
            return;
        };
        let mut conn = ServerConnection::new(Arc::new(config)).unwrap();
        while conn.is_handshaking() && conn.complete_io(&mut sock).is_ok() {}
        let sni = conn.server_name().map(str::to_string);
        let _ = tx.send((sni, conn.alpn_protocol().map(<[u8]>::to_vec)));
    });
    (port, rx)
}

#[tokio::test]
async fn https_goes_through_the_shared_config_and_checks_the_certificate() {
    let (port, seen) = tls_server();
    let client = HttpClient::new(HttpConfig {
        retries: 0,
        ..HttpConfig::default()
    })
    .unwrap();
    let url = format!("https://localhost:{port}/f.zip");
    let e = client
        .get_bytes(&url, 1024, &Tally::default())
        .await
        .unwrap_err();
    let Error::Network { reason, .. } = &e else {
        panic!("not a network error: {e:?}");
    };
    assert!(reason.contains("certificate"), "{reason}");
    let (sni, alpn) = seen.recv().unwrap();
    assert_eq!(sni.as_deref(), Some("localhost"));
    assert_eq!(alpn.as_deref(), Some(&b"http/1.1"[..]));
}

#[test]
fn the_first_client_gets_the_warmed_up_build() {
    warm();
    let a = client_config().expect("the platform's roots load");
    let kept = SHARED
        .lock()
        .unwrap()
        .clone()
        .expect("built by the warm-up or the client");
    wait_for_warm_up(); // the warm-up thread may still be between its store and its end
    warm(); // built already: starts nothing
    assert_eq!(*WARMING.lock().unwrap(), None, "no warm-up left running");
    let b = client_config().expect("the shared configuration");
    let again = SHARED.lock().unwrap().clone().expect("still kept");
    assert!(Arc::ptr_eq(&kept, &again), "one build for the process");
    assert_eq!(a.alpn_protocols, b.alpn_protocols);
}
