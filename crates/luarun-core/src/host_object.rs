//! Host objects: Lua userdata whose indexing, assignment, calls, `tostring`, `#` and
//! garbage collection are handled by the embedder (a Python dict, a C++ object ...).
//!
//! The core owns what every binding needs the same way: one metatable per state whose
//! metamethods strip the object itself from the arguments, refuse names the embedder
//! declared private (so a sandboxed script cannot walk into `__class__` and escape), turn
//! handler failures into ordinary Lua errors Lua can `pcall`, and drop the handler when
//! Lua collects the object. The handler only answers the operations.

use mlua::{AnyUserData, Function, Lua, MetaMethod, MultiValue, Value};
use std::sync::Arc;

use crate::error::Result;
use crate::state::{HostFailure, State};

/// One thing Lua can do with a host object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostOperation {
    /// `obj[key]` and `obj.key` (arguments: key; one result).
    Index,
    /// `obj[key] = value` (arguments: key, value; no result).
    NewIndex,
    /// `obj(...)` and `obj:method(...)` once looked up (arguments: the call's).
    Call,
    /// `tostring(obj)` (no arguments; one string result).
    ToString,
    /// `#obj` (no arguments; one integer result).
    Length,
    /// `pairs(obj)` (no arguments; one result: an iterator function Lua calls until it
    /// returns nil).
    Pairs,
}

impl HostOperation {
    /// What Lua calls the operation, for error messages.
    pub fn describe(self) -> &'static str {
        match self {
            HostOperation::Index => "indexed",
            HostOperation::NewIndex => "assigned to",
            HostOperation::Call => "called",
            HostOperation::ToString => "converted to a string",
            HostOperation::Length => "measured with #",
            HostOperation::Pairs => "iterated with pairs",
        }
    }
}

/// The embedder's side of a host object.
pub trait HostObjectHandler: Send + Sync + 'static {
    /// Whether the handler implements `operation`; unsupported operations fail with a
    /// Lua error without calling [`HostObjectHandler::handle`] (`tostring` falls back to
    /// a generic description).
    fn supports(&self, operation: HostOperation) -> bool;

    /// Performs `operation` with `args` (the object itself already removed). `Err`
    /// carries the Lua error: a message raised at the caller's line, or a value.
    fn handle(
        &self,
        state: &Arc<State>,
        operation: HostOperation,
        args: MultiValue,
    ) -> std::result::Result<MultiValue, HostFailure>;

    /// Names (string keys) starting with this prefix are refused on index and assignment
    /// before the handler sees them; `None` refuses nothing.
    fn refused_prefix(&self) -> Option<&[u8]>;

    /// The handler as `Any`, so an embedder can find its own type behind a host object.
    fn as_any(&self) -> &dyn std::any::Any;
}

/// The Rust value inside a host object's userdata; dropping it (when Lua collects the
/// object or the state closes) drops the handler.
struct HostObject(Arc<dyn HostObjectHandler>);

/// Marks a state whose host-object metatable is registered.
struct HostObjectTypeRegistered;

/// Creates a host object in `state` that dispatches to `handler`.
pub fn create_host_object(
    state: &Arc<State>,
    handler: Arc<dyn HostObjectHandler>,
) -> Result<AnyUserData> {
    // Checked and registered under the state's call lock: registering twice would
    // invalidate the objects created in between.
    state.run(|lua| {
        let registered = lua.app_data_ref::<HostObjectTypeRegistered>().is_some();
        if !registered {
            register_host_object_type(state).map_err(mlua::Error::external)?;
        }
        lua.create_any_userdata(HostObject(handler))
    })
}

/// The handler behind `value` when it is a host object.
pub fn host_object_handler(value: &Value) -> Option<Arc<dyn HostObjectHandler>> {
    match value {
        Value::UserData(userdata) => userdata
            .borrow::<HostObject>()
            .ok()
            .map(|object| Arc::clone(&object.0)),
        _ => None,
    }
}

fn register_host_object_type(state: &Arc<State>) -> Result<()> {
    let operations = [
        (MetaMethod::Index, HostOperation::Index),
        (MetaMethod::NewIndex, HostOperation::NewIndex),
        (MetaMethod::Call, HostOperation::Call),
        (MetaMethod::ToString, HostOperation::ToString),
        (MetaMethod::Len, HostOperation::Length),
        // LuaJIT (Lua 5.1) has no __pairs: there pairs(obj) is an error.
        #[cfg(feature = "lua54")]
        (MetaMethod::Pairs, HostOperation::Pairs),
    ];
    let mut metamethods: Vec<(MetaMethod, Function)> = Vec::new();
    for (metamethod, operation) in operations {
        metamethods.push((metamethod, metamethod_function(state, operation)?));
    }
    state.run(|lua: &Lua| {
        lua.register_userdata_type::<HostObject>(move |registry| {
            use mlua::UserDataFields;
            for (metamethod, function) in metamethods {
                registry.add_meta_field(metamethod, function);
            }
        })?;
        lua.set_app_data(HostObjectTypeRegistered);
        Ok(())
    })
}

/// A Lua function for one metamethod: finds the handler, applies the name filter,
/// dispatches. Built with [`State::create_host_function`], so failures are plain Lua
/// errors at the caller's line.
fn metamethod_function(state: &Arc<State>, operation: HostOperation) -> Result<Function> {
    // Weak: the metatable lives inside the state.
    let weak = Arc::downgrade(state);
    state.create_host_function(move |_, args| {
        let state = weak
            .upgrade()
            .ok_or_else(|| "the luarun state is closing".to_string())?;
        let mut args = args.into_iter();
        let handler = args
            .next()
            .as_ref()
            .and_then(host_object_handler)
            .ok_or_else(|| "expected a host object as the first argument".to_string())?;
        // Lua passes `#obj`'s operand twice; tostring, length and pairs take no arguments.
        let args: MultiValue = match operation {
            HostOperation::ToString | HostOperation::Length | HostOperation::Pairs => {
                MultiValue::new()
            }
            _ => args.collect(),
        };
        if matches!(operation, HostOperation::Index | HostOperation::NewIndex) {
            refuse_private_name(handler.as_ref(), args.front())?;
        }
        if !handler.supports(operation) {
            if operation == HostOperation::ToString {
                // The handler's address, hidden as tostring hides addresses.
                let hidden = crate::addresses::hide(Arc::as_ptr(&handler).cast::<u8>() as usize);
                let text = format!("host object: 0x{hidden:016x}");
                let text = state.lua().create_string(text).map_err(|e| e.to_string())?;
                return Ok(MultiValue::from_vec(vec![Value::String(text)]));
            }
            return Err(format!("this host object cannot be {}", operation.describe()).into());
        }
        let mut results = handler.handle(&state, operation, args)?;
        if operation == HostOperation::NewIndex {
            results.clear();
        }
        Ok(results)
    })
}

fn refuse_private_name(
    handler: &dyn HostObjectHandler,
    key: Option<&Value>,
) -> std::result::Result<(), String> {
    let (Some(prefix), Some(Value::String(key))) = (handler.refused_prefix(), key) else {
        return Ok(());
    };
    let key = key.as_bytes();
    if !prefix.is_empty() && key.starts_with(prefix) {
        return Err(format!(
            "'{}' is not accessible from Lua: names starting with '{}' are refused",
            String::from_utf8_lossy(&key),
            String::from_utf8_lossy(prefix)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Options;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Answers index with the key repeated, counts drops, supports no calls.
    struct Echo {
        drops: Arc<AtomicUsize>,
    }

    impl Drop for Echo {
        fn drop(&mut self) {
            self.drops.fetch_add(1, Ordering::SeqCst);
        }
    }

    impl HostObjectHandler for Echo {
        fn supports(&self, operation: HostOperation) -> bool {
            matches!(operation, HostOperation::Index | HostOperation::Length)
        }

        fn handle(
            &self,
            state: &Arc<State>,
            operation: HostOperation,
            args: MultiValue,
        ) -> std::result::Result<MultiValue, HostFailure> {
            let result = match operation {
                HostOperation::Index => {
                    let key = args.front().cloned().unwrap_or(Value::Nil);
                    let text = state.to_string(key).map_err(|e| e.message)?;
                    let doubled = text.to_string_lossy().repeat(2);
                    Value::String(
                        state
                            .lua()
                            .create_string(doubled)
                            .map_err(|e| e.to_string())?,
                    )
                }
                _ => Value::Integer(args.len() as i64),
            };
            Ok(MultiValue::from_vec(vec![result]))
        }

        fn refused_prefix(&self) -> Option<&[u8]> {
            Some(b"_")
        }

        fn as_any(&self) -> &dyn std::any::Any {
            self
        }
    }

    fn state_with_echo() -> (Arc<State>, Arc<AtomicUsize>) {
        let state = State::new(&Options::default()).expect("state");
        let drops = Arc::new(AtomicUsize::new(0));
        let object = create_host_object(
            &state,
            Arc::new(Echo {
                drops: Arc::clone(&drops),
            }),
        )
        .expect("host object");
        state
            .run(|lua| lua.globals().set("echo", object))
            .expect("set global");
        (state, drops)
    }

    fn eval(state: &State, code: &str) -> Value {
        state.eval(code.as_bytes(), None).expect(code)
    }

    #[test]
    fn index_goes_to_the_handler_without_the_object_itself() {
        let (state, _) = state_with_echo();
        let value = eval(&state, "echo.ab .. echo[7]");
        assert_eq!(value.to_string().unwrap(), "abab77");
    }

    #[test]
    fn length_gets_no_arguments_although_lua_passes_the_operand_twice() {
        let (state, _) = state_with_echo();
        assert_eq!(eval(&state, "#echo").as_integer(), Some(0));
    }

    #[test]
    fn refused_names_never_reach_the_handler_and_raise_catchable_errors() {
        let (state, _) = state_with_echo();
        let message = eval(&state, "select(2, pcall(function() return echo._x end))");
        let message = message.to_string().unwrap();
        assert!(
            message.contains("'_x' is not accessible from Lua"),
            "{message}"
        );
    }

    #[test]
    fn unsupported_operations_fail_and_tostring_falls_back() {
        let (state, _) = state_with_echo();
        let message = eval(&state, "select(2, pcall(function() echo.x = 1 end))");
        assert!(message
            .to_string()
            .unwrap()
            .ends_with("this host object cannot be assigned to"));
        let text = eval(&state, "tostring(echo)").to_string().unwrap();
        assert!(text.starts_with("host object: 0x"), "{text}");
    }

    #[test]
    fn the_handler_is_dropped_when_lua_collects_the_object() {
        let (state, drops) = state_with_echo();
        assert_eq!(drops.load(Ordering::SeqCst), 0);
        state
            .exec(b"echo = nil collectgarbage() collectgarbage()", None)
            .expect("collect");
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn host_objects_are_recognised_and_other_values_are_not() {
        let (state, _) = state_with_echo();
        assert!(host_object_handler(&eval(&state, "echo")).is_some());
        assert!(host_object_handler(&eval(&state, "{}")).is_none());
    }
}
