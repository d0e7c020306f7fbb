//! Real allocation failure: the process's address space is capped (`RLIMIT_AS`) a little
//! above what it uses, with no `memory_limit`, and Lua code, state creation, pools,
//! renders and value conversions run into the cap. Each must fail with
//! `LUARUN_ERR_MEMORY` (Rust's infallible allocation used to abort the host), and
//! everything must work again once memory is back.

use std::ffi::{c_char, c_void};
use std::ptr;

use luarun::ffi::luarun_status::{self, LUARUN_ERR_MEMORY, LUARUN_OK};
use luarun::ffi::mandelbrot::{
    luarun_mandelbrot, luarun_mandelbrot_default, luarun_mandelbrot_render, LUARUN_ENGINE_LUA,
    LUARUN_PIXELS_COUNTS_U32,
};
use luarun::ffi::pool::{
    luarun_pool, luarun_pool_exec, luarun_pool_free, luarun_pool_new, luarun_pool_run,
};
use luarun::ffi::state::{
    luarun_eval, luarun_exec, luarun_set_global, luarun_state, luarun_state_free, luarun_state_new,
};
use luarun::ffi::value::{luarun_value, luarun_value_free, LUARUN_STRING};
use luarun_core::error::ErrorKind;
use luarun_core::state::{Options, State};

use super::Scenario;

pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "memory: a table grows until the system refuses",
            run: || lua_runs_out("local t = {} for i = 1, 1e12 do t[i] = i end"),
        },
        Scenario {
            name: "memory: a string doubles until the system refuses",
            run: || lua_runs_out("local s = 'x' while true do s = s .. s end"),
        },
        Scenario {
            name: "memory: tables pile up until the system refuses",
            run: || lua_runs_out("local t = {} while true do t[#t + 1] = {} end"),
        },
        Scenario {
            name: "memory: coroutines pile up until the system refuses",
            run: || {
                lua_runs_out("local t = {} while true do t[#t + 1] = coroutine.create(print) end")
            },
        },
        Scenario {
            name: "memory: string.rep beyond what the system has",
            run: || lua_runs_out("local s = string.rep('x', 2^31 - 1) return #s"),
        },
        Scenario {
            name: "memory: string.rep with a separator beyond what the system has",
            run: || lua_runs_out("local s = string.rep('xy', 2^29, ',') return #s"),
        },
        Scenario {
            name: "memory: gsub results beyond what the system has",
            run: || {
                lua_runs_out(
                    "local s = string.rep('a', 1 << 22) \
                     return #s:gsub('a', string.rep('b', 512))",
                )
            },
        },
        Scenario {
            name: "memory: gsub with a function beyond what the system has",
            run: || {
                lua_runs_out(
                    "local s, r = string.rep('a', 1 << 22), string.rep('b', 512) \
                     return #s:gsub('a', function() return r end)",
                )
            },
        },
        Scenario {
            name: "memory: table.concat beyond what the system has",
            run: || {
                lua_runs_out(
                    "local t, s = {}, string.rep('x', 1 << 24) \
                     for i = 1, 64 do t[i] = s end return #table.concat(t)",
                )
            },
        },
        Scenario {
            name: "memory: states are created until the system refuses",
            run: states_until_refused,
        },
        Scenario {
            name: "memory: a caller's string too large to copy into Lua",
            run: caller_string_too_large,
        },
        Scenario {
            name: "memory: an expression too large to compile",
            run: expression_too_large,
        },
        Scenario {
            name: "memory: pool states grow until the system refuses",
            run: pool_runs_out,
        },
        Scenario {
            name: "memory: a pool run with more result slots than memory",
            run: pool_slots_too_many,
        },
        Scenario {
            name: "memory: a native render's row tables do not fit",
            run: native_rows_do_not_fit,
        },
        Scenario {
            name: "memory: a native render's scratch rows do not fit",
            run: native_scratch_does_not_fit,
        },
        Scenario {
            name: "memory: the Lua engine cannot build its pool",
            run: lua_engine_pool_does_not_fit,
        },
    ]
}

/// Caps the address space at what the process uses now plus `headroom` bytes; the cap is
/// lifted when this is dropped.
struct AddressSpaceCap {
    previous: libc::rlimit,
}

impl AddressSpaceCap {
    fn headroom(headroom: usize) -> AddressSpaceCap {
        let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
        let pages: usize = statm.split_whitespace().next().unwrap().parse().unwrap();
        // SAFETY: sysconf and getrlimit/setrlimit only read and write these structs.
        unsafe {
            let page = libc::sysconf(libc::_SC_PAGESIZE) as usize;
            let mut previous = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            assert_eq!(libc::getrlimit(libc::RLIMIT_AS, &mut previous), 0);
            let cap = libc::rlimit {
                rlim_cur: (pages * page + headroom) as libc::rlim_t,
                rlim_max: previous.rlim_max,
            };
            assert_eq!(libc::setrlimit(libc::RLIMIT_AS, &cap), 0, "setrlimit");
            AddressSpaceCap { previous }
        }
    }
}

impl Drop for AddressSpaceCap {
    fn drop(&mut self) {
        // SAFETY: restores the soft limit read before (at most the unchanged hard limit).
        unsafe { libc::setrlimit(libc::RLIMIT_AS, &self.previous) };
    }
}

fn check(condition: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if condition {
        Ok(())
    } else {
        Err(what())
    }
}

/// Runs `code` in a state without a memory limit under a cap 256 MiB above what the
/// process uses: it must fail with a memory error naming the system, and the state
/// must work afterwards, still under the cap.
fn lua_runs_out(code: &str) -> Result<(), String> {
    let state = State::new(&Options::default()).map_err(|e| e.message)?;
    let _cap = AddressSpaceCap::headroom(256 << 20);
    let err = match state.exec(code.as_bytes(), None) {
        Ok(()) => return Err("ran to completion under the cap".into()),
        Err(err) => err,
    };
    check(err.kind == ErrorKind::Memory, || {
        format!("{:?}: {}", err.kind, err.message)
    })?;
    check(err.message.contains("system refused"), || {
        format!("the message does not say why: {}", err.message)
    })?;
    state
        .exec(b"collectgarbage() collectgarbage()", None)
        .map_err(|e| format!("collect after the error: {}", e.message))?;
    let value = state
        .eval(b"#string.rep('ab', 1000) + 2", None)
        .map_err(|e| format!("usable after the error: {}", e.message))?;
    check(value == mlua::Value::Integer(2002), || format!("{value:?}"))
}

unsafe fn exec(state: *mut luarun_state, code: &str) -> luarun_status {
    luarun_exec(state, code.as_ptr().cast(), code.len())
}

fn status_is(got: luarun_status, expected: luarun_status, what: &str) -> Result<(), String> {
    check(got == expected, || {
        // SAFETY: the message is a NUL-terminated thread-local string.
        let message = unsafe { std::ffi::CStr::from_ptr(luarun::ffi::luarun_last_error()) };
        format!("{what}: {got:?}, expected {expected:?} ({message:?})")
    })
}

fn states_until_refused() -> Result<(), String> {
    let mut states: Vec<*mut luarun_state> = Vec::with_capacity(1 << 20);
    let outcome = {
        let _cap = AddressSpaceCap::headroom(64 << 20);
        loop {
            let mut state = ptr::null_mut();
            // SAFETY: plain C API use; every state is freed below.
            let status = unsafe { luarun_state_new(ptr::null(), &mut state) };
            if status != LUARUN_OK {
                break status_is(status, LUARUN_ERR_MEMORY, "luarun_state_new under the cap");
            }
            if states.len() == states.capacity() {
                break Err("a million states fit under a 64 MiB cap".into());
            }
            states.push(state);
        }
    };
    // SAFETY: each state came from luarun_state_new.
    unsafe {
        let usable = if let Some(&last) = states.last() {
            status_is(exec(last, "x = {1, 2, 3}"), LUARUN_OK, "the last state")
        } else {
            Err("not one state could be created".into())
        };
        for state in states {
            luarun_state_free(state);
        }
        outcome.and(usable)
    }
}

fn caller_string_too_large() -> Result<(), String> {
    let bytes = vec![b'x'; 256 << 20];
    let mut state = ptr::null_mut();
    // SAFETY: plain C API use; the value only borrows `bytes`.
    unsafe {
        status_is(
            luarun_state_new(ptr::null(), &mut state),
            LUARUN_OK,
            "state",
        )?;
        let value = luarun_value {
            kind: LUARUN_STRING,
            string: bytes.as_ptr().cast::<c_char>(),
            string_len: bytes.len(),
            ..luarun_value::NIL
        };
        let refused = {
            let _cap = AddressSpaceCap::headroom(32 << 20);
            luarun_set_global(state, c"big".as_ptr(), &value)
        };
        let result = status_is(refused, LUARUN_ERR_MEMORY, "luarun_set_global")
            .and_then(|()| status_is(exec(state, "big = 'small'"), LUARUN_OK, "usable afterwards"));
        luarun_state_free(state);
        result
    }
}

fn expression_too_large() -> Result<(), String> {
    let mut expression = b"1".to_vec();
    expression.resize(256 << 20, b' ');
    let mut state = ptr::null_mut();
    // SAFETY: plain C API use.
    unsafe {
        status_is(
            luarun_state_new(ptr::null(), &mut state),
            LUARUN_OK,
            "state",
        )?;
        let mut result = luarun_value::NIL;
        let refused = {
            let _cap = AddressSpaceCap::headroom(32 << 20);
            luarun_eval(
                state,
                expression.as_ptr().cast(),
                expression.len(),
                &mut result,
            )
        };
        let outcome = status_is(refused, LUARUN_ERR_MEMORY, "luarun_eval");
        luarun_value_free(&mut result);
        luarun_state_free(state);
        outcome
    }
}

fn pool_runs_out() -> Result<(), String> {
    let mut pool: *mut luarun_pool = ptr::null_mut();
    let code = "function grow(i) local t = {} for j = 1, 1e12 do t[j] = j end end \
                function small(i) return 'x' end";
    let mut out = [0u8; 2];
    // SAFETY: plain C API use.
    unsafe {
        status_is(
            luarun_pool_new(ptr::null(), 2, &mut pool),
            LUARUN_OK,
            "pool",
        )?;
        status_is(
            luarun_pool_exec(pool, code.as_ptr().cast(), code.len()),
            LUARUN_OK,
            "pool exec",
        )?;
        let refused = {
            let _cap = AddressSpaceCap::headroom(256 << 20);
            luarun_pool_run(
                pool,
                c"grow".as_ptr(),
                0,
                2,
                out.as_mut_ptr().cast::<c_void>(),
                out.len(),
                1,
                None,
                ptr::null_mut(),
            )
        };
        let outcome = status_is(refused, LUARUN_ERR_MEMORY, "luarun_pool_run").and_then(|()| {
            let status = luarun_pool_run(
                pool,
                c"small".as_ptr(),
                0,
                2,
                out.as_mut_ptr().cast::<c_void>(),
                out.len(),
                1,
                None,
                ptr::null_mut(),
            );
            status_is(status, LUARUN_OK, "a run afterwards")
        });
        luarun_pool_free(pool);
        outcome?;
        // Creating pools until the system refuses.
        let mut pools = Vec::with_capacity(1 << 16);
        let created = {
            let _cap = AddressSpaceCap::headroom(64 << 20);
            loop {
                let mut pool = ptr::null_mut();
                let status = luarun_pool_new(ptr::null(), 4, &mut pool);
                if status != LUARUN_OK {
                    break status_is(status, LUARUN_ERR_MEMORY, "luarun_pool_new");
                }
                if pools.len() == pools.capacity() {
                    break Err("65536 pools fit under a 64 MiB cap".into());
                }
                pools.push(pool);
            }
        };
        for pool in pools {
            luarun_pool_free(pool);
        }
        created
    }
}

fn pool_slots_too_many() -> Result<(), String> {
    let count = 1u32 << 27;
    let mut out = vec![0u8; count as usize];
    let mut pool = ptr::null_mut();
    let code = "function one(i) return 'x' end";
    // SAFETY: plain C API use.
    unsafe {
        status_is(
            luarun_pool_new(ptr::null(), 1, &mut pool),
            LUARUN_OK,
            "pool",
        )?;
        status_is(
            luarun_pool_exec(pool, code.as_ptr().cast(), code.len()),
            LUARUN_OK,
            "pool exec",
        )?;
        let refused = {
            let _cap = AddressSpaceCap::headroom(256 << 20);
            luarun_pool_run(
                pool,
                c"one".as_ptr(),
                0,
                count,
                out.as_mut_ptr().cast::<c_void>(),
                out.len(),
                1,
                None,
                ptr::null_mut(),
            )
        };
        luarun_pool_free(pool);
        status_is(
            refused,
            LUARUN_ERR_MEMORY,
            "luarun_pool_run with 2^27 slots",
        )
    }
}

fn mandelbrot(width: u32, height: u32, threads: u32) -> luarun_mandelbrot {
    // SAFETY: luarun_mandelbrot_default fills every field.
    let mut params = unsafe {
        let mut params = std::mem::MaybeUninit::<luarun_mandelbrot>::uninit();
        luarun_mandelbrot_default(params.as_mut_ptr());
        params.assume_init()
    };
    params.width = width;
    params.height = height;
    params.threads = threads;
    params
}

fn render(params: &luarun_mandelbrot, buf: &mut [u8]) -> luarun_status {
    // SAFETY: `buf` is writable for its length.
    unsafe { luarun_mandelbrot_render(params, buf.as_mut_ptr().cast(), buf.len()) }
}

fn native_rows_do_not_fit() -> Result<(), String> {
    // 2^20 rows of 1 byte: a 1 MiB image whose row tables take tens of MiB.
    let params = mandelbrot(8, 1 << 20, 1);
    let mut buf = vec![0u8; 1 << 20];
    // The single-thread pool exists before the cap: the tables are what must fail.
    status_is(render(&mandelbrot(8, 8, 1), &mut buf), LUARUN_OK, "warm-up")?;
    let refused = {
        let _cap = AddressSpaceCap::headroom(2 << 20);
        render(&params, &mut buf)
    };
    status_is(refused, LUARUN_ERR_MEMORY, "render under the cap")?;
    status_is(render(&params, &mut buf), LUARUN_OK, "render afterwards")
}

fn native_scratch_does_not_fit() -> Result<(), String> {
    // Rows of 2^20 counts: a task of 3 computed rows (the 4th mirrors one) needs 12 MiB
    // of scratch. No render ran before, so the render thread starts under the cap and
    // has no malloc arena of its own (whose reserved space would let it grow anyway).
    let mut params = mandelbrot(1 << 20, 4, 1);
    params.format = LUARUN_PIXELS_COUNTS_U32;
    params.max_iter = 2;
    let mut buf = vec![0u8; 16 << 20];
    let refused = {
        let _cap = AddressSpaceCap::headroom(8 << 20);
        render(&params, &mut buf)
    };
    status_is(refused, LUARUN_ERR_MEMORY, "render under the cap")?;
    // SAFETY: the message is a NUL-terminated thread-local string.
    let message = unsafe { std::ffi::CStr::from_ptr(luarun::ffi::luarun_last_error()) };
    let message = message.to_string_lossy();
    check(message.contains("render thread's rows"), || {
        format!("failed elsewhere: {message}")
    })?;
    status_is(render(&params, &mut buf), LUARUN_OK, "render afterwards")
}

fn lua_engine_pool_does_not_fit() -> Result<(), String> {
    let mut params = mandelbrot(16, 16, 3);
    params.engine = LUARUN_ENGINE_LUA;
    let mut buf = vec![0u8; 64];
    let refused = {
        let _cap = AddressSpaceCap::headroom(1 << 20);
        render(&params, &mut buf)
    };
    status_is(refused, LUARUN_ERR_MEMORY, "Lua render under the cap")?;
    status_is(
        render(&params, &mut buf),
        LUARUN_OK,
        "Lua render afterwards",
    )
}
