//! Fallible allocation for the Rust-side buffers whose size a caller or a script
//! chooses (row tables of a render, results of a pool run, argument lists).
//!
//! Rust's collections abort the whole process when the system refuses memory; these
//! helpers reserve first and report [`ErrorKind::Memory`] instead, so the host lives
//! and gets a memory error status. Small fixed-size allocations are left to Rust.

use crate::error::{Error, ErrorKind, Result};

/// The error for `what` (a noun phrase) needing `bytes` that the system refused.
pub fn out_of_memory(what: &str, bytes: usize) -> Error {
    // The message itself needs memory.
    crate::heap::release_reserve();
    Error::new(
        ErrorKind::Memory,
        format!(
            "not enough memory for {what} ({bytes} bytes): the system refused the \
             allocation (the process is out of memory or address space)"
        ),
    )
}

/// An empty vector with room for exactly `capacity` items.
pub fn vec_with_capacity<T>(capacity: usize, what: &str) -> Result<Vec<T>> {
    let mut items = Vec::new();
    items
        .try_reserve_exact(capacity)
        .map_err(|_| out_of_memory(what, capacity.saturating_mul(size_of::<T>())))?;
    Ok(items)
}

/// Collects `items` into a vector allocated once, fallibly. At most `capacity` items
/// are expected; more would grow the vector the infallible way.
pub fn collect<T>(
    items: impl IntoIterator<Item = T>,
    capacity: usize,
    what: &str,
) -> Result<Vec<T>> {
    let mut collected = vec_with_capacity(capacity, what)?;
    collected.extend(items);
    Ok(collected)
}

/// Makes room for `additional` more items in `items` (amortized growth), fallibly.
pub fn reserve<T>(items: &mut Vec<T>, additional: usize, what: &str) -> Result<()> {
    items.try_reserve(additional).map_err(|_| {
        out_of_memory(
            what,
            items
                .len()
                .saturating_add(additional)
                .saturating_mul(size_of::<T>()),
        )
    })
}
