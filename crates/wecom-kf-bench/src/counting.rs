//! The bench's global allocator: `peak_alloc`'s counters (bytes in use, the peak since a
//! reset), plus what a peak alone does not tell: the largest single allocation since the
//! reset (an `alloc` or a `realloc`'s new size) and how many allocations of at least
//! [`BIG_ALLOCATION`] bytes were made. Section 10 uses them to see which buffers make up
//! a download's peak (hyper's read buffer is one allocation of up to a few hundred KiB).
//!
//! Implementing [`GlobalAlloc`] is `unsafe` by its signature, which is why this crate
//! denies `unsafe_code` instead of forbidding it: this module is the one place allowed,
//! and every call is passed unchanged to `PeakAlloc` (itself a shim over the system
//! allocator).

#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};

use peak_alloc::PeakAlloc;

/// What counts as a big allocation: 64 KiB.
pub(crate) const BIG_ALLOCATION: usize = 64 * 1024;

/// The largest single allocation since the last reset, in bytes.
static LARGEST: AtomicUsize = AtomicUsize::new(0);
/// Allocations of at least [`BIG_ALLOCATION`] bytes since the last reset.
static BIG: AtomicUsize = AtomicUsize::new(0);

/// `PeakAlloc` with the largest allocation and the big ones counted.
pub(crate) struct Counting;

// Methods on the static, as `PeakAlloc`'s are, so every section's `ALLOC.peak_usage()` reads
// as before.
#[allow(clippy::unused_self)]
impl Counting {
    /// Bytes allocated now.
    pub(crate) fn current_usage(&self) -> usize {
        PeakAlloc.current_usage()
    }

    /// The most bytes allocated at once since the last reset.
    pub(crate) fn peak_usage(&self) -> usize {
        PeakAlloc.peak_usage()
    }

    /// Start a new measurement: the peak becomes what is allocated now, the largest
    /// allocation and the count of big ones zero.
    pub(crate) fn reset_peak_usage(&self) {
        PeakAlloc.reset_peak_usage();
        LARGEST.store(0, Ordering::Relaxed);
        BIG.store(0, Ordering::Relaxed);
    }

    /// The largest single allocation (or reallocation's new size) since the last reset.
    pub(crate) fn largest_allocation(&self) -> usize {
        LARGEST.load(Ordering::Relaxed)
    }

    /// Allocations (or reallocations) to at least [`BIG_ALLOCATION`] bytes since the
    /// last reset.
    pub(crate) fn big_allocations(&self) -> usize {
        BIG.load(Ordering::Relaxed)
    }

    fn note(size: usize) {
        LARGEST.fetch_max(size, Ordering::Relaxed);
        if size >= BIG_ALLOCATION {
            BIG.fetch_add(1, Ordering::Relaxed);
        }
    }
}

// SAFETY: every method passes its arguments unchanged to `PeakAlloc`, which upholds
// `GlobalAlloc`'s contract; the counters are atomics and never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        Self::note(layout.size());
        // SAFETY: the caller upholds `alloc`'s contract, passed on as it is.
        unsafe { PeakAlloc.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `PeakAlloc` with `layout` (every allocation is).
        unsafe { PeakAlloc.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        Self::note(layout.size());
        // SAFETY: as for `alloc`.
        unsafe { PeakAlloc.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        Self::note(new_size);
        // SAFETY: `ptr` and `layout` come from `PeakAlloc`, the caller upholds the rest.
        unsafe { PeakAlloc.realloc(ptr, layout, new_size) }
    }
}
