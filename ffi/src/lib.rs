//! `datafusion-cpg-ffi`: the datafusion-cpg bundle as a plugin that any Rust DataFusion 55
//! host loads at run time, and the loader such hosts call.
//!
//! ```no_run
//! # fn demo() -> datafusion::error::Result<()> {
//! use datafusion::prelude::SessionContext;
//! let ctx = SessionContext::new();
//! let plugin = datafusion_cpg_ffi::Plugin::load("target/release/libdatafusion_cpg_ffi.so")?;
//! let registered = plugin.register(&ctx)?;
//! println!("{registered}");
//! # Ok(()) }
//! ```
//!
//! # The export pattern (every capability follows it)
//!
//! - [`module`] owns the ABI: an `abi_stable` root module ([`module::CpgPluginRef`]) whose
//!   first field is the plugin's `datafusion_ffi::version()`, then a [`module::Manifest`]
//!   (names of everything exported, by kind), then one constructor per kind returning the
//!   datafusion-ffi struct (`FFI_ScalarUDF`, later `FFI_TableFunction`,
//!   `FFI_TableProviderFactory`, `FFI_QueryPlanner`, ...). Those structs are not
//!   `StableAbi`, so their fields are `unsafe_opaque_field`: abi_stable checks only their
//!   size, which is why the loader compares `datafusion_ffi` versions before anything else.
//!   A new kind is a new field appended after the last one (a prefix-type extension), a
//!   new entry in the manifest, a constructor in [`export`] and a registration step in
//!   [`loader`].
//! - [`export`] is the plugin side: the `#[export_root_module]` and the `extern "C"`
//!   functions behind it. Every one of them runs its body under `catch_unwind` and
//!   returns a panic as an error string; exported UDFs are wrapped by [`panic_guard`]
//!   so a panic inside a function body becomes a `DataFusionError` in the host.
//! - [`loader`] is the host side: [`Plugin::load`] checks the version symbol, then the
//!   abi_stable header and layout, keeps the library loaded for the life of the process,
//!   and [`Plugin::register`] registers every export into a `SessionContext`.
//! - The Python extension module (`ffi/python`) exports the same objects as PyCapsules
//!   for datafusion-python 55; it is a separate cdylib over the same crates.

pub mod export;
pub mod loader;
pub mod module;
pub mod panic_guard;

pub use loader::{Plugin, Registration};
pub use module::{CpgPluginRef, Manifest};
