//! `struct_size` of every option struct must end at a field boundary: a size that ends
//! inside a field would combine the caller's first bytes of it with the defaults' last
//! (a torn pointer, and a crash when it is called). Every size from 0 to sizeof + 8 is
//! tried on each struct.

use std::ffi::{c_int, c_void, CStr};
use std::mem::{offset_of, size_of};
use std::ptr;

use luarun::ffi::function::luarun_callback_context;
use luarun::ffi::host_object::{
    luarun_host_object_class, luarun_host_object_class_default, luarun_host_object_new,
};
use luarun::ffi::luarun_status::{self, LUARUN_ERR_INVALID_ARGUMENT, LUARUN_OK};
use luarun::ffi::mandelbrot::{
    luarun_mandelbrot, luarun_mandelbrot_buffer_size, luarun_mandelbrot_default,
};
use luarun::ffi::state::{
    luarun_exec, luarun_options, luarun_options_default, luarun_set_global, luarun_state,
    luarun_state_free, luarun_state_new,
};
use luarun::ffi::value::{luarun_value, luarun_value_free};

fn size_of_field<T, F>(_: fn(&T) -> &F) -> usize {
    size_of::<F>()
}

/// (offset, end) of each field, written here again so the test does not trust the
/// library's own list.
macro_rules! spans {
    ($ty:ty { $($field:ident),* $(,)? }) => {
        vec![$((offset_of!($ty, $field), offset_of!($ty, $field) + size_of_field(|s: &$ty| &s.$field))),*]
    };
}

fn ends_inside_a_field(spans: &[(usize, usize)], size: usize) -> bool {
    spans.iter().any(|&(start, end)| start < size && size < end)
}

fn last_error() -> String {
    // SAFETY: a NUL-terminated thread-local string.
    unsafe { CStr::from_ptr(luarun::ffi::luarun_last_error()) }
        .to_string_lossy()
        .into_owned()
}

/// Checks the outcome of a read with `size` bytes: refused with a message naming the
/// struct exactly when the size ends inside a field.
fn check(name: &str, spans: &[(usize, usize)], size: usize, status: luarun_status) {
    let full = spans.last().unwrap().1;
    if size <= 4 {
        assert_eq!(status, LUARUN_ERR_INVALID_ARGUMENT, "{name} size {size}");
    } else if size > full.next_multiple_of(8) {
        assert_ne!(
            status, LUARUN_OK,
            "{name} size {size}: larger than the struct"
        );
    } else if ends_inside_a_field(spans, size) {
        assert_eq!(
            status, LUARUN_ERR_INVALID_ARGUMENT,
            "{name} size {size} was accepted"
        );
        let message = last_error();
        assert!(
            message.contains(name) && message.contains("field boundary"),
            "{name} size {size}: {message}"
        );
    } else {
        assert_eq!(status, LUARUN_OK, "{name} size {size}: {}", last_error());
    }
}

#[test]
fn options_sizes_must_end_between_fields() {
    let spans = spans!(luarun_options {
        struct_size,
        libraries,
        memory_limit,
        instruction_limit,
        time_limit_ms,
        allow_bytecode,
        allow_finalizers,
    });
    for size in 0..=size_of::<luarun_options>() + 8 {
        // SAFETY: C API use as the header documents it: the structs are filled by their *_default function and outlive the calls.
        unsafe {
            let mut options = std::mem::MaybeUninit::<luarun_options>::uninit();
            luarun_options_default(options.as_mut_ptr());
            let mut options = options.assume_init();
            // A limit the defaults do not have: a torn read would mix its bytes.
            options.memory_limit = 1 << 40;
            options.struct_size = size as u32;
            let mut state = ptr::null_mut();
            let status = luarun_state_new(&options, &mut state);
            check("luarun_options", &spans, size, status);
            luarun_state_free(state);
        }
    }
}

unsafe extern "C" fn answer(
    _user_data: *mut c_void,
    _args: *const luarun_value,
    _nargs: usize,
    context: *mut luarun_callback_context,
) -> c_int {
    let value = luarun_value {
        kind: luarun::ffi::value::LUARUN_INTEGER,
        integer: 42,
        ..luarun_value::NIL
    };
    luarun::ffi::function::luarun_callback_return_value(context, &value) as c_int
}

unsafe fn exec(state: *mut luarun_state, code: &str) -> luarun_status {
    luarun_exec(state, code.as_ptr().cast(), code.len())
}

#[test]
fn host_object_class_sizes_must_end_between_fields() {
    let spans = spans!(luarun_host_object_class {
        struct_size,
        index,
        newindex,
        call,
        tostring,
        length,
        pairs,
        refused_prefix,
    });
    // SAFETY: C API use as the header documents it: the structs are filled by their *_default function and outlive the calls.
    unsafe {
        let mut state = ptr::null_mut();
        assert_eq!(luarun_state_new(ptr::null(), &mut state), LUARUN_OK);
        for size in 0..=size_of::<luarun_host_object_class>() + 8 {
            let mut class = std::mem::MaybeUninit::<luarun_host_object_class>::uninit();
            luarun_host_object_class_default(class.as_mut_ptr());
            let mut class = class.assume_init();
            class.index = Some(answer);
            class.struct_size = size as u32;
            let mut object = luarun_value::NIL;
            let status = luarun_host_object_new(state, &class, ptr::null_mut(), None, &mut object);
            check("luarun_host_object_class", &spans, size, status);
            if status == LUARUN_OK {
                // Whatever the size, using the object never calls a torn pointer: index
                // answers when the size covers it, and is an error otherwise.
                assert_eq!(
                    luarun_set_global(state, c"obj".as_ptr(), &object),
                    LUARUN_OK
                );
                let covers_index = size >= offset_of!(luarun_host_object_class, newindex);
                let status = exec(state, "assert(obj.x == 42)");
                let expected = if covers_index {
                    LUARUN_OK
                } else {
                    luarun_status::LUARUN_ERR_RUNTIME
                };
                assert_eq!(status, expected, "size {size}: {}", last_error());
            }
            luarun_value_free(&mut object);
        }
        luarun_state_free(state);
    }
}

#[test]
fn mandelbrot_sizes_must_end_between_fields() {
    let spans = spans!(luarun_mandelbrot {
        struct_size,
        width,
        height,
        max_iter,
        x_min,
        x_max,
        y_min,
        y_max,
        threads,
        engine,
        format,
        progress,
        progress_user_data,
        lua_kernel,
        lua_kernel_len,
        x_offset,
        y_offset,
        image_width,
        image_height,
    });
    for size in 0..=size_of::<luarun_mandelbrot>() + 8 {
        // SAFETY: C API use as the header documents it: the structs are filled by their *_default function and outlive the calls.
        unsafe {
            let mut params = std::mem::MaybeUninit::<luarun_mandelbrot>::uninit();
            luarun_mandelbrot_default(params.as_mut_ptr());
            let mut params = params.assume_init();
            params.width = 64;
            params.height = 64;
            params.struct_size = size as u32;
            let bytes = luarun_mandelbrot_buffer_size(&params);
            let status = if bytes == 0 {
                if last_error().contains("field boundary") || size <= 4 {
                    LUARUN_ERR_INVALID_ARGUMENT
                } else {
                    luarun_status::LUARUN_ERR_UNSUPPORTED
                }
            } else {
                LUARUN_OK
            };
            check("luarun_mandelbrot", &spans, size, status);
        }
    }
}
