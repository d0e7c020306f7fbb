//! Reading library arguments the way `lauxlib.c` does (`luaL_checklstring`,
//! `luaL_optinteger`, ...), with the same "bad argument" messages, so scripts that match
//! on them see no difference.

use mlua::{Lua, LuaString, MultiValue, Value};

use super::Failure;

/// The arguments of one library call and the library name of the function.
pub struct Args<'a> {
    lua: &'a Lua,
    values: &'a MultiValue,
    /// The name in `string.<name>`.
    function: &'static str,
}

impl<'a> Args<'a> {
    /// Wraps the arguments of `string.<function>`.
    pub fn new(lua: &'a Lua, values: &'a MultiValue, function: &'static str) -> Self {
        Args {
            lua,
            values,
            function,
        }
    }

    /// Argument `n` (1-based); `None` when the caller passed fewer arguments.
    pub fn value(&self, n: usize) -> Option<&'a Value> {
        self.values.get(n - 1)
    }

    fn is_none_or_nil(&self, n: usize) -> bool {
        matches!(self.value(n), None | Some(Value::Nil))
    }

    /// Whether argument `n` is neither absent, nil nor false (`lua_toboolean`).
    pub fn truthy(&self, n: usize) -> bool {
        !matches!(
            self.value(n),
            None | Some(Value::Nil) | Some(Value::Boolean(false))
        )
    }

    /// A string argument; numbers are converted as Lua converts them (`luaL_checklstring`).
    pub fn string(&self, n: usize) -> Result<LuaString, Failure> {
        match self.value(n) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(v @ (Value::Integer(_) | Value::Number(_))) => {
                Ok(self.lua.coerce_string(v.clone())?.expect("numbers convert"))
            }
            _ => Err(self.type_error(n, "string")),
        }
    }

    /// An optional string argument (`luaL_optlstring`): `None` when absent or nil.
    pub fn opt_string(&self, n: usize) -> Result<Option<LuaString>, Failure> {
        if self.is_none_or_nil(n) {
            Ok(None)
        } else {
            self.string(n).map(Some)
        }
    }

    /// An integer argument (`luaL_checkinteger`): floats with an exact integer value and
    /// numeric strings are accepted, as in Lua.
    pub fn integer(&self, n: usize) -> Result<i64, Failure> {
        let value = self.value(n).cloned().unwrap_or(Value::Nil);
        if let Value::Integer(i) = value {
            return Ok(i);
        }
        if let Some(i) = self.lua.coerce_integer(value.clone())? {
            return Ok(i);
        }
        if self.lua.coerce_number(value)?.is_some() {
            return Err(self.error(n, "number has no integer representation"));
        }
        Err(self.type_error(n, "number"))
    }

    /// An optional integer argument (`luaL_optinteger`).
    pub fn opt_integer(&self, n: usize, default: i64) -> Result<i64, Failure> {
        if self.is_none_or_nil(n) {
            Ok(default)
        } else {
            self.integer(n)
        }
    }

    /// "bad argument #n to 'name' (expected, got type)" (`luaL_typeerror`).
    pub fn type_error(&self, n: usize, expected: &str) -> Failure {
        let got = match self.value(n) {
            None => "no value".to_string(),
            Some(Value::LightUserData(_)) => "light userdata".to_string(),
            Some(Value::Table(t)) => t
                .metatable()
                .and_then(|mt| mt.raw_get::<LuaString>("__name").ok())
                .map_or_else(|| "table".into(), |name| name.to_string_lossy()),
            Some(v) => type_name(v).to_string(),
        };
        self.error(n, &format!("{expected} expected, got {got}"))
    }

    /// "bad argument #n to 'name' (detail)" (`luaL_argerror`). The name is the one the
    /// caller used, found as Lua finds it: from the calling instruction, for the C
    /// closure the script called (see `c_shell`: this function runs in its frame, level
    /// 0, or is called from it, level 1).
    pub fn error(&self, n: usize, detail: &str) -> Failure {
        let level = if crate::c_shell::runs_inline() { 0 } else { 1 };
        let (name, is_method) = self
            .lua
            .inspect_stack(level, |frame| {
                let names = frame.names();
                (
                    names.name.map(|name| name.into_owned()),
                    names.name_what == Some("method"),
                )
            })
            .unwrap_or((None, false));
        let message = match (name, is_method) {
            (Some(name), true) if n == 1 => format!("calling '{name}' on bad self ({detail})"),
            (Some(name), true) => format!("bad argument #{} to '{name}' ({detail})", n - 1),
            (Some(name), false) => format!("bad argument #{n} to '{name}' ({detail})"),
            (None, _) => format!("bad argument #{n} to 'string.{}' ({detail})", self.function),
        };
        Failure::message(self.lua, message)
    }
}

/// Lua's name for the type of `value` (`lua_typename`).
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Nil => "nil",
        Value::Boolean(_) => "boolean",
        Value::LightUserData(_) | Value::UserData(_) => "userdata",
        Value::Integer(_) | Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Table(_) => "table",
        Value::Function(_) => "function",
        Value::Thread(_) => "thread",
        _ => "userdata",
    }
}
