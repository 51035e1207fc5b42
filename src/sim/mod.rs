//! The exchange simulator's server side: a loopback HTTP/1.1 server (hyper) answering from a
//! `Handler`. Bodies are shared `Bytes`, so large archives go out at memory speed.

pub mod server;

pub use server::{serve, Reply, ServerHandle, StaticRoutes};
