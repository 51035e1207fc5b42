//! The response body of the simulator's server: a whole `Bytes` in one frame, a slow trickle,
//! or a body that stops after some bytes and then fails, which makes hyper close the
//! connection although the full `Content-Length` was announced (a dropped connection).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::time::Sleep;

/// How a body goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// All at once.
    Whole,
    /// `chunk` bytes, then a `pause`, and again.
    Slow { chunk: usize, pause: Duration },
    /// The first `after` bytes, then the connection is closed.
    Drop { after: usize },
}

/// A body with a `Delivery`.
pub struct SimBody {
    data: Bytes,
    pos: usize,
    delivery: Delivery,
    sleep: Option<Pin<Box<Sleep>>>,
    failed: bool,
}

impl SimBody {
    /// `data` delivered as `delivery` says.
    pub fn new(data: Bytes, delivery: Delivery) -> Self {
        SimBody {
            data,
            pos: 0,
            delivery,
            sleep: None,
            failed: false,
        }
    }

    /// No body (HEAD).
    pub fn empty() -> Self {
        SimBody::new(Bytes::new(), Delivery::Whole)
    }

    fn wait(&mut self, cx: &mut Context<'_>) -> bool {
        if let Some(s) = self.sleep.as_mut() {
            if s.as_mut().poll(cx).is_pending() {
                return true;
            }
            self.sleep = None;
        }
        false
    }
}

impl Body for SimBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = &mut *self;
        if this.wait(cx) {
            return Poll::Pending;
        }
        let len = this.data.len();
        match this.delivery {
            Delivery::Whole => {
                if this.pos >= len {
                    return Poll::Ready(None);
                }
                this.pos = len;
                Poll::Ready(Some(Ok(Frame::data(this.data.clone()))))
            }
            Delivery::Slow { chunk, pause } => {
                if this.pos >= len {
                    return Poll::Ready(None);
                }
                let end = (this.pos + chunk.max(1)).min(len);
                let part = this.data.slice(this.pos..end);
                this.pos = end;
                this.sleep = Some(Box::pin(tokio::time::sleep(pause)));
                Poll::Ready(Some(Ok(Frame::data(part))))
            }
            Delivery::Drop { after } => {
                let after = after.min(len.saturating_sub(1));
                if this.pos < after {
                    let part = this.data.slice(this.pos..after);
                    this.pos = after;
                    // Let the part reach the socket before the connection goes.
                    this.sleep = Some(Box::pin(tokio::time::sleep(Duration::from_millis(30))));
                    return Poll::Ready(Some(Ok(Frame::data(part))));
                }
                if this.failed {
                    return Poll::Ready(None);
                }
                this.failed = true;
                Poll::Ready(Some(Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "simulated connection drop",
                ))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.pos >= self.data.len() && self.delivery == Delivery::Whole
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.data.len() as u64)
    }
}
