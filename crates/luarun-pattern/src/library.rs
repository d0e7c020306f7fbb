//! `string.find`, `string.match` and `string.gmatch` (`str_find_aux`, `gmatch` and
//! `gmatch_aux` in `lstrlib.c`).

use std::cell::Cell;
use std::sync::Arc;

use mlua::{Lua, MultiValue, Value};

use super::args::Args;
use super::matcher::{Capture, MatchState};
use super::search::{find_plain, has_no_specials, start_position};
use super::{Context, Failure};

/// The Lua values of `captures` (strings of `subject`, or integer positions).
pub fn capture_values(
    lua: &Lua,
    subject: &[u8],
    captures: &[Capture],
) -> Result<Vec<Value>, Failure> {
    captures
        .iter()
        .map(|capture| match *capture {
            Capture::Bytes(start, end) => {
                Ok(Value::String(lua.create_string(&subject[start..end])?))
            }
            Capture::Position(position) => Ok(Value::Integer(position as i64)),
        })
        .collect()
}

fn fail() -> Result<MultiValue, Failure> {
    Ok(MultiValue::from_vec(vec![Value::Nil]))
}

/// `string.find(s, pattern [, init [, plain]])` when `find`, else
/// `string.match(s, pattern [, init])`.
pub fn find(
    context: &Arc<Context>,
    lua: &Lua,
    args: MultiValue,
    find: bool,
) -> Result<MultiValue, Failure> {
    let args = Args::new(lua, &args, if find { "find" } else { "match" });
    let subject = args.string(1)?;
    let pattern = args.string(2)?;
    let init = args.opt_integer(3, 1)?;
    let (subject, pattern) = (subject.as_bytes(), pattern.as_bytes());
    let init = start_position(init, subject.len()) - 1;
    if init > subject.len() as u64 {
        return fail(); // starts after the end: cannot find anything
    }
    let init = init as usize;
    let mut steps = context.meter.start();
    if find && (args.truthy(4) || has_no_specials(&pattern)) {
        let found = find_plain(&subject[init..], &pattern, &mut steps)
            .map_err(|stop| Failure::stopped(lua, stop))?;
        return match found {
            Some(at) => Ok(MultiValue::from_vec(vec![
                Value::Integer((init + at + 1) as i64),
                Value::Integer((init + at + pattern.len()) as i64),
            ])),
            None => fail(),
        };
    }
    let (anchored, pattern) = match pattern.split_first() {
        Some((b'^', rest)) => (true, rest),
        _ => (false, &pattern[..]),
    };
    let mut state = MatchState::new(&subject, pattern, &mut steps);
    let mut start = init;
    loop {
        let end = state
            .match_at(start)
            .map_err(|e| Failure::from_match(lua, e))?;
        if let Some(end) = end {
            let captures = state
                .captures(start, end, !find)
                .map_err(|e| Failure::from_match(lua, e))?;
            let mut results = Vec::with_capacity(captures.len() + 2);
            if find {
                results.push(Value::Integer(start as i64 + 1));
                results.push(Value::Integer(end as i64));
            }
            results.extend(capture_values(lua, &subject, &captures)?);
            return Ok(MultiValue::from_vec(results));
        }
        if start >= subject.len() || anchored {
            return fail();
        }
        start += 1;
    }
}

/// `string.gmatch(s, pattern [, init])`: returns the iterator (the Lua wrapper adds the
/// error handling around it). A `^` is an ordinary byte here, as in Lua 5.4.
pub fn gmatch(context: &Arc<Context>, lua: &Lua, args: MultiValue) -> Result<MultiValue, Failure> {
    let args = Args::new(lua, &args, "gmatch");
    let subject = args.string(1)?;
    let pattern = args.string(2)?;
    let init = args.opt_integer(3, 1)?;
    let length = subject.as_bytes().len();
    // Past the end: start at length + 1, where nothing matches (avoids overflow in C).
    let init = (start_position(init, length) - 1).min(length as u64 + 1) as usize;
    let next_start = Cell::new(init);
    let last_match: Cell<Option<usize>> = Cell::new(None);
    let context = Arc::clone(context);
    let iterate = lua.create_function(move |lua, ()| {
        super::respond((|| {
            let (subject, pattern) = (subject.as_bytes(), pattern.as_bytes());
            let mut steps = context.meter.start();
            let mut state = MatchState::new(&subject, &pattern, &mut steps);
            let mut start = next_start.get();
            while start <= subject.len() {
                let end = state
                    .match_at(start)
                    .map_err(|e| Failure::from_match(lua, e))?;
                if let Some(end) = end.filter(|&end| Some(end) != last_match.get()) {
                    next_start.set(end);
                    last_match.set(Some(end));
                    let captures = state
                        .captures(start, end, true)
                        .map_err(|e| Failure::from_match(lua, e))?;
                    return Ok(MultiValue::from_vec(capture_values(
                        lua, &subject, &captures,
                    )?));
                }
                start += 1;
            }
            Ok(MultiValue::new())
        })())
    })?;
    Ok(MultiValue::from_vec(vec![Value::Function(iterate)]))
}
