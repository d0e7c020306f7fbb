//! How to build a state: which libraries it opens, its memory limit, per-call limits and
//! sandbox switches.

use std::time::Duration;

use mlua::StdLib;

use crate::limits::CallLimits;

/// Which standard libraries a state opens. The base library is always open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Libraries(pub u32);

impl Libraries {
    /// `coroutine`.
    pub const COROUTINE: u32 = 1;
    /// `table`.
    pub const TABLE: u32 = 1 << 1;
    /// `string` (without `string.dump` unless bytecode is allowed).
    pub const STRING: u32 = 1 << 2;
    /// `math`.
    pub const MATH: u32 = 1 << 3;
    /// `utf8`.
    pub const UTF8: u32 = 1 << 4;
    /// `os`: clock and date, but also `os.execute`, `os.remove`, `os.exit`.
    pub const OS: u32 = 1 << 5;
    /// `io`, plus the base functions `dofile` and `loadfile`: file system access.
    pub const IO: u32 = 1 << 6;
    /// `package` and `require`: loads Lua and C modules from disk.
    pub const PACKAGE: u32 = 1 << 7;
    /// `debug`: can break every guarantee of the sandbox.
    pub const DEBUG: u32 = 1 << 8;
    /// The safe default set.
    pub const SAFE: u32 = Self::COROUTINE | Self::TABLE | Self::STRING | Self::MATH | Self::UTF8;
    /// Every library.
    pub const ALL: u32 = Self::SAFE | Self::OS | Self::IO | Self::PACKAGE | Self::DEBUG;

    pub(crate) fn has(self, lib: u32) -> bool {
        self.0 & lib != 0
    }

    pub(crate) fn to_mlua(self) -> StdLib {
        let table = [
            #[cfg(feature = "lua54")]
            (Self::COROUTINE, StdLib::COROUTINE),
            (Self::TABLE, StdLib::TABLE),
            (Self::STRING, StdLib::STRING),
            (Self::MATH, StdLib::MATH),
            #[cfg(feature = "lua54")]
            (Self::UTF8, StdLib::UTF8),
            (Self::OS, StdLib::OS),
            (Self::IO, StdLib::IO),
            (Self::PACKAGE, StdLib::PACKAGE),
            (Self::DEBUG, StdLib::DEBUG),
        ];
        // LuaJIT: `coroutine` is part of base (removed afterwards when not asked for),
        // `utf8` does not exist, `bit` is always open, and `jit` is opened so that
        // limited states can switch the compiler off.
        #[cfg(feature = "luajit")]
        let always = StdLib::BIT | StdLib::JIT;
        #[cfg(not(feature = "luajit"))]
        let always = StdLib::NONE;
        table
            .iter()
            .filter(|(ours, _)| self.has(*ours))
            .fold(always, |acc, (_, theirs)| acc | *theirs)
    }
}

/// How to build a state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Standard libraries to open.
    pub libraries: Libraries,
    /// Most bytes the state may hold; `None` = unlimited.
    pub memory_limit: Option<usize>,
    /// Instruction and wall-time limits applied to each top-level call.
    pub call_limits: CallLimits,
    /// Whether precompiled (binary) chunks may be loaded and `string.dump` exists.
    pub allow_bytecode: bool,
    /// Whether `setmetatable` accepts metatables with `__gc` (finalizers run where
    /// limits cannot stop them).
    pub allow_finalizers: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            libraries: Libraries(Libraries::SAFE),
            memory_limit: None,
            call_limits: CallLimits::default(),
            allow_bytecode: false,
            allow_finalizers: false,
        }
    }
}

/// Limits from plain numbers, as options structs carry them (0 = unlimited).
pub fn call_limits(instructions: u64, time_ms: u64) -> CallLimits {
    CallLimits {
        instructions: (instructions != 0).then_some(instructions),
        time: (time_ms != 0).then(|| Duration::from_millis(time_ms)),
    }
}
