//! A small hyper server on 127.0.0.1 for the simulator and tests: keep-alive HTTP/1.1, one task
//! per connection on the shared runtime, answers from a `Handler`, stops on `ServerHandle::stop`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::error::{Error, Result};
use crate::runtime;

/// An answer: status, headers and a body.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Reply {
    /// 200 with `body`.
    pub fn ok(body: Bytes) -> Self {
        Reply {
            status: 200,
            headers: Vec::new(),
            body,
        }
    }

    /// 404 with an S3-style XML error body, as data.binance.vision answers.
    pub fn not_found(path: &str) -> Self {
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>\
             <Message>The specified key does not exist.</Message><Key>{}</Key></Error>",
            path.trim_start_matches('/')
        );
        Reply {
            status: 404,
            headers: vec![("content-type".into(), "application/xml".into())],
            body: Bytes::from(body),
        }
    }
}

/// Answers requests. `path` has no query string; `query` is the raw query (may be empty).
pub trait Handler: Send + Sync + 'static {
    fn handle(&self, path: &str, query: &str) -> Reply;
}

/// Fixed bodies by path.
#[derive(Default)]
pub struct StaticRoutes {
    pub routes: HashMap<String, Bytes>,
}

impl Handler for StaticRoutes {
    fn handle(&self, path: &str, _query: &str) -> Reply {
        match self.routes.get(path) {
            Some(body) => Reply::ok(body.clone()),
            None => Reply::not_found(path),
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
                            async move { Ok::<_, Infallible>(answer(&*handler, &req)) }
                        });
                        let conn = http1::Builder::new().serve_connection(TokioIo::new(tcp), svc);
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

fn answer(handler: &dyn Handler, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    let uri = req.uri();
    let reply = handler.handle(uri.path(), uri.query().unwrap_or(""));
    let mut resp = Response::builder().status(reply.status);
    for (k, v) in &reply.headers {
        resp = resp.header(k.as_str(), v.as_str());
    }
    resp.body(Full::new(reply.body)).unwrap_or_else(|_| {
        let mut r = Response::new(Full::new(Bytes::from_static(b"bad reply")));
        *r.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}
