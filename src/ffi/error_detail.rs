//! `luarun_last_error_stop`, `_option` and `_library`: the structured part of the last
//! error, so that no binding has to read the message to tell a time limit from an
//! interrupt or to name the option involved in its own words.

use luarun_core::error::{Error, Setting, StopReason};

use super::{boundary_or, LAST_ERROR_DETAIL};

/// Why a call was stopped (`luarun_last_error_stop`).
pub type luarun_stop_reason = u32;

/// The last error was not a stop.
pub const LUARUN_STOP_NONE: luarun_stop_reason = 0;
/// `luarun_state_interrupt` (or a pool or render interrupt) stopped the call.
pub const LUARUN_STOP_INTERRUPT: luarun_stop_reason = 1;
/// The per-call instruction limit (`luarun_options.instruction_limit`) was used up.
pub const LUARUN_STOP_INSTRUCTION_LIMIT: luarun_stop_reason = 2;
/// The per-call time limit (`luarun_options.time_limit_ms`) passed.
pub const LUARUN_STOP_TIME_LIMIT: luarun_stop_reason = 3;
/// The state was being closed (`luarun_state_free` from another thread or a callback).
pub const LUARUN_STOP_CLOSING: luarun_stop_reason = 4;

/// An option of `luarun_options` an error is about (`luarun_last_error_option`).
pub type luarun_option = u32;

/// No option is involved.
pub const LUARUN_OPTION_NONE: luarun_option = 0;
/// `libraries`: the code needed a library the state did not open
/// (`luarun_last_error_library` says which).
pub const LUARUN_OPTION_LIBRARIES: luarun_option = 1;
/// `memory_limit`: the state's memory limit was reached.
pub const LUARUN_OPTION_MEMORY_LIMIT: luarun_option = 2;
/// `instruction_limit`: the call used up its instructions.
pub const LUARUN_OPTION_INSTRUCTION_LIMIT: luarun_option = 3;
/// `time_limit_ms`: the call ran out of time.
pub const LUARUN_OPTION_TIME_LIMIT: luarun_option = 4;

/// The structured part of an error, as the C getters report it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Detail {
    stop: luarun_stop_reason,
    option: luarun_option,
    library: u32,
}

impl Detail {
    /// Nothing to report (successful calls never change it; failures without detail
    /// reset it).
    pub(crate) const NONE: Detail = Detail {
        stop: LUARUN_STOP_NONE,
        option: LUARUN_OPTION_NONE,
        library: 0,
    };

    /// The detail of a core error.
    pub(crate) fn of(error: &Error) -> Detail {
        let stop = match error.stop {
            None => LUARUN_STOP_NONE,
            Some(StopReason::Interrupted) => LUARUN_STOP_INTERRUPT,
            Some(StopReason::InstructionLimit) => LUARUN_STOP_INSTRUCTION_LIMIT,
            Some(StopReason::TimeLimit) => LUARUN_STOP_TIME_LIMIT,
            Some(StopReason::Closing) => LUARUN_STOP_CLOSING,
        };
        let (option, library) = match error.setting {
            None => (LUARUN_OPTION_NONE, 0),
            Some(Setting::Library(bit)) => (LUARUN_OPTION_LIBRARIES, bit),
            Some(Setting::MemoryLimit) => (LUARUN_OPTION_MEMORY_LIMIT, 0),
            Some(Setting::InstructionLimit) => (LUARUN_OPTION_INSTRUCTION_LIMIT, 0),
            Some(Setting::TimeLimit) => (LUARUN_OPTION_TIME_LIMIT, 0),
        };
        Detail {
            stop,
            option,
            library,
        }
    }
}

fn last() -> Detail {
    LAST_ERROR_DETAIL.with(|slot| slot.get())
}

/// Why the call that set this thread's last error was stopped: a `LUARUN_STOP_*`
/// constant, `LUARUN_STOP_NONE` when it was not a stop. Changes exactly when
/// `luarun_last_error` does.
#[no_mangle]
pub extern "C" fn luarun_last_error_stop() -> luarun_stop_reason {
    boundary_or(LUARUN_STOP_NONE, || last().stop)
}

/// The option of `luarun_options` this thread's last error is about (the limit that
/// stopped the call, the library the code needed, the memory limit that was reached): a
/// `LUARUN_OPTION_*` constant, `LUARUN_OPTION_NONE` when none is. Changes exactly when
/// `luarun_last_error` does.
#[no_mangle]
pub extern "C" fn luarun_last_error_option() -> luarun_option {
    boundary_or(LUARUN_OPTION_NONE, || last().option)
}

/// For `LUARUN_OPTION_LIBRARIES`: the `LUARUN_LIB_*` bit of the library the code needed
/// (for example `LUARUN_LIB_OS` for `os.time()` in a sandboxed state); 0 otherwise.
#[no_mangle]
pub extern "C" fn luarun_last_error_library() -> u32 {
    boundary_or(0, || last().library)
}
