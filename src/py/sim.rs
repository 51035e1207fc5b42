//! `RouteServer`: the simulator's loopback HTTP server answering fixed bodies by path.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use pyo3::prelude::*;

use super::detach;
use crate::sim::{serve, ServerHandle, StaticRoutes};

/// A loopback HTTP server over a `{path: body}` map. Stops on `stop()` or when collected.
#[pyclass(module = "ckv._core", frozen)]
pub struct RouteServer {
    handle: ServerHandle,
}

#[pymethods]
impl RouteServer {
    #[new]
    #[pyo3(signature = (routes, *, port = 0))]
    fn new(py: Python<'_>, routes: HashMap<String, Vec<u8>>, port: u16) -> PyResult<Self> {
        let routes = routes
            .into_iter()
            .map(|(k, v)| (k, Bytes::from(v)))
            .collect();
        let handle = detach(py, move || serve(Arc::new(StaticRoutes { routes }), port))?;
        Ok(RouteServer { handle })
    }

    /// `http://127.0.0.1:PORT`
    #[getter]
    fn url(&self) -> String {
        self.handle.url()
    }

    #[getter]
    fn port(&self) -> u16 {
        self.handle.addr.port()
    }

    fn stop(&self) {
        self.handle.stop();
    }
}
