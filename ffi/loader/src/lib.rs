//! `datafusion-cpg-loader`: loads the datafusion-cpg plugin (`libdatafusion_cpg_ffi.so`)
//! into a Rust DataFusion 55 host. It depends on DataFusion, datafusion-ffi and
//! abi_stable only, not on the bundle.
//!
//! ```no_run
//! # fn demo() -> datafusion::error::Result<()> {
//! use datafusion::prelude::SessionContext;
//! let ctx = SessionContext::new();
//! let plugin = datafusion_cpg_loader::Plugin::load("target/release/libdatafusion_cpg_ffi.so")?;
//! let registered = plugin.register(&ctx)?;
//! println!("{registered}");
//! # Ok(()) }
//! ```
//!
//! - [`abi`] owns the ABI shared with the plugin: the root module, the JSON manifest and
//!   the ABI major.
//! - [`loader`] owns [`Plugin`]: the version checks, one accessor per export kind and
//!   [`Plugin::register`].

pub mod abi;
pub mod loader;

pub use abi::{ABI_MAJOR, CpgPluginRef, Manifest, ManifestEntry};
pub use loader::{Plugin, Registration};
