//! A small hyper server on 127.0.0.1 for the simulator and tests: keep-alive HTTP/1.1, one task
//! per connection on the shared runtime, answers from a `Handler`, stops on `ServerHandle::stop`.
//!
//! Bodies are shared `Bytes` sent as one frame (memory speed), or — for injected faults —
//! trickled in chunks with pauses, or cut off mid-body by closing the connection after part of
//! a body whose full `Content-Length` was announced. A handler that builds slowly runs on a
//! blocking thread; a panicking handler answers 500.
//!
//! On it: `app` (the `Simulator` as one handler), `body` (the response bodies), `faults` (the
//! injectable faults) and `limits` (REST request weight and bans).

pub mod app;
pub mod body;
pub mod faults;
pub mod limits;

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{HeaderMap, Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::error::{Error, Result};
use crate::net::runtime;

pub use body::Delivery;
use body::SimBody;

/// A request as handlers see it.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// Raw query string (may be empty).
    pub query: String,
    pub headers: HeaderMap,
}

impl Req {
    /// A GET of `path_and_query` with no headers (for tests).
    pub fn get(path_and_query: &str) -> Self {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        Req {
            method: "GET".into(),
            path: path.into(),
            query: query.into(),
            headers: HeaderMap::new(),
        }
    }

    /// A header's value, if present and ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// An answer: status, headers, body and how the body is delivered.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    pub delivery: Delivery,
}

impl Reply {
    /// `status` with a body of `content_type`.
    pub fn new(status: u16, content_type: &str, body: impl Into<Bytes>) -> Self {
        Reply {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
            delivery: Delivery::Whole,
        }
    }

    /// 200 with `body`.
    pub fn ok(body: Bytes) -> Self {
        Reply {
            status: 200,
            headers: Vec::new(),
            body,
            delivery: Delivery::Whole,
        }
    }

    /// 404 with an S3-style XML error body, as data.binance.vision answers.
    pub fn not_found(path: &str) -> Self {
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>\
             <Message>The specified key does not exist.</Message><Key>{}</Key></Error>",
            path.trim_start_matches('/')
        );
        Reply::new(404, "application/xml", body)
    }

    /// Add a header.
    #[allow(clippy::needless_pass_by_value, reason = "takes what `format!` takes")]
    pub fn with_header(mut self, name: &str, value: impl ToString) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

/// Answers requests.
pub trait Handler: Send + Sync + 'static {
    /// The answer to `req`.
    fn handle(&self, req: &Req) -> Reply;

    /// Whether `handle` may take long (generation): it then runs on a blocking thread.
    fn blocking(&self) -> bool {
        false
    }
}

/// Fixed bodies by path.
#[derive(Default)]
pub struct StaticRoutes {
    pub routes: HashMap<String, Bytes>,
}

impl Handler for StaticRoutes {
    fn handle(&self, req: &Req) -> Reply {
        match self.routes.get(&req.path) {
            Some(body) => Reply::ok(body.clone()),
            None => Reply::not_found(&req.path),
        }
    }
}

/// A running server. Dropping it stops the server too.
pub struct ServerHandle {
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
}

impl ServerHandle {
    /// Base URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stop accepting and close idle connections.
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Bind `127.0.0.1:port` (0 = any free port) and serve `handler` on the shared runtime.
pub fn serve(handler: Arc<dyn Handler>, port: u16) -> Result<ServerHandle> {
    let rt = runtime::get();
    let listener = rt
        .block_on(TcpListener::bind(("127.0.0.1", port)))
        .map_err(|e| Error::Invalid(format!("cannot listen on 127.0.0.1:{port}: {e}")))?;
    let addr = listener.local_addr()?;
    let (stop, mut stopped) = watch::channel(false);
    rt.spawn(async move {
        loop {
            tokio::select! {
                _ = stopped.changed() => break,
                accepted = listener.accept() => {
                    let Ok((tcp, _)) = accepted else { continue };
                    let _ = tcp.set_nodelay(true);
                    let handler = handler.clone();
                    let mut conn_stop = stopped.clone();
                    tokio::spawn(async move {
                        let svc = service_fn(move |req: Request<Incoming>| {
                            let handler = handler.clone();
                            async move { Ok::<_, Infallible>(answer(handler, &req).await) }
                        });
                        let conn = http1::Builder::new()
                            .writev(true)
                            .serve_connection(TokioIo::new(tcp), svc);
                        tokio::pin!(conn);
                        tokio::select! {
                            _ = conn.as_mut() => {}
                            _ = conn_stop.changed() => conn.as_mut().graceful_shutdown(),
                        }
                    });
                }
            }
        }
    });
    Ok(ServerHandle { addr, stop })
}

async fn answer(handler: Arc<dyn Handler>, req: &Request<Incoming>) -> Response<SimBody> {
    let uri = req.uri();
    let info = Req {
        method: req.method().as_str().to_string(),
        path: uri.path().to_string(),
        query: uri.query().unwrap_or("").to_string(),
        headers: req.headers().clone(),
    };
    let blocking = handler.blocking();
    let run = move || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler.handle(&info)))
            .unwrap_or_else(|_| Reply::new(500, "text/plain", "simulator handler panicked"))
    };
    let reply = if blocking {
        tokio::task::spawn_blocking(run)
            .await
            .unwrap_or_else(|_| Reply::new(500, "text/plain", "simulator task failed"))
    } else {
        run()
    };
    let head = req.method() == hyper::Method::HEAD;
    let mut resp = Response::builder().status(reply.status);
    for (k, v) in &reply.headers {
        resp = resp.header(k.as_str(), v.as_str());
    }
    let len = reply.body.len();
    let body = if head {
        SimBody::empty()
    } else {
        SimBody::new(reply.body, reply.delivery)
    };
    if head {
        resp = resp.header("content-length", len);
    }
    resp.body(body).unwrap_or_else(|_| {
        let mut r = Response::new(SimBody::new(
            Bytes::from_static(b"bad reply"),
            Delivery::Whole,
        ));
        *r.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}
