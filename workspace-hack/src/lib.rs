//! Intentionally empty: this crate exists for its `Cargo.toml`, which pins one feature set
//! of DataFusion and the dependencies it shares with our dev-dependencies (see there).
