//! The structured part of the last error (`luarun_last_error_stop`, `_option`,
//! `_library`): which stop ended a call and which option is involved, so bindings never
//! read messages to decide.

use std::ffi::CStr;
use std::ptr;
use std::time::Duration;

use luarun::ffi::error_detail::*;
use luarun::ffi::luarun_status::*;
use luarun::ffi::state::*;

fn state_with(adjust: impl FnOnce(&mut luarun_options)) -> *mut luarun_state {
    let mut options = std::mem::MaybeUninit::<luarun_options>::uninit();
    // SAFETY: the default function fills the whole struct; the out pointers are valid.
    unsafe {
        luarun_options_default(options.as_mut_ptr());
        let mut options = options.assume_init();
        adjust(&mut options);
        let mut state = ptr::null_mut();
        assert_eq!(luarun_state_new(&options, &mut state), LUARUN_OK);
        state
    }
}

fn exec(state: *mut luarun_state, code: &str) -> luarun::ffi::luarun_status {
    // SAFETY: a live state and a valid code buffer.
    unsafe { luarun_exec(state, code.as_ptr().cast(), code.len()) }
}

fn detail() -> (u32, u32, u32) {
    (
        luarun_last_error_stop(),
        luarun_last_error_option(),
        luarun_last_error_library(),
    )
}

fn message() -> String {
    // SAFETY: luarun_last_error never returns NULL.
    unsafe { CStr::from_ptr(luarun::ffi::luarun_last_error()) }
        .to_string_lossy()
        .into_owned()
}

fn free(state: *mut luarun_state) {
    // SAFETY: created by luarun_state_new, freed once.
    unsafe { luarun_state_free(state) }
}

#[test]
fn limits_name_their_stop_and_option() {
    let state = state_with(|o| o.instruction_limit = 100_000);
    assert_eq!(exec(state, "while true do end"), LUARUN_ERR_INTERRUPTED);
    assert_eq!(
        detail(),
        (
            LUARUN_STOP_INSTRUCTION_LIMIT,
            LUARUN_OPTION_INSTRUCTION_LIMIT,
            0
        )
    );
    // pcall cannot turn the stop into something else.
    assert_eq!(
        exec(state, "pcall(function() while true do end end) error('x')"),
        LUARUN_ERR_INTERRUPTED
    );
    assert_eq!(luarun_last_error_stop(), LUARUN_STOP_INSTRUCTION_LIMIT);
    free(state);

    let state = state_with(|o| o.time_limit_ms = 20);
    assert_eq!(exec(state, "while true do end"), LUARUN_ERR_INTERRUPTED);
    assert_eq!(
        detail(),
        (LUARUN_STOP_TIME_LIMIT, LUARUN_OPTION_TIME_LIMIT, 0)
    );
    free(state);
}

#[test]
fn an_interrupt_is_a_stop_without_an_option() {
    // LuaJIT states without limits run compiled loops no interrupt can reach (interrupt
    // says LUARUN_ERR_UNSUPPORTED there): a generous time limit keeps the interpreter.
    let state = state_with(|o| {
        if cfg!(feature = "luajit") {
            o.time_limit_ms = 60_000;
        }
    });
    let address = state as usize;
    let interrupter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        // SAFETY: the state outlives this thread (joined before the free below);
        // interrupt may be called from any thread.
        let status = unsafe { luarun_state_interrupt(address as *mut luarun_state) };
        assert_eq!(status, LUARUN_OK);
    });
    assert_eq!(exec(state, "while true do end"), LUARUN_ERR_INTERRUPTED);
    interrupter.join().unwrap();
    assert_eq!(detail(), (LUARUN_STOP_INTERRUPT, LUARUN_OPTION_NONE, 0));
    assert!(!message().contains("luarun_"), "{}", message());
    free(state);
}

#[test]
fn a_missing_library_names_its_bit() {
    let state = state_with(|_| {});
    assert_eq!(exec(state, "return os.time()"), LUARUN_ERR_RUNTIME);
    assert_eq!(
        detail(),
        (LUARUN_STOP_NONE, LUARUN_OPTION_LIBRARIES, LUARUN_LIB_OS)
    );
    assert!(message().contains("the os library"), "{}", message());
    assert_eq!(exec(state, "debug.traceback()"), LUARUN_ERR_RUNTIME);
    assert_eq!(luarun_last_error_library(), LUARUN_LIB_DEBUG);
    free(state);
}

#[test]
fn the_memory_limit_is_named() {
    let state = state_with(|o| o.memory_limit = 4 << 20);
    assert_eq!(
        exec(state, "local t = {} for i = 1, 1e8 do t[i] = i end"),
        LUARUN_ERR_MEMORY
    );
    assert_eq!(detail(), (LUARUN_STOP_NONE, LUARUN_OPTION_MEMORY_LIMIT, 0));
    free(state);
}

#[test]
fn detail_changes_with_the_message_only() {
    let state = state_with(|o| o.instruction_limit = 100_000);
    assert_eq!(exec(state, "while true do end"), LUARUN_ERR_INTERRUPTED);
    // A success keeps both, as it keeps the message.
    assert_eq!(exec(state, "local x = 1"), LUARUN_OK);
    assert_eq!(luarun_last_error_stop(), LUARUN_STOP_INSTRUCTION_LIMIT);
    // A failure without detail resets it.
    assert_eq!(exec(state, "error('plain')"), LUARUN_ERR_RUNTIME);
    assert_eq!(detail(), (LUARUN_STOP_NONE, LUARUN_OPTION_NONE, 0));
    assert_eq!(exec(state, "x = = 1"), LUARUN_ERR_SYNTAX);
    assert_eq!(detail(), (LUARUN_STOP_NONE, LUARUN_OPTION_NONE, 0));
    free(state);
}

#[test]
fn pool_errors_keep_their_detail() {
    use luarun::ffi::pool::*;
    let mut options = std::mem::MaybeUninit::<luarun_options>::uninit();
    let mut pool = ptr::null_mut();
    // SAFETY: the default function fills the struct; out pointers and buffers are valid
    // for the calls, and the pool is freed once at the end.
    unsafe {
        luarun_options_default(options.as_mut_ptr());
        let mut options = options.assume_init();
        options.time_limit_ms = 50;
        assert_eq!(luarun_pool_new(&options, 2, &mut pool), LUARUN_OK);
        let code = "function spin(i) if i == 3 then while true do end end return 'x' end \
                    function needs_os(i) return os.date() end";
        assert_eq!(
            luarun_pool_exec(pool, code.as_ptr().cast(), code.len()),
            LUARUN_OK
        );
        let mut buf = [0u8; 8];
        let status = luarun_pool_run(
            pool,
            c"spin".as_ptr(),
            0,
            8,
            buf.as_mut_ptr().cast(),
            buf.len(),
            1,
            None,
            ptr::null_mut(),
        );
        assert_eq!(status, LUARUN_ERR_INTERRUPTED, "{}", message());
        assert_eq!(
            detail(),
            (LUARUN_STOP_TIME_LIMIT, LUARUN_OPTION_TIME_LIMIT, 0)
        );
        assert!(message().contains("index 3"), "{}", message());
        let status = luarun_pool_run(
            pool,
            c"needs_os".as_ptr(),
            0,
            1,
            buf.as_mut_ptr().cast(),
            buf.len(),
            1,
            None,
            ptr::null_mut(),
        );
        assert_eq!(status, LUARUN_ERR_RUNTIME);
        assert_eq!(
            detail(),
            (LUARUN_STOP_NONE, LUARUN_OPTION_LIBRARIES, LUARUN_LIB_OS)
        );
        luarun_pool_free(pool);
    }
}
