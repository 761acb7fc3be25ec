//! The service as a library, so that `tests/` can drive the real router.

pub mod app;
pub mod config;
pub mod defaults;
pub mod metrics;
pub mod shutdown;
