//! `string.gsub` (`str_gsub`, `add_value` and `add_s` in `lstrlib.c`).

use std::sync::Arc;

use mlua::{Function, IntoLuaMulti, Lua, LuaString, MultiValue, Table, Value};

use super::args::{type_name, Args};
use super::library::capture_values;
use super::matcher::{Capture, MatchState};
use super::steps::CHUNK_BYTES;
use super::{Context, Failure};

/// What each match is replaced with.
enum Replacement {
    /// A string (or number) with `%0`-`%9` and `%%` escapes.
    Template(LuaString),
    Table(Table),
    Function(Function),
}

/// `string.gsub(s, pattern, repl [, n])`: the new string and the number of matches.
pub fn gsub(context: &Arc<Context>, lua: &Lua, args: MultiValue) -> Result<MultiValue, Failure> {
    let args = Args::new(lua, &args, "gsub");
    let subject_string = args.string(1)?;
    let pattern = args.string(2)?;
    let (subject, pattern) = (subject_string.as_bytes(), pattern.as_bytes());
    // Read before checking the replacement's type, as in C.
    let max_replacements = args.opt_integer(4, subject.len() as i64 + 1)?;
    let replacement = match args.value(3) {
        Some(Value::String(s)) => Replacement::Template(s.clone()),
        Some(Value::Integer(_) | Value::Number(_)) => Replacement::Template(args.string(3)?),
        Some(Value::Table(t)) => Replacement::Table(t.clone()),
        Some(Value::Function(f)) => Replacement::Function(f.clone()),
        _ => return Err(args.type_error(3, "string/function/table")),
    };
    let (anchored, pattern) = match pattern.split_first() {
        Some((b'^', rest)) => (true, rest),
        _ => (false, &pattern[..]),
    };
    let mut steps = context.meter.start();
    let mut state = MatchState::new(&subject, pattern, &mut steps);
    let mut output = Output::default();
    let mut next_memory_check = CHUNK_BYTES;
    let (mut start, mut last_match, mut count, mut changed) = (0, None, 0i64, false);
    while count < max_replacements {
        let end = state
            .match_at(start)
            .map_err(|e| Failure::from_match(lua, e))?;
        if let Some(end) = end.filter(|&end| Some(end) != last_match) {
            count += 1;
            let before = output.len();
            changed |= add_value(
                context,
                lua,
                &state,
                &subject,
                start,
                end,
                &replacement,
                &mut output,
            )?;
            // Long replacements are bulk work too (a 1 MiB template at every byte).
            state
                .steps()
                .bytes(output.len() - before)
                .map_err(|stop| Failure::stopped(lua, stop))?;
            start = end;
            last_match = Some(end);
        } else if start < subject.len() {
            output.push(subject[start]);
            start += 1;
        } else {
            break;
        }
        if anchored {
            break;
        }
        output.check(context)?;
        if output.len() >= next_memory_check {
            check_memory(context, output.len())?;
            next_memory_check = output.len() + CHUNK_BYTES;
        }
    }
    let result = if changed {
        output.extend_from_slice(&subject[start..]);
        output.check(context)?;
        check_memory(context, output.len())?;
        lua.create_string(&output.bytes)?
    } else {
        subject_string.clone()
    };
    Ok(MultiValue::from_vec(vec![
        Value::String(result),
        Value::Integer(count),
    ]))
}

/// Fails like Lua would when the result being built could not fit in the memory limit:
/// Lua builds it in its own heap (a buffer, then a copy as the final string), so about
/// twice its size must fit.
fn check_memory(context: &Context, length: usize) -> Result<(), Failure> {
    match context.memory_room() {
        Some(room) if length.saturating_mul(2) > room => {
            Err(context.out_of_memory(length.saturating_mul(2), true))
        }
        _ => Ok(()),
    }
}

/// The result being built. It grows fallibly: Rust's own growth aborts the process when
/// the system refuses memory, where Lua's buffers raise "not enough memory". A refusal
/// is kept (later appends are skipped) until [`Output::check`] reports it.
#[derive(Default)]
struct Output {
    bytes: Vec<u8>,
    /// The size that could not be reserved.
    refused: Option<usize>,
}

impl Output {
    fn len(&self) -> usize {
        self.bytes.len()
    }

    #[inline]
    fn extend_from_slice(&mut self, more: &[u8]) {
        if self.refused.is_some() {
            return;
        }
        if self.bytes.try_reserve(more.len()).is_err() {
            self.refused = Some(self.bytes.len().saturating_add(more.len()));
            return;
        }
        self.bytes.extend_from_slice(more);
    }

    #[inline]
    fn push(&mut self, byte: u8) {
        self.extend_from_slice(&[byte]);
    }

    /// Fails with a memory error if an append was refused.
    fn check(&self, context: &Context) -> Result<(), Failure> {
        match self.refused {
            Some(bytes) => Err(context.out_of_memory(bytes, false)),
            None => Ok(()),
        }
    }
}

/// Appends the replacement of the match `start..end`; whether anything changed (a table
/// or function giving nil or false keeps the original text).
#[allow(clippy::too_many_arguments)]
fn add_value(
    context: &Context,
    lua: &Lua,
    state: &MatchState,
    subject: &[u8],
    start: usize,
    end: usize,
    replacement: &Replacement,
    output: &mut Output,
) -> Result<bool, Failure> {
    let value = match replacement {
        Replacement::Template(template) => {
            add_template(state, subject, start, end, &template.as_bytes(), output)
                .map_err(|e| Failure::from_match(lua, e))?;
            return Ok(true);
        }
        Replacement::Table(table) => {
            let key = state
                .capture(0, start, end)
                .map_err(|e| Failure::from_match(lua, e))?;
            let key = capture_values(lua, subject, &[key])?.remove(0);
            if table.metatable().is_none() {
                table.raw_get(key)?
            } else {
                protected_call(context, &context.index, (table, key))?
            }
        }
        Replacement::Function(function) => {
            let captures = state
                .captures(start, end, true)
                .map_err(|e| Failure::from_match(lua, e))?;
            let captures = MultiValue::from_vec(capture_values(lua, subject, &captures)?);
            protected_call(context, function, captures)?
        }
    };
    match value {
        Value::Nil | Value::Boolean(false) => {
            output.extend_from_slice(&subject[start..end]);
            Ok(false)
        }
        Value::String(s) => {
            output.extend_from_slice(&s.as_bytes());
            Ok(true)
        }
        number @ (Value::Integer(_) | Value::Number(_)) => {
            let text = lua.coerce_string(number)?.expect("numbers convert");
            output.extend_from_slice(&text.as_bytes());
            Ok(true)
        }
        other => Err(Failure::message(
            lua,
            format!("invalid replacement value (a {})", type_name(&other)),
        )),
    }
}

/// Calls `function` through the original `pcall`: its first result, or its error value
/// unchanged as the failure.
fn protected_call(
    context: &Context,
    function: &Function,
    args: impl IntoLuaMulti,
) -> Result<Value, Failure> {
    // By reference: no clone of the function's registry reference per match.
    let mut results: MultiValue = context.raw_pcall.call((function, args))?;
    let ok = matches!(results.pop_front(), Some(Value::Boolean(true)));
    let first = results.pop_front().unwrap_or(Value::Nil);
    if ok {
        Ok(first)
    } else {
        Err(Failure::Rethrow(first))
    }
}

/// Appends a string replacement with its escapes expanded (`add_s`).
fn add_template(
    state: &MatchState,
    subject: &[u8],
    start: usize,
    end: usize,
    template: &[u8],
    output: &mut Output,
) -> Result<(), super::matcher::MatchError> {
    let mut rest = template;
    while let Some(at) = rest.iter().position(|&c| c == b'%') {
        output.extend_from_slice(&rest[..at]);
        let escaped = rest.get(at + 1).copied().unwrap_or(0);
        match escaped {
            b'%' => output.push(b'%'),
            b'0' => output.extend_from_slice(&subject[start..end]),
            b'1'..=b'9' => match state.capture((escaped - b'1') as usize, start, end)? {
                Capture::Bytes(from, to) => output.extend_from_slice(&subject[from..to]),
                Capture::Position(position) => {
                    output.extend_from_slice(position.to_string().as_bytes())
                }
            },
            _ => {
                return Err(super::matcher::MatchError::Pattern(
                    "invalid use of '%' in replacement string".into(),
                ))
            }
        }
        rest = &rest[at + 2..];
    }
    output.extend_from_slice(rest);
    Ok(())
}
