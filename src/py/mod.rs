//! PyO3 bindings only: convert types, release the GIL around all I/O and CPU work, catch
//! panics, map `Error` onto `ckv.exceptions`. No pipeline logic lives here.

mod arrow;
mod cache;
mod errors;
mod fetch;
mod parse;
mod rest;
mod rows;
#[cfg(feature = "sim")]
mod sim;
mod wait;

use pyo3::prelude::*;

/// mimalloc keeps freed pages for reuse, as pyarrow's and polars' allocators do, instead of
/// returning every large column to the kernel and faulting it in again on the next parse.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The compiled core of ckv.
#[pymodule]
mod _core {
    #[pymodule_export]
    use super::arrow::ArrowStream;
    #[pymodule_export]
    use super::cache::{merge_rows, read_cache, read_cache_metadata, write_cache, MergedRows};
    #[pymodule_export]
    use super::fetch::{ArchiveJob, ArchiveOutcome, Fetcher, Progress};
    #[pymodule_export]
    use super::parse::{find_gaps, parse_bytes, parse_file, read_archive, schema};
    #[pymodule_export]
    use super::rest::rest_page;
    #[pymodule_export]
    use super::rows::Rows;
    #[cfg(feature = "sim")]
    #[pymodule_export]
    use super::sim::{RouteServer, SimServer};

    #[pymodule_init]
    fn init(m: &pyo3::Bound<'_, pyo3::types::PyModule>) -> pyo3::PyResult<()> {
        use pyo3::types::PyModuleMethods;
        m.add("__version__", env!("CARGO_PKG_VERSION"))?;
        m.add("DEBUG_BUILD", cfg!(debug_assertions))?;
        crate::net::tls::warm(); // the first client finds it built (src/net/tls.rs)
        Ok(())
    }
}

/// Run `f` without the GIL, turning a panic into a `CkvError` instead of letting it unwind
/// into Python. For CPU work and quick local I/O; anything that waits on the network goes
/// through `wait::block_on` instead, which Ctrl-C can interrupt.
pub(crate) fn detach<T, F>(py: Python<'_>, f: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce() -> crate::Result<T> + Send,
{
    let out = py.detach(|| std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
    match out {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(errors::to_py(py, &e)),
        Err(panic) => Err(errors::internal(py, &panic)),
    }
}
