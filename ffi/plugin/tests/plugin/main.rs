//! Tests of the plugin cdylib as a host loads it (one test binary):
//! - `loading`: the manifest, registration, golden SQL row for row against native
//!   registration, errors, two copies of the library, bad libraries;
//! - `delta`: the Delta factories and table functions over FFI;
//! - `unbounded`: the unbounded listing table's factory and stream over FFI;
//! - `properties`: the property-based robustness harness — random Arrow inputs for every
//!   function, native and through the plugin, compared.

mod common;
mod delta;
mod loading;
mod planner;
mod properties;
mod unbounded;
