//! `uniffi-bindgen`: generates the Kotlin, Swift and Python bindings of `fieldsync-ffi` from the
//! built library, with exactly the uniffi version the library was built with.
//!
//! ```text
//! cargo run -p uniffi-bindgen -- generate -l python -l kotlin -l swift -o target/bindings \
//!     target/debug/libfieldsync_ffi.so
//! ```
//!
//! `scripts/bindings` runs it for you.

fn main() {
    uniffi::uniffi_bindgen_main()
}
