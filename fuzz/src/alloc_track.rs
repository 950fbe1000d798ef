//! A global allocator that records, per thread, the largest single allocation since the last
//! reset: the check that no decoder sizes a buffer from an untrusted length.
//!
//! It wraps [`System`] and adds one thread-local compare per allocation. The counter is a
//! `const`-initialised `Cell` without a destructor, so reading it never allocates and works
//! while a thread is being torn down.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    let _ = PEAK.try_with(|p| {
        if size > p.get() {
            p.set(size);
        }
    });
}

/// Forgets the largest allocation seen so far on this thread.
pub fn reset_peak() {
    let _ = PEAK.try_with(|p| p.set(0));
}

/// The largest single allocation (bytes) on this thread since [`reset_peak`].
pub fn peak() -> usize {
    PEAK.try_with(Cell::get).unwrap_or(0)
}

/// [`System`] plus the per-thread peak.
pub struct Tracking;

// SAFETY: every method forwards to `System` with the caller's own arguments, so it upholds
// `GlobalAlloc`'s contract exactly as `System` does; `note` only touches a thread-local `Cell`.
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: forwarded unchanged; the caller guarantees a non-zero-size layout.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, i.e. from `System`, with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: `ptr` came from `System` with `layout`; the caller checks `new_size`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Tracking = Tracking;
