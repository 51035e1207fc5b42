//! `RouteServer`: a loopback HTTP server answering fixed bodies by path; `SimServer`: the whole
//! simulated exchange (`crate::sim`) on loopback, with its fault and rate-limit controls, its
//! clock, and its truth (`crate::sim::truth`) as Arrow streams for tests.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use super::arrow::ArrowStream;
use super::detach;
use crate::error::Error;
use crate::sim::config::{Limits, MissingDay, Outage};
use crate::sim::market::catalog::Market;
use crate::sim::server::faults::{FaultKind, FaultParams};
use crate::sim::truth::{self, Form};
use crate::sim::{serve, Handler, ServerHandle, SimConfig, Simulator, StaticRoutes, LISTING_PATH};

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

/// The simulated exchange on loopback: Vision archives, the S3 listing and the REST APIs of a
/// seeded market, with injectable faults. Stops on `stop()` or when collected.
#[pyclass(module = "ckv._core", frozen)]
pub struct SimServer {
    handle: ServerHandle,
    sim: Arc<Simulator>,
}

type OutageArg = (Option<String>, i64, i64);
type MissingArg = (Option<String>, Option<String>, i64);

fn market_of(m: Option<String>) -> crate::Result<Option<Market>> {
    m.map(|m| Market::parse(&m)).transpose()
}

#[pymethods]
impl SimServer {
    #[new]
    #[pyo3(signature = (*, seed = 0, now_ms = None, port = 0, activity = 1.0, many_symbols = 0,
        outages = None, missing_days = None, routes = None, compression_level = 6, cache_mb = 768,
        spot_weight = 6000, futures_weight = 2400, window_s = 60, ban_after = 3, ban_s = 120))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        seed: u64,
        now_ms: Option<i64>,
        port: u16,
        activity: f64,
        many_symbols: usize,
        outages: Option<Vec<OutageArg>>,
        missing_days: Option<Vec<MissingArg>>,
        routes: Option<HashMap<String, Vec<u8>>>,
        compression_level: u32,
        cache_mb: usize,
        spot_weight: u32,
        futures_weight: u32,
        window_s: u64,
        ban_after: u32,
        ban_s: u64,
    ) -> PyResult<Self> {
        detach(py, move || {
            if !(activity > 0.0 && activity <= 1000.0) {
                return Err(Error::Invalid(format!(
                    "activity must be in (0, 1000], not {activity}"
                )));
            }
            let mut cfg = SimConfig {
                seed,
                now_us: now_ms.map(|t| t * 1000),
                activity,
                many_symbols,
                compression_level: compression_level.min(9),
                cache_bytes: cache_mb.max(16) << 20,
                limits: Limits {
                    spot_weight,
                    futures_weight,
                    window_s,
                    ban_after,
                    ban_s,
                },
                ..SimConfig::default()
            };
            if let Some(o) = outages {
                cfg.outages = o
                    .into_iter()
                    .map(|(m, a, b)| {
                        Ok(Outage {
                            market: market_of(m)?,
                            start_us: a * 1000,
                            end_us: b * 1000,
                        })
                    })
                    .collect::<crate::Result<_>>()?;
            }
            for (m, symbol, day) in missing_days.unwrap_or_default() {
                cfg.missing_days.push(MissingDay {
                    market: market_of(m)?,
                    symbol,
                    day,
                });
            }
            let sim = Arc::new(Simulator::new(cfg));
            if let Some(r) = routes {
                sim.add_routes(r.into_iter().map(|(k, v)| (k, Bytes::from(v))).collect());
            }
            let handle = serve(sim.clone() as Arc<dyn Handler>, port)?;
            Ok(SimServer { handle, sim })
        })
    }

    /// `http://127.0.0.1:PORT` (Vision and REST base URL).
    #[getter]
    fn url(&self) -> String {
        self.handle.url()
    }

    #[getter]
    fn port(&self) -> u16 {
        self.handle.addr.port()
    }

    /// The S3 listing URL (path-style bucket).
    #[getter]
    fn listing_url(&self) -> String {
        format!("{}{}", self.handle.url(), LISTING_PATH)
    }

    /// The simulator's clock, ms since the epoch.
    #[getter]
    fn now_ms(&self) -> i64 {
        self.sim.data.ex.now_us() / 1000
    }

    /// Inject a fault for paths matching `pattern` (glob, or prefix without wildcards).
    #[pyo3(signature = (pattern, kind, *, times = None, retry_after = 1, chunk = 16384, pause = 0.05, fraction = 0.5))]
    #[allow(clippy::too_many_arguments)]
    fn add_fault(
        &self,
        py: Python<'_>,
        pattern: &str,
        kind: &str,
        times: Option<u64>,
        retry_after: u64,
        chunk: usize,
        pause: f64,
        fraction: f64,
    ) -> PyResult<()> {
        let pause = Duration::from_secs_f64(pause.clamp(0.0, 3600.0));
        let params = FaultParams {
            retry_after,
            chunk,
            pause,
            fraction,
        };
        let kind = detach(py, || FaultKind::parse(kind, params))?;
        self.sim.faults.add(pattern, kind, times);
        Ok(())
    }

    /// Remove every fault.
    fn clear_faults(&self) {
        self.sim.faults.clear();
    }

    /// `(pattern, hits)` of every fault.
    fn fault_hits(&self) -> Vec<(String, u64)> {
        self.sim.faults.hits()
    }

    /// Forget used REST weight, 429 strikes and bans.
    fn reset_weights(&self) {
        self.sim.limiter.reset();
    }

    /// Change the REST limits (and reset the meters).
    #[pyo3(signature = (*, spot_weight = 6000, futures_weight = 2400, window_s = 60, ban_after = 3, ban_s = 120))]
    fn set_limits(
        &self,
        spot_weight: u32,
        futures_weight: u32,
        window_s: u64,
        ban_after: u32,
        ban_s: u64,
    ) {
        self.sim.limiter.configure(Limits {
            spot_weight,
            futures_weight,
            window_s,
            ban_after,
            ban_s,
        });
    }

    /// The bytes at a Vision path (`/data/….zip` or `.CHECKSUM`), built without HTTP;
    /// `None` when Vision would answer 404.
    fn archive<'py>(&self, py: Python<'py>, path: String) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let sim = self.sim.clone();
        let body = detach(py, move || Ok(sim.vision(&path)))?;
        Ok(body.map(|b| PyBytes::new(py, &b)))
    }

    /// Build the archives at these Vision paths ahead of time (all cores); returns the bytes
    /// now ready to serve.
    fn prepare(&self, py: Python<'_>, paths: Vec<String>) -> PyResult<usize> {
        let sim = self.sim.clone();
        detach(py, move || Ok(sim.prepare(&paths)))
    }

    /// The simulator's clock, µs since the epoch.
    #[getter]
    fn now_us(&self) -> i64 {
        self.sim.data.ex.now_us()
    }

    /// Freeze the clock at `t_us` (µs), not before the current time.
    fn set_now_us(&self, py: Python<'_>, t_us: i64) -> PyResult<()> {
        let sim = self.sim.clone();
        detach(py, move || sim.set_now_us(t_us))
    }

    /// Serve these bodies at these paths, ahead of the synthetic market.
    fn add_routes(&self, py: Python<'_>, routes: HashMap<String, Vec<u8>>) -> PyResult<()> {
        let sim = self.sim.clone();
        detach(py, move || {
            sim.add_routes(
                routes
                    .into_iter()
                    .map(|(k, v)| (k, Bytes::from(v)))
                    .collect(),
            );
            Ok(())
        })
    }

    /// The exchange's true rows with key time in `[start_us, end_us)` (see `sim::truth`).
    #[pyo3(signature = (market, dataset, symbol, interval, start_us, end_us, form = "vision"))]
    #[allow(clippy::too_many_arguments)]
    fn truth(
        &self,
        py: Python<'_>,
        market: &str,
        dataset: &str,
        symbol: &str,
        interval: Option<&str>,
        start_us: i64,
        end_us: i64,
        form: &str,
    ) -> PyResult<ArrowStream> {
        let sim = self.sim.clone();
        let batch = detach(py, move || {
            let (market, form) = (Market::parse(market)?, Form::parse(form)?);
            truth::truth(
                &sim, market, dataset, symbol, interval, start_us, end_us, form,
            )
        })?;
        Ok(ArrowStream::new(batch.schema(), vec![batch]))
    }

    /// (first day with data, last day if delisted) of a symbol, as µs of the day's start.
    fn listing(&self, py: Python<'_>, market: &str, symbol: &str) -> PyResult<(i64, Option<i64>)> {
        let sim = self.sim.clone();
        detach(py, move || {
            truth::listing(&sim, Market::parse(market)?, symbol)
        })
    }

    /// The merged no-trading windows `(start_us, end_us)` of `market` within the range.
    fn outages(
        &self,
        py: Python<'_>,
        market: &str,
        start_us: i64,
        end_us: i64,
    ) -> PyResult<Vec<(i64, i64)>> {
        let sim = self.sim.clone();
        detach(py, move || {
            Ok(truth::outages(
                &sim,
                Market::parse(market)?,
                start_us,
                end_us,
            ))
        })
    }

    fn stop(&self) {
        self.handle.stop();
    }
}
