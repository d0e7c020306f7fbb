//! `string.rep` (`str_rep` in `lstrlib.c`), built in chunks so that limits can stop a
//! huge repeat.

use std::sync::Arc;

use mlua::{Lua, MultiValue, Value};

use super::args::Args;
use super::steps::CHUNK_BYTES;
use super::{Context, Failure};

/// Largest string `string.rep` builds (`MAXSIZE` in `lstrlib.c`: `INT_MAX`).
pub const MAX_RESULT: usize = i32::MAX as usize;

/// `string.rep(s, n [, sep])`: `n` copies of `s` separated by `sep`.
pub fn rep(context: &Arc<Context>, lua: &Lua, args: MultiValue) -> Result<MultiValue, Failure> {
    let args = Args::new(lua, &args, "rep");
    let unit = args.string(1)?;
    let count = args.integer(2)?;
    let separator = args.opt_string(3)?;
    let unit = unit.as_bytes();
    let separator = separator.as_ref().map(|s| s.as_bytes());
    let separator: &[u8] = separator.as_deref().unwrap_or_default();
    if count <= 0 {
        return Ok(single(Value::String(lua.create_string("")?)));
    }
    let period = unit.len() + separator.len();
    if period > MAX_RESULT / count as u64 as usize {
        return Err(Failure::message(lua, "resulting string too large"));
    }
    let count = count as usize;
    let total = count * unit.len() + (count - 1) * separator.len();
    // Lua holds a buffer of the full size and then copies it into the string.
    if matches!(context.memory_room(), Some(room) if total.saturating_mul(2) > room) {
        return Err(context.out_of_memory(total.saturating_mul(2), true));
    }
    // Reserved fallibly: Rust's infallible allocation would abort the process.
    let mut output = Vec::new();
    context.reserve_exact(&mut output, total)?;
    output.extend_from_slice(&unit);
    if count > 1 {
        output.extend_from_slice(separator);
        output.extend_from_slice(&unit);
    }
    // From `unit.len()` on, the output repeats (separator, unit) with period `period`:
    // grow it by copying from itself, at the same phase, at most a chunk at a time.
    let mut steps = context.meter.start();
    let periodic_start = unit.len();
    while output.len() < total {
        let written = output.len() - periodic_start;
        let available = written / period * period;
        let chunk = (total - output.len()).min(available).min(CHUNK_BYTES);
        let from = periodic_start + written % period;
        output.extend_from_within(from..from + chunk);
        steps
            .bytes(chunk)
            .map_err(|stop| Failure::stopped(lua, stop))?;
    }
    Ok(single(Value::String(lua.create_string(&output)?)))
}

fn single(value: Value) -> MultiValue {
    MultiValue::from_vec(vec![value])
}
