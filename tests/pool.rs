//! A pool runs one Lua function over an index range on all its states in parallel: every
//! index exactly once, results in place, first error reported, cancellation honoured.

use std::sync::atomic::{AtomicUsize, Ordering};

use luarun_core::error::ErrorKind;
use luarun_core::pool::Pool;
use luarun_core::state::Options;
use mlua::MultiValue;
use parking_lot::Mutex;

fn pool_with(size: usize, code: &str) -> Pool {
    let pool = Pool::new(size, &Options::default()).expect("pool");
    pool.exec(code.as_bytes(), None).expect("code loads");
    pool
}

fn no_args(_: &mlua::Lua) -> mlua::Result<MultiValue> {
    Ok(MultiValue::new())
}

#[test]
fn every_index_runs_exactly_once_whatever_the_pool_size() {
    for size in [1, 2, 3, 8] {
        let pool = pool_with(size, "function f(i) return tostring(i) end");
        let seen: Mutex<Vec<i64>> = Mutex::new(Vec::new());
        let sink = |i: i64, bytes: &[u8]| {
            assert_eq!(bytes, i.to_string().as_bytes());
            seen.lock().push(i);
            Ok(())
        };
        pool.run("f", -5..96, &no_args, &sink, &|| false).unwrap();
        let mut seen = seen.into_inner();
        seen.sort_unstable();
        assert_eq!(seen, (-5..96).collect::<Vec<_>>(), "pool of {size}");
    }
}

#[test]
fn extra_arguments_are_built_once_per_state_and_passed_to_every_call() {
    let pool = pool_with(3, "function f(i, k) return string.rep('x', i * k) end");
    let built = AtomicUsize::new(0);
    let args = |_: &mlua::Lua| {
        built.fetch_add(1, Ordering::Relaxed);
        Ok(MultiValue::from_vec(vec![mlua::Value::Integer(2)]))
    };
    let total = AtomicUsize::new(0);
    let sink = |i: i64, bytes: &[u8]| {
        assert_eq!(bytes.len() as i64, 2 * i);
        total.fetch_add(1, Ordering::Relaxed);
        Ok(())
    };
    pool.run("f", 0..50, &args, &sink, &|| false).unwrap();
    assert_eq!(total.into_inner(), 50);
    assert_eq!(built.into_inner(), 3);
}

#[test]
fn the_first_error_stops_the_run_and_names_the_index() {
    let pool = pool_with(
        2,
        "function f(i) if i == 13 then error('unlucky') end return 'ok' end",
    );
    let error = pool
        .run("f", 0..1000, &no_args, &|_, _| Ok(()), &|| false)
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::Runtime);
    assert!(error.message.contains("unlucky"), "{}", error.message);
    assert!(error.message.contains("index 13"), "{}", error.message);

    let error = pool
        .run("missing", 0..10, &no_args, &|_, _| Ok(()), &|| false)
        .unwrap_err();
    assert!(error.message.contains("missing"), "{}", error.message);

    let pool = pool_with(2, "function f(i) return 42 end");
    let error = pool
        .run("f", 0..10, &no_args, &|_, _| Ok(()), &|| false)
        .unwrap_err();
    assert!(error.message.contains("not a string"), "{}", error.message);
}

#[test]
fn cancelling_stops_handing_out_indexes() {
    let pool = pool_with(2, "function f(i) return '' end");
    let calls = AtomicUsize::new(0);
    let after_each = || calls.fetch_add(1, Ordering::Relaxed) >= 9;
    let error = pool
        .run("f", 0..100_000, &no_args, &|_, _| Ok(()), &after_each)
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::Cancelled);
    assert!(calls.into_inner() < 100, "the run went on after cancelling");
}

#[test]
fn pool_sizes_are_checked() {
    assert!(Pool::new(0, &Options::default()).is_err());
    assert!(Pool::new(100_000, &Options::default()).is_err());
}
