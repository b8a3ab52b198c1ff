//! List helpers: `list_enumerate`, the explode-with-positions building block.

pub mod list_enumerate;
