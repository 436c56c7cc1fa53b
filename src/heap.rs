//! Heap accounting for measurements: with the `heap-stats` feature the `annals`
//! binary counts the bytes its allocator hands out, and each stage line shows
//! the bytes live at the stage's end and the most live at once so far.
//!
//! Resident memory (the other figures of a stage line) also counts what the
//! allocator keeps from freed blocks, so the two together tell what a stage
//! holds from how the allocator manages it. Counting costs two atomic updates
//! per allocation, so it is a build option for profiling, never on by default:
//! `cargo build --release --features heap-stats`.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);
static COUNTING: AtomicBool = AtomicBool::new(false);

/// An allocator that counts the bytes allocated through it, then defers to
/// `A`. Install it as the global allocator to make [`stats`] report.
pub struct Counting<A>(pub A);

fn add(bytes: isize) {
    let live = LIVE.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

// SAFETY: every call is passed on unchanged to `A`, which upholds the
// `GlobalAlloc` contract; the counters only observe sizes.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Counting<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !COUNTING.load(Ordering::Relaxed) {
            COUNTING.store(true, Ordering::Relaxed);
        }
        // SAFETY: the caller's guarantees for `layout` are passed on.
        let ptr = unsafe { self.0.alloc(layout) };
        if !ptr.is_null() {
            add(layout.size() as isize);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let ptr = unsafe { self.0.alloc_zeroed(layout) };
        if !ptr.is_null() {
            add(layout.size() as isize);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add(-(layout.size() as isize));
        // SAFETY: `ptr` was allocated by `A` with `layout` (through us).
        unsafe { self.0.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`, with the caller's guarantee on `new_size`.
        let moved = unsafe { self.0.realloc(ptr, layout, new_size) };
        // A failed reallocation leaves the old block as it was.
        if !moved.is_null() {
            add(new_size as isize - layout.size() as isize);
        }
        moved
    }
}

/// Bytes live now and at most so far, if a [`Counting`] allocator is installed.
pub fn stats() -> Option<(u64, u64)> {
    if !COUNTING.load(Ordering::Relaxed) {
        return None;
    }
    let get = |a: &AtomicIsize| a.load(Ordering::Relaxed).max(0) as u64;
    Some((get(&LIVE), get(&PEAK)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::alloc::System;

    #[test]
    fn counts_what_is_live_and_the_most_at_once() {
        let counting = Counting(System);
        let before = LIVE.load(Ordering::Relaxed);
        let layout = Layout::from_size_align(1 << 20, 8).unwrap();
        // SAFETY: a valid non-zero layout; the block is freed with the same one.
        unsafe {
            let p = counting.alloc(layout);
            assert!(!p.is_null());
            assert_eq!(LIVE.load(Ordering::Relaxed) - before, 1 << 20);
            let q = counting.realloc(p, layout, 2 << 20);
            assert_eq!(LIVE.load(Ordering::Relaxed) - before, 2 << 20);
            counting.dealloc(q, Layout::from_size_align(2 << 20, 8).unwrap());
        }
        assert_eq!(LIVE.load(Ordering::Relaxed), before);
        let (_, peak) = stats().unwrap();
        assert!(peak >= (2 << 20) as u64);
    }
}
