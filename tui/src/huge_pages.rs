//! The `mksim` binary's allocator: the system allocator, asking Linux to back
//! large blocks with transparent huge pages.
//!
//! A long run's event log grows to hundreds of megabytes, written once and in
//! order. With 4 KiB pages the host takes a page fault for every 4 KiB of new
//! log, about 80,000 per million simulated messages, and on the 2-core machine
//! those faults cost about a fifth of `mksim bench`'s message throughput. With
//! 2 MiB pages they all but vanish. Most Linux systems set transparent huge
//! pages to `madvise`: only memory that asks gets them, so we ask.
//!
//! This is the one place in mksim with `unsafe` code: implementing
//! [`GlobalAlloc`] is unsafe by definition, and so is `madvise`.

#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};

/// The system allocator, with huge pages for large blocks.
pub struct HugePageAllocator;

/// Blocks at least this large ask for huge pages; smaller ones would gain nothing.
const LARGE_BLOCK: usize = 4 << 20;

/// Asks for huge pages under a block the system allocator just handed out.
fn advise_huge_pages(block: *mut u8, size: usize) {
    if size < LARGE_BLOCK || block.is_null() {
        return;
    }
    // SAFETY: sysconf has no preconditions.
    let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
    // Advise the whole pages the block spans: advising only its inner 2 MiB-aligned part would
    // split the mapping in two, and the system allocator could then no longer grow it in place
    // (realloc would copy the whole log at every doubling).
    let start = block as usize & !(page - 1);
    let end = (block as usize + size).next_multiple_of(page);
    // SAFETY: MADV_HUGEPAGE changes only how the kernel backs these pages, never what they hold,
    // and the range covers pages of a block we own. If the kernel refuses (no huge page support),
    // the block keeps ordinary pages, which is fine.
    unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE) };
}

// SAFETY: every call goes to the system allocator unchanged; the advice does not touch memory.
unsafe impl GlobalAlloc for HugePageAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract, which we pass on.
        let block = unsafe { System.alloc(layout) };
        advise_huge_pages(block, layout.size());
        block
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let block = unsafe { System.alloc_zeroed(layout) };
        advise_huge_pages(block, layout.size());
        block
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        // SAFETY: the block came from `System` through this allocator, with this layout.
        unsafe { System.dealloc(block, layout) }
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`; the caller upholds `realloc`'s contract.
        let grown = unsafe { System.realloc(block, layout, new_size) };
        advise_huge_pages(grown, new_size);
        grown
    }
}
