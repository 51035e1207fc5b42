use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::*;

fn http(status: u16) -> Error {
    Error::Http {
        url: "u".into(),
        status,
        body: String::new(),
        retry_after: None,
    }
}

fn with_retry_after(status: u16, s: f64) -> Error {
    Error::Http {
        url: "u".into(),
        status,
        body: String::new(),
        retry_after: Some(s),
    }
}

#[test]
fn transport_5xx_408_and_429_are_retried_other_4xx_never() {
    assert!(is_retryable(&http(500)) && is_retryable(&http(503)));
    assert!(is_retryable(&http(408)) && is_retryable(&http(429)));
    assert!(!is_retryable(&http(400)) && !is_retryable(&http(403)));
    assert!(!is_retryable(&http(418)));
    assert!(!is_retryable(&Error::NotFound { url: "u".into() }));
    assert!(!is_retryable(&Error::archive("f", "bad")));
    assert!(is_retryable(&Error::Network {
        url: "u".into(),
        reason: "reset".into()
    }));
}

#[test]
fn transient_means_network_or_server_not_the_data() {
    for s in [408, 418, 429, 500, 503] {
        assert!(is_transient(&http(s)), "{s}");
    }
    assert!(!is_transient(&http(403)) && !is_transient(&http(400)));
    assert!(!is_transient(&Error::archive("f", "bad")));
    assert!(!is_transient(&Error::parse("f", 1, "bad")));
    assert!(!is_transient(&Error::NotFound { url: "u".into() }));
}

#[test]
fn backoff_is_capped_jittered_and_honours_a_bounded_retry_after() {
    let cfg = HttpConfig::default();
    for n in 0..40 {
        let d = backoff(&cfg, n, &http(503)).unwrap();
        assert!(d <= cfg.backoff_max);
    }
    let waits: Vec<_> = (0..20).map(|_| backoff(&cfg, 3, &http(503))).collect();
    assert!(waits.iter().any(|w| *w != waits[0]), "no jitter");
    let asked = backoff(&cfg, 0, &with_retry_after(429, 2.0)).unwrap();
    assert!(asked >= Duration::from_secs(2));
    // More than retry_after_max (60 s): give up rather than wait or ignore it.
    assert_eq!(backoff(&cfg, 0, &with_retry_after(429, 61.0)), None);
    assert_eq!(backoff(&cfg, 0, &with_retry_after(503, 1e300)), None);
}

/// A loopback server running `serve` on every accepted connection.
async fn server<F, Fut>(serve: F) -> String
where
    F: Fn(TcpStream, usize) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/f.zip", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let n = AtomicUsize::new(0);
        while let Ok((sock, _)) = listener.accept().await {
            tokio::spawn(serve(sock, n.fetch_add(1, Ordering::Relaxed)));
        }
    });
    url
}

async fn read_request(sock: &mut TcpStream) {
    let mut buf = vec![0u8; 4096];
    let mut seen = Vec::new();
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        match sock.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

fn client(cfg: HttpConfig) -> HttpClient {
    HttpClient::new(HttpConfig {
        backoff_base: Duration::from_millis(10),
        backoff_max: Duration::from_millis(20),
        ..cfg
    })
    .unwrap()
}

#[tokio::test]
async fn a_silent_server_fails_within_the_first_byte_bound() {
    let url = server(|mut sock, _| async move {
        read_request(&mut sock).await;
        tokio::time::sleep(Duration::from_secs(60)).await;
    })
    .await;
    let c = client(HttpConfig {
        first_byte_timeout: Duration::from_millis(200),
        retries: 1,
        ..HttpConfig::default()
    });
    let tally = Tally::default();
    let t = std::time::Instant::now();
    let e = c.get_bytes(&url, 1024, &tally).await.unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    let msg = e.to_string();
    assert!(
        msg.contains("no answer within 0.2 s") && msg.contains("2 attempts"),
        "{msg}"
    );
    assert_eq!(tally.retries.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn a_trickling_body_stalls_and_a_steady_large_one_does_not() {
    let trickle = server(|mut sock, _| async move {
        read_request(&mut sock).await;
        let _ = sock
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
            .await;
        for _ in 0..100_000 {
            if sock.write_all(b"x").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let steady = server(|mut sock, _| async move {
        read_request(&mut sock).await;
        let chunk = vec![b'y'; 64 * 1024];
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
            40 * chunk.len()
        );
        let _ = sock.write_all(head.as_bytes()).await;
        for _ in 0..40 {
            let _ = sock.write_all(&chunk).await;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let c = client(HttpConfig {
        stall_timeout: Some(Duration::from_millis(300)),
        stall_bytes: 16 * 1024,
        retries: 1,
        ..HttpConfig::default()
    });
    let tally = Tally::default();
    let t = std::time::Instant::now();
    let e = c.get_bytes(&trickle, 1 << 20, &tally).await.unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    assert!(
        e.to_string().contains("stalled: no progress for 0.3 s"),
        "{e}"
    );
    assert!(is_retryable(&e) && is_transient(&e));
    assert_eq!(tally.stalls.load(Ordering::Relaxed), 2);
    // 2.5 MiB over ~0.8 s, longer than a stall window, at a healthy rate: never cut.
    let body = c.get_bytes(&steady, 4 << 20, &tally).await.unwrap();
    assert_eq!(body.len(), 40 * 64 * 1024);
    assert_eq!(tally.stalls.load(Ordering::Relaxed), 2);
    // The per-attempt deadline cuts even a healthy body.
    let c = client(HttpConfig {
        deadline: Some(Duration::from_millis(200)),
        retries: 0,
        ..HttpConfig::default()
    });
    let e = c.get_bytes(&steady, 4 << 20, &tally).await.unwrap_err();
    assert!(
        e.to_string().contains("per-request deadline of 0.2 s"),
        "{e}"
    );
}

#[tokio::test]
async fn a_429_is_retried_after_its_retry_after_and_a_long_one_is_not() {
    let url = server(|mut sock, n| async move {
        read_request(&mut sock).await;
        let reply: &[u8] = if n == 0 {
            b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 2\r\n\r\nno"
        } else {
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        };
        let _ = sock.write_all(reply).await;
    })
    .await;
    let c = client(HttpConfig::default());
    let tally = Tally::default();
    let t = std::time::Instant::now();
    let body = c.get_bytes(&url, 1024, &tally).await.unwrap();
    assert_eq!(&body[..], b"ok");
    assert!(
        t.elapsed() >= Duration::from_secs(1),
        "Retry-After not honoured"
    );
    let long = server(|mut sock, _| async move {
        read_request(&mut sock).await;
        let reply =
            b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 120\r\nContent-Length: 0\r\n\r\n";
        let _ = sock.write_all(reply).await;
    })
    .await;
    let t = std::time::Instant::now();
    let e = c.get_bytes(&long, 1024, &tally).await.unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(1));
    assert!(
        matches!(e, Error::Http { status: 429, retry_after: Some(r), .. } if r == 120.0),
        "{e:?}"
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused() {
    let url = server(|mut sock, _| async move {
        read_request(&mut sock).await;
        let _ = sock
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n")
            .await;
        let _ = sock.write_all(&[b'z'; 5000]).await;
    })
    .await;
    let c = client(HttpConfig::default());
    let e = c
        .get_bytes(&url, 1000, &Tally::default())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Protocol { .. }), "{e:?}");
}

#[tokio::test]
async fn an_answer_does_not_wait_behind_the_archive_slots() {
    let url = server(|mut sock, _| async move {
        read_request(&mut sock).await;
        let _ = sock
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]")
            .await;
    })
    .await;
    let c = client(HttpConfig {
        max_connections: 1,
        ..HttpConfig::default()
    });
    let held = c.permit().await; // every archive slot taken, as by a long download
    let tally = Tally::default();
    let answer = tokio::time::timeout(Duration::from_secs(5), c.get_answer(&url, &[], &tally))
        .await
        .expect("an answer's slot is its own")
        .unwrap();
    assert_eq!((answer.status, &answer.body[..]), (200, &b"[]"[..]));
    // The archive slots are still bounded: a second one waits while the first is held.
    let waiting = tokio::time::timeout(Duration::from_millis(100), c.permit()).await;
    assert!(waiting.is_err(), "only max_connections archive slots");
    drop(held);
}
