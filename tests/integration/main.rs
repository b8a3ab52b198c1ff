//! The facade's integration tests, linked as one binary (one link of DataFusion instead
//! of one per file): SQL-level behaviour of every function, golden vectors, hash
//! properties, registration, error texts and robustness over every input form.

mod codec;
mod common;
mod delta;
mod dml;
mod errors;
mod fingerprint;
mod golden_vectors;
mod hash_properties;
mod policy;
mod registration;
mod robustness;
mod span_align;
mod span_join;
mod unbounded;
