//! mimalloc's options for a long replay, set once at start.
//!
//! Why: a month of events (a million) keeps about 3,000 services' states live while
//! it streams, and lets go of as much again (decoded events, effects, summaries
//! written out). With its defaults mimalloc keeps freed pages for later (purged
//! after a delay, arenas committed eagerly), so the process's peak RSS stood 1.2 to
//! 1.3 times above its live heap: over the 64 MiB a month must fit in (issue #16).
//! Purging at once and committing arenas on demand returns those pages to the
//! system as they free up. Measured (BENCHMARKS.md, "Fifth pass"): the busy month's
//! peak falls from 71 to 57 MiB (json), the day's from 39 to 28 MiB, for about a
//! tenth more CPU (4 to 21 % in paired runs: pages given back are faulted in again
//! when reused). Memory is the limit a month of
//! events meets first, on a laptop or a small CI runner; time is not.
//!
//! The options are numbered by their place in the C enum (`mi_option_e`) of the
//! mimalloc that `libmimalloc-sys` vendors, which is why that crate is pinned; the
//! test below fails if an upgrade moves them.

use libmimalloc_sys::mi_option_t;

/// `mi_option_arena_eager_commit`: commit an arena's memory when it is reserved
/// (2, the default: on systems that overcommit) or as it is used (0).
const ARENA_EAGER_COMMIT: mi_option_t = 4;
/// `mi_option_purge_delay`: milliseconds before freed memory is returned to the
/// system (1,000 by default in mimalloc 3; 0 at once).
const PURGE_DELAY: mi_option_t = 15;

/// Sets the options. Only the purge delay takes effect once the process has
/// allocated (the first arena is reserved at the first allocation, committed as it
/// was then): binaries run it as they are loaded, with [`tune_at_load!`].
pub fn tune() {
    // SAFETY: `mi_option_set` writes one entry of mimalloc's option table; it is not
    // thread safe, and this runs before any thread of ours exists (as the binary is
    // loaded, or first thing in `main`).
    unsafe {
        libmimalloc_sys::mi_option_set(ARENA_EAGER_COMMIT, 0);
        libmimalloc_sys::mi_option_set(PURGE_DELAY, 0);
    }
}

/// In a binary's root: runs [`tune`] as the binary is loaded, before Rust's runtime
/// allocates anything, so that the first arena is reserved committing on demand.
/// ELF's `.init_array` is how the C runtime calls its constructors on Linux (Rust's
/// standard library registers one there too); elsewhere it runs first thing in
/// `main`, where the purge delay still takes effect. A macro, not a static here: the
/// linker keeps a library's unreferenced section only by chance, a binary's always.
#[macro_export]
macro_rules! tune_at_load {
    () => {
        #[cfg(target_os = "linux")]
        #[used]
        #[unsafe(link_section = ".init_array")]
        static TUNE_AT_LOAD: extern "C" fn() = {
            extern "C" fn tune_at_load() {
                $crate::alloc::tune();
            }
            tune_at_load
        };
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The numbers name the options meant: their defaults are those the vendored
    /// mimalloc sets (`options.c`), and their neighbours' too, which no other pair of
    /// places in the enum shares. On Linux, where the arena default is 2 (it differs
    /// elsewhere). A `MIMALLOC_*` variable in the environment would change them: the
    /// tests run without one.
    #[test]
    #[cfg(target_os = "linux")]
    fn the_option_numbers_are_this_mimallocs() {
        // SAFETY: reading an option initialises it from the environment; no thread
        // of this test sets options.
        let get = |o: mi_option_t| unsafe { libmimalloc_sys::mi_option_get(o) };
        // (deprecated) eager_commit 1, arena_eager_commit 2 (on Linux), purge_decommits 1
        assert_eq!(
            (
                get(ARENA_EAGER_COMMIT - 1),
                get(ARENA_EAGER_COMMIT),
                get(ARENA_EAGER_COMMIT + 1)
            ),
            (1, 2, 1)
        );
        // (deprecated) eager_commit_delay 1, purge_delay 1000, use_numa_nodes 0
        assert_eq!(
            (get(PURGE_DELAY - 1), get(PURGE_DELAY), get(PURGE_DELAY + 1)),
            (1, 1000, 0)
        );
    }
}
