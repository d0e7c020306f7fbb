//! The interruptible pattern functions (the `luarun-pattern` crate) wired to a state: its
//! limit guard is their step budget, its heap bounds the results they build.

use std::sync::Arc;

use mlua::Lua;

use crate::heap::Heap;
use crate::limits::hook::hook_interval;
use crate::limits::LimitGuard;

/// A state's limits and heap, as the pattern port sees them.
struct StateBudget {
    guard: Arc<LimitGuard>,
    heap: Arc<Heap>,
}

impl luarun_pattern::Budget for StateBudget {
    /// The count hook's interval, so one matcher step costs one VM instruction.
    fn interval(&self) -> u32 {
        hook_interval(self.guard.limits().instructions)
    }

    fn check(&self) -> Result<(), luarun_pattern::Stop> {
        self.guard
            .check()
            .map_err(|reason| luarun_pattern::Stop(self.guard.describe(reason)))
    }

    fn memory_room(&self) -> Option<usize> {
        self.heap
            .limit()
            .map(|limit| limit.saturating_sub(self.heap.used()))
    }

    fn note_refusal(&self, bytes: usize, by_limit: bool) {
        self.heap.note_refusal(bytes, by_limit);
    }

    fn stack_exhausted(&self) -> Option<&'static str> {
        crate::cstack::exceeded().then_some(crate::cstack::OVERFLOW_MESSAGE)
    }
}

/// Replaces the string library's pattern functions and `string.rep` with the port,
/// answering to `guard` and `heap`. Must run before the prelude replaces `pcall`.
pub fn install(lua: &Lua, guard: &Arc<LimitGuard>, heap: &Arc<Heap>) -> mlua::Result<()> {
    let budget = StateBudget {
        guard: Arc::clone(guard),
        heap: Arc::clone(heap),
    };
    luarun_pattern::install(lua, Arc::new(budget))
}
