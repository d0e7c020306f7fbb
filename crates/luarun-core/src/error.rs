//! The error type of the safe core: a category (which becomes a C status), a message, and
//! what a binding needs to explain it in its own words without reading the message: why
//! a call was stopped and which option of the state is involved.

use std::fmt;

use crate::options::Libraries;

pub use crate::limits::StopReason;

/// What went wrong, in the categories the C API reports as statuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Lua source did not compile.
    Syntax,
    /// Lua code raised an error (including errors raised by host callbacks).
    Runtime,
    /// The state's memory limit was reached (or the allocator failed).
    Memory,
    /// The call was stopped by an interrupt, the instruction limit or the time limit.
    Interrupted,
    /// An argument was NULL, out of range or otherwise unusable.
    InvalidArgument,
    /// The caller's buffer is smaller than the result needs.
    BufferTooSmall,
    /// A value had the wrong type for the operation (for example indexing a number).
    Type,
    /// The request is valid but this build or this platform cannot honour it.
    Unsupported,
    /// A progress callback asked to stop.
    Cancelled,
}

/// The option of a state's [`Options`](crate::options::Options) an error is about: a
/// binding names it in its own vocabulary (a C field, a Python keyword argument).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    /// A library the state did not open (a `Libraries` bit).
    Library(u32),
    /// The state's memory limit was reached.
    MemoryLimit,
    /// The per-call instruction limit was used up.
    InstructionLimit,
    /// The per-call time limit passed.
    TimeLimit,
}

/// An error with a category and a message a user can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// The category, which decides the C status code.
    pub kind: ErrorKind,
    /// Human-readable text; for Lua errors it includes the Lua traceback when there is one.
    pub message: String,
    /// Why the call was stopped, for [`ErrorKind::Interrupted`] errors.
    pub stop: Option<StopReason>,
    /// The option involved, when one is: the limit that stopped the call, the library
    /// the code needed.
    pub setting: Option<Setting>,
}

/// Result type of the safe core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Builds an error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            stop: None,
            setting: None,
        }
    }

    /// An [`ErrorKind::Interrupted`] error for a call stopped by `reason`.
    pub fn stopped(reason: StopReason, message: impl Into<String>) -> Self {
        let setting = match reason {
            StopReason::InstructionLimit => Some(Setting::InstructionLimit),
            StopReason::TimeLimit => Some(Setting::TimeLimit),
            StopReason::Interrupted | StopReason::Closing => None,
        };
        Error {
            stop: Some(reason),
            setting,
            ..Error::new(ErrorKind::Interrupted, message)
        }
    }

    /// This error with `context` before its message ("index 7: ..."), keeping its kind,
    /// stop reason and setting.
    pub fn in_context(self, context: impl fmt::Display) -> Self {
        let message = format!("{context}: {}", self.message);
        Error { message, ..self }
    }

    /// This error, naming `setting` as the option involved.
    pub fn with_setting(mut self, setting: Setting) -> Self {
        self.setting = Some(setting);
        self
    }

    /// Shorthand for an [`ErrorKind::InvalidArgument`] error.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidArgument, message)
    }

    /// Shorthand for an [`ErrorKind::Type`] error.
    pub fn type_error(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Type, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.message)
    }
}

impl std::error::Error for Error {}

/// The Lua traceback carried by an mlua error, if any.
pub(crate) fn find_traceback(error: &mlua::Error) -> Option<String> {
    match error {
        mlua::Error::CallbackError { traceback, .. } => Some(traceback.clone()),
        mlua::Error::RuntimeError(message) => message
            .find("stack traceback:")
            .map(|at| message[at..].to_string()),
        mlua::Error::WithContext { cause, .. } => find_traceback(cause),
        _ => None,
    }
}

/// Chunk names of luarun's own Lua code (`lua/prelude.lua`).
const INTERNAL_CHUNKS: [&str; 2] = ["luarun prelude:", "luarun patterns:"];

/// Whether a traceback line shows luarun's machinery rather than the user's code: a
/// frame of its own Lua chunks, or its count hook.
fn is_internal_frame(line: &str) -> bool {
    let frame = line.trim_start();
    INTERNAL_CHUNKS.iter().any(|chunk| frame.starts_with(chunk)) || frame == "[C]: in hook '?'"
}

/// `message` with the traceback frames of luarun's own machinery left out, and the
/// frames of mlua's C glue at either end (`[C]: in ?`: the message handler first, the
/// protected call luarun runs every call in last): the traceback then shows what the
/// user's code did, as plain Lua would.
pub(crate) fn without_internal_frames(message: &str) -> String {
    let Some(at) = message.find("stack traceback:") else {
        return message.to_string();
    };
    let (head, traceback) = message.split_at(at);
    let mut lines: Vec<&str> = traceback.split('\n').collect();
    while lines.len() > 1 && lines[lines.len() - 1].trim_start() == "[C]: in ?" {
        lines.pop();
    }
    let mut out = String::with_capacity(message.len());
    out.push_str(head);
    for (i, line) in lines.iter().enumerate() {
        if is_internal_frame(line) || (i == 1 && line.trim_start() == "[C]: in ?") {
            continue;
        }
        if i > 0 {
            out.push('\n');
        }
        out.push_str(line);
    }
    out
}

/// Globals that exist only when an option opens them, and the library that does.
const OPTIONAL_GLOBALS: [(&str, u32); 12] = [
    ("os", Libraries::OS),
    ("io", Libraries::IO),
    ("dofile", Libraries::IO),
    ("loadfile", Libraries::IO),
    ("package", Libraries::PACKAGE),
    ("require", Libraries::PACKAGE),
    ("debug", Libraries::DEBUG),
    ("coroutine", Libraries::COROUTINE),
    ("table", Libraries::TABLE),
    ("string", Libraries::STRING),
    ("math", Libraries::MATH),
    ("utf8", Libraries::UTF8),
];

/// The library name a binding's options use for a `Libraries` bit.
pub fn library_name(bit: u32) -> &'static str {
    match bit {
        Libraries::COROUTINE => "coroutine",
        Libraries::TABLE => "table",
        Libraries::STRING => "string",
        Libraries::MATH => "math",
        Libraries::UTF8 => "utf8",
        Libraries::OS => "os",
        Libraries::IO => "io",
        Libraries::PACKAGE => "package",
        Libraries::DEBUG => "debug",
        _ => "?",
    }
}

/// When `message` is Lua's complaint about a nil library global (`os.exit()` in a state
/// without `os`), the message with a hint on its first line (the plain message does not
/// say that the sandbox left the library out on purpose) and the library's bit.
fn with_library_hint(message: &str) -> (String, Option<u32>) {
    let first_line_end = message.find('\n').unwrap_or(message.len());
    let first_line = &message[..first_line_end];
    if !first_line.contains("nil value") {
        return (message.to_string(), None);
    }
    // Lua 5.4: "... a nil value (global 'os')"; LuaJIT: "... global 'os' (a nil value)".
    let hint = OPTIONAL_GLOBALS
        .iter()
        .find(|(name, _)| first_line.contains(&format!("global '{name}'")));
    match hint {
        Some((name, bit)) => (
            format!(
                "{first_line} (luarun opens `{name}` only when the state's options enable \
                 the {} library){}",
                library_name(*bit),
                &message[first_line_end..]
            ),
            Some(*bit),
        ),
        None => (message.to_string(), None),
    }
}

/// Converts an mlua error into a core [`Error`], keeping Lua's message and traceback.
pub fn convert_error(error: &mlua::Error) -> Error {
    use mlua::Error as E;
    match error {
        E::SyntaxError { message, .. } => Error::new(ErrorKind::Syntax, message.clone()),
        E::RuntimeError(message) => {
            let (message, library) = with_library_hint(&without_internal_frames(message));
            let error = Error::new(ErrorKind::Runtime, message);
            match library {
                Some(bit) => error.with_setting(Setting::Library(bit)),
                None => error,
            }
        }
        // The state adds the cause (limit or system), which only its heap knows.
        E::MemoryError(message) => Error::new(ErrorKind::Memory, message.clone()),
        E::CallbackError { traceback, cause } => {
            let inner = convert_error(cause);
            let traceback = without_internal_frames(traceback);
            let message = format!("{}\n{traceback}", inner.message);
            Error { message, ..inner }
        }
        E::WithContext { context, cause } => {
            let inner = convert_error(cause);
            let message = format!("{context}: {}", inner.message);
            Error { message, ..inner }
        }
        E::ExternalError(inner) => match inner.downcast_ref::<Error>() {
            Some(ours) => ours.clone(),
            None => Error::new(ErrorKind::Runtime, inner.to_string()),
        },
        E::FromLuaConversionError { .. } => Error::type_error(error.to_string()),
        E::BadArgument { .. } => Error::new(ErrorKind::Runtime, error.to_string()),
        other => Error::new(ErrorKind::Runtime, other.to_string()),
    }
}
