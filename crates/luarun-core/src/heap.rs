//! The allocator of every Lua state: mlua's accounting and memory limit, without its abort.
//!
//! mlua's allocator calls `handle_alloc_error` when the system refuses memory, which
//! aborts the whole process ("memory allocation of N bytes failed"), although Lua itself
//! copes with a NULL from its allocator: it collects garbage, retries, and raises "not
//! enough memory", which the caller gets as a memory error. So each state switches
//! to [`allocate`] right after mlua built it ([`install`]) and back before mlua closes
//! it ([`Heap::restore`]), and [`State`](crate::state::State) reads its memory use and
//! sets its limit here instead of through mlua.
//!
//! More things keep allocation failures inside Lua's error handling:
//! - mlua skips protecting its own Lua API calls (creating strings, tables, userdata
//!   from Rust) in states without a memory limit, assuming they cannot fail; [`install`]
//!   gives mlua a limit it never reaches so it protects them everywhere.
//! - mlua's allocator still builds the state itself, before [`install`] can run:
//!   [`reserve_headroom`] checks beforehand that that much memory is there.
//! - Reporting a memory error takes a little memory (mlua copies the message, luarun
//!   formats it), at the very moment there is none. The process keeps a reserve block
//!   that is released when the system first refuses an allocation; from then until
//!   the reserve is refilled (after the call, once garbage is collected) the refusing
//!   state may not grow past the size it had ([`Heap::refill`]), so the freed reserve
//!   is left for the error's reporting.

use std::alloc::Layout;
use std::ffi::c_void;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use std::sync::Arc;

use mlua::{ffi, Lua, LuaOptions};

use crate::error::{convert_error, Error, ErrorKind, Result};
use crate::options::{Libraries, Options};

/// What a state's heap holds and may hold. Shared between the state and its allocator
/// (whose user data points here): it must outlive the Lua state.
#[derive(Debug)]
pub struct Heap {
    /// Bytes the Lua heap holds now.
    used: AtomicUsize,
    /// Most bytes it may hold; 0 = no limit.
    limit: AtomicUsize,
    /// The last refused allocation: its size, and whether the limit refused it (rather
    /// than the system).
    refused_bytes: AtomicUsize,
    refused_by_limit: AtomicBool,
    /// After the system refused an allocation: the size the heap may not grow past
    /// until the reserve is refilled; 0 = none.
    ceiling: AtomicUsize,
    /// mlua's allocator and its user data, put back before the state closes.
    original: (ffi::lua_Alloc, usize),
}

/// Bytes that must be free before mlua builds a state with its aborting allocator: a
/// new state with luarun's setup takes about 100 KiB of Lua heap and Rust bookkeeping.
pub(crate) const CREATION_HEADROOM: usize = 4 << 20;

/// Size of the process's reserve for reporting memory errors. Never touched, so it
/// costs address space, not memory.
const RESERVE_BYTES: usize = 1 << 20;

/// The reserve block, or null while it is released.
static RESERVE: AtomicPtr<u8> = AtomicPtr::new(ptr::null_mut());

fn reserve_layout() -> Layout {
    Layout::from_size_align(RESERVE_BYTES, 16).expect("a valid layout")
}

/// Gives the reserve back to the system allocator, for the memory error being
/// reported. Called wherever the system refused an allocation.
pub fn release_reserve() {
    let block = RESERVE.swap(ptr::null_mut(), Ordering::AcqRel);
    if !block.is_null() {
        // SAFETY: the block came from `refill_reserve` with this layout.
        unsafe { std::alloc::dealloc(block, reserve_layout()) };
    }
}

/// Takes the reserve again if it was released; whether the reserve is in place.
pub fn refill_reserve() -> bool {
    if !RESERVE.load(Ordering::Acquire).is_null() {
        return true;
    }
    // SAFETY: a non-zero layout; the block is only ever released by `release_reserve`.
    let block = std::hint::black_box(unsafe { std::alloc::alloc(reserve_layout()) });
    if block.is_null() {
        return false;
    }
    if RESERVE
        .compare_exchange(ptr::null_mut(), block, Ordering::AcqRel, Ordering::Acquire)
        .is_err()
    {
        // SAFETY: another thread refilled first; this block is ours alone.
        unsafe { std::alloc::dealloc(block, reserve_layout()) };
    }
    true
}

/// Whether `bytes` can be allocated right now (allocated and at once released). Under
/// an address-space limit this is exactly the question; elsewhere allocation rarely
/// fails at all.
pub fn reserve_headroom(bytes: usize) -> bool {
    let Ok(layout) = Layout::from_size_align(bytes, 16) else {
        return false;
    };
    // SAFETY: the layout has a non-zero size; the block is released unused.
    unsafe {
        // black_box: the compiler may otherwise drop an allocation nobody uses, and
        // with it the whole question.
        let block = std::hint::black_box(std::alloc::alloc(layout));
        if block.is_null() {
            release_reserve();
            return false;
        }
        std::alloc::dealloc(block, layout);
    }
    true
}

impl Heap {
    /// Bytes the Lua heap holds now. Any thread, any time.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// The memory limit; `None` = unlimited.
    pub fn limit(&self) -> Option<usize> {
        match self.limit.load(Ordering::Relaxed) {
            0 => None,
            limit => Some(limit),
        }
    }

    /// Sets (or with `None` lifts) the memory limit.
    pub fn set_limit(&self, limit: Option<usize>) {
        self.limit.store(limit.unwrap_or(0), Ordering::Relaxed);
    }

    /// Records an allocation of `bytes` that was refused, by the limit or (`by_limit`
    /// false) by the system, for [`Heap::describe_refusal`]. A system refusal releases
    /// the reserve so that the error can be reported.
    pub fn note_refusal(&self, bytes: usize, by_limit: bool) {
        self.refused_bytes.store(bytes, Ordering::Relaxed);
        self.refused_by_limit.store(by_limit, Ordering::Relaxed);
        if !by_limit {
            release_reserve();
        }
    }

    /// After a system refusal: refills the reserve and, if that worked, lets the heap
    /// grow again. Call between calls (after garbage was collected); cheap otherwise.
    pub fn refill(&self) {
        if self.ceiling.load(Ordering::Relaxed) != 0 && refill_reserve() {
            self.ceiling.store(0, Ordering::Relaxed);
        }
    }

    /// Runs `collect` (a garbage collection after a memory error) with the limit and
    /// the ceiling lifted: starting a collection takes a little memory too (LuaJIT
    /// allocates the closure mlua calls it through). Afterwards the limit is back, and
    /// the ceiling too unless the reserve could be refilled; a ceiling comes back at
    /// the collected size, which leaves the freed memory to the process.
    pub fn collect_unbounded(&self, collect: impl FnOnce()) {
        let limit = self.limit.swap(0, Ordering::Relaxed);
        let ceiling = self.ceiling.swap(0, Ordering::Relaxed);
        collect();
        self.limit.store(limit, Ordering::Relaxed);
        if ceiling != 0 && !refill_reserve() {
            self.ceiling.store(self.used().max(1), Ordering::Relaxed);
        }
    }

    /// Whether the last refusal was the memory limit's (not the system's).
    pub fn refused_by_limit(&self) -> bool {
        self.refused_by_limit.load(Ordering::Relaxed)
    }

    /// Why the last allocation failed, for the message of a memory error.
    pub fn describe_refusal(&self) -> String {
        let bytes = self.refused_bytes.load(Ordering::Relaxed);
        if self.refused_by_limit.load(Ordering::Relaxed) {
            format!(
                "the state's memory limit of {} bytes was reached",
                self.limit().unwrap_or(0)
            )
        } else {
            format!(
                "the system refused an allocation of {bytes} bytes: the process is out of \
                 memory or address space"
            )
        }
    }

    /// Puts mlua's allocator back, so that mlua closes the state with its own (and
    /// frees what it attached to it). Call once, just before the state closes; the
    /// blocks are compatible: both allocators use Rust's global allocator with the same
    /// alignment.
    pub fn restore(&self, lua: &mlua::Lua) {
        let (allocator, user_data) = self.original;
        // SAFETY: runs with mlua's lock held on a valid state; lua_setallocf only swaps
        // two pointers, and mlua's allocator is given back its own user data.
        unsafe {
            lua.exec_raw::<()>((), |state| {
                ffi::lua_setallocf(state, allocator, user_data as *mut c_void);
            })
        }
        .unwrap_or_default();
    }
}

/// Switches `lua` (just built by mlua) to [`allocate`] with `limit`. The returned heap
/// must outlive the state; [`Heap::restore`] must run before it closes.
pub fn install(lua: &mlua::Lua, limit: Option<usize>) -> mlua::Result<Arc<Heap>> {
    // mlua protects its Lua API calls only in states that have a limit (see above);
    // this one is never reached, as mlua's allocator is not called any more.
    lua.set_memory_limit(usize::MAX)?;
    let used = lua.used_memory();
    let mut original = None;
    // SAFETY: runs with mlua's lock held on a valid state; reads the allocator pair.
    unsafe {
        lua.exec_raw::<()>((), |state| {
            let mut user_data = ptr::null_mut();
            let allocator = ffi::lua_getallocf(state, &mut user_data);
            original = Some((allocator, user_data as usize));
        })
    }?;
    let original = original.ok_or_else(|| mlua::Error::runtime("no allocator"))?;
    let heap = Arc::new(Heap {
        used: AtomicUsize::new(used),
        limit: AtomicUsize::new(limit.unwrap_or(0)),
        refused_bytes: AtomicUsize::new(0),
        refused_by_limit: AtomicBool::new(false),
        ceiling: AtomicUsize::new(0),
        original,
    });
    let user_data = Arc::as_ptr(&heap) as *mut c_void;
    // SAFETY: as above; `user_data` points to the heap, which the caller keeps alive
    // for as long as the state uses this allocator.
    unsafe {
        lua.exec_raw::<()>((), |state| {
            ffi::lua_setallocf(state, allocate, user_data);
        })
    }?;
    Ok(heap)
}

/// Alignment of every block: the same as mlua's allocator, whose blocks this one frees
/// and resizes (and the other way round, see [`Heap::restore`]).
const ALIGN: usize = ffi::SYS_MIN_ALIGN;

/// A `lua_Alloc`: mlua's allocator (same accounting, same limit), except that a block the
/// system refuses is reported to Lua as NULL instead of aborting the process.
///
/// # Safety
/// Lua's allocator contract: `user_data` is the [`Heap`] given to `lua_setallocf`; `block`
/// is NULL or a block of `old_size` bytes from this allocator (or mlua's).
unsafe extern "C" fn allocate(
    user_data: *mut c_void,
    block: *mut c_void,
    old_size: usize,
    new_size: usize,
) -> *mut c_void {
    // SAFETY: `user_data` is the heap given to lua_setallocf, which the state's owner
    // keeps alive for as long as the state uses this allocator (see [`install`]).
    let heap = unsafe { &*(user_data as *const Heap) };
    if new_size == 0 {
        if !block.is_null() {
            // SAFETY: Lua's contract: a non-NULL `block` has `old_size` bytes and came
            // from this allocator or mlua's, both of which allocate with this layout
            // (`old_size` was a valid size with ALIGN when it was allocated).
            unsafe {
                std::alloc::dealloc(
                    block.cast(),
                    Layout::from_size_align_unchecked(old_size, ALIGN),
                )
            };
            heap.used.fetch_sub(old_size, Ordering::Relaxed);
        }
        return ptr::null_mut();
    }
    // For a new block Lua passes the object's type in `old_size`, not a size.
    let old_size = if block.is_null() { 0 } else { old_size };
    let Ok(new_layout) = Layout::from_size_align(new_size, ALIGN) else {
        heap.note_refusal(new_size, false);
        return ptr::null_mut();
    };
    let used = heap.used.load(Ordering::Relaxed);
    let limit = heap.limit.load(Ordering::Relaxed);
    let ceiling = heap.ceiling.load(Ordering::Relaxed);
    // Wrapping arithmetic: nothing in an allocator may panic (it would abort).
    let new_used = used.wrapping_sub(old_size).wrapping_add(new_size);
    if new_size > old_size {
        if limit != 0 && new_used > limit {
            heap.note_refusal(new_size, true);
            return ptr::null_mut();
        }
        if ceiling != 0 && new_used > ceiling {
            // Still short of memory since the last refusal (see the module docs).
            heap.note_refusal(new_size, false);
            return ptr::null_mut();
        }
    }
    let new_block = if block.is_null() {
        // SAFETY: `new_size` is not 0 (handled above), so the layout is non-zero.
        unsafe { std::alloc::alloc(new_layout) }
    } else {
        // SAFETY: Lua's contract: `block` has `old_size` bytes and was allocated with
        // this layout (by this allocator or mlua's); `new_size` is non-zero and fits a
        // layout with ALIGN (`new_layout` was built from it).
        unsafe {
            let old_layout = Layout::from_size_align_unchecked(old_size, ALIGN);
            std::alloc::realloc(block.cast(), old_layout, new_size)
        }
    };
    if new_block.is_null() {
        // Lua keeps the old block (realloc leaves it intact), collects and retries,
        // then raises "not enough memory"; the heap stays at its size until then.
        heap.ceiling.store(used.max(1), Ordering::Relaxed);
        heap.note_refusal(new_size, false);
        return ptr::null_mut();
    }
    heap.used.store(new_used, Ordering::Relaxed);
    new_block.cast()
}

/// Builds the mlua state for `options`, refusing (with [`ErrorKind::Memory`]) when
/// memory is too short to build one: mlua builds it with an allocator that aborts the
/// process on failure, before luarun's own can take over.
pub(crate) fn new_lua(options: &Options) -> Result<Lua> {
    let out_of_memory = |detail: &str| {
        Error::new(
            ErrorKind::Memory,
            format!("not enough memory to create a Lua state ({detail})"),
        )
    };
    // The reserve first: reporting this failure, or any later one, needs it.
    refill_reserve();
    if !reserve_headroom(CREATION_HEADROOM) {
        return Err(out_of_memory(&format!(
            "{} bytes of headroom are not available",
            CREATION_HEADROOM
        )));
    }
    let libs = options.libraries.to_mlua();
    // mlua panics when Lua cannot even allocate its state: that is a memory error too.
    let built = std::panic::catch_unwind(|| {
        if options.libraries.has(Libraries::DEBUG) {
            // SAFETY: the embedder asked for the debug library explicitly; the options
            // documentation says that it can break the sandbox.
            Ok(unsafe { Lua::unsafe_new_with(libs, LuaOptions::new()) })
        } else {
            Lua::new_with(libs, LuaOptions::new())
        }
    });
    match built {
        // mlua's first handle runs a full collection when dropped, which on the
        // last handle is a whole mark-and-sweep of the state just before lua_close
        // frees all of it anyway (most of what freeing a small state cost, and far more
        // for a large one). A clone does not: the state lives on in the clone, and the
        // first handle's collection runs now, on the state fresh from mlua.
        Ok(Ok(lua)) => Ok(lua.clone()),
        Ok(Err(error)) => Err(convert_error(&error)),
        Err(_) => Err(out_of_memory("mlua could not build it")),
    }
}

/// Prepares `lua` to be closed by mlua: mlua's allocator back (see [`Heap::restore`]),
/// after a full collection with luarun's allocator when `collect_first`.
///
/// mlua's allocator aborts the process when the system refuses memory, so what closing
/// allocates matters. `lua_close` frees everything and allocates nothing except for the
/// finalizers and `__close` handlers it runs. mlua's own finalizers (C functions that
/// drop Rust values) allocate nothing; only a state that allows scripts' finalizers
/// runs Lua code there, so only such a state collects first: its unreachable objects'
/// finalizers then run under luarun's allocator, where a refusal is a Lua memory error.
/// For every other state that collection was pure cost (a quarter of creating and
/// freeing a state).
pub(crate) fn close_with_mlua_allocator(lua: &Lua, heap: &Heap, collect_first: bool) {
    if collect_first {
        let _ = lua.gc_collect();
    }
    heap.restore(lua);
}

/// Gives a half-built state mlua's allocator back if setup fails.
pub(crate) struct RestoreAllocator<'a> {
    pub(crate) lua: &'a Lua,
    pub(crate) heap: &'a Heap,
}

impl Drop for RestoreAllocator<'_> {
    fn drop(&mut self) {
        // A rare path (setup failed, likely short of memory): collect whatever setup
        // left under luarun's allocator.
        close_with_mlua_allocator(self.lua, self.heap, true);
    }
}
