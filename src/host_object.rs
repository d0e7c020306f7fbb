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
use crate::state::State;

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
    /// carries the message of the Lua error raised at the caller's line.
    fn handle(
        &self,
        state: &Arc<State>,
        operation: HostOperation,
        args: MultiValue,
    ) -> std::result::Result<MultiValue, String>;

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
    if state
        .lua()
        .app_data_ref::<HostObjectTypeRegistered>()
        .is_none()
    {
        register_host_object_type(state)?;
    }
    state.run(|lua| lua.create_any_userdata(HostObject(handler)))
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
        // Lua passes `#obj`'s operand twice; tostring and length take no arguments.
        let args: MultiValue = match operation {
            HostOperation::ToString | HostOperation::Length => MultiValue::new(),
            _ => args.collect(),
        };
        if matches!(operation, HostOperation::Index | HostOperation::NewIndex) {
            refuse_private_name(handler.as_ref(), args.front())?;
        }
        if !handler.supports(operation) {
            if operation == HostOperation::ToString {
                let text = format!("host object: {:p}", Arc::as_ptr(&handler).cast::<u8>());
                let text = state.lua().create_string(text).map_err(|e| e.to_string())?;
                return Ok(MultiValue::from_vec(vec![Value::String(text)]));
            }
            return Err(format!(
                "this host object cannot be {}",
                operation.describe()
            ));
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
