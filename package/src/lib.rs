//! The npm package's wasm module: resocket's JavaScript API (`resocket::api`), exported
//! by wasm-bindgen from the crate it links. It must hold nothing else: the package's code
//! is the crate's.

pub use resocket::api::Connection;
