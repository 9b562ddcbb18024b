//! The npm package's wasm module: resocket's JavaScript API (`resocket::api`), whose
//! exported functions the package's loader calls. It must hold nothing else: the
//! package's code is the crate's.

pub use resocket::api::*;
