//! Arbitrary sequences of value operations through the C API: building values of every
//! kind (and invalid kinds), storing them in tables and globals, reading them back,
//! calling, converting to strings. Errors are fine; crashes and leaks are not.
#![no_main]

use std::ptr;

use libfuzzer_sys::fuzz_target;
use luarun::ffi::function::luarun_call;
use luarun::ffi::state::{
    luarun_eval, luarun_get_global, luarun_set_global, luarun_state_free, luarun_state_new,
};
use luarun::ffi::table::{luarun_table_get, luarun_table_length, luarun_table_new, luarun_table_next, luarun_table_set};
use luarun::ffi::value::{luarun_value, luarun_value_copy, luarun_value_free, luarun_value_tostring};

struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(first)
    }
    fn bytes(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head
    }
}

fuzz_target!(|data: &[u8]| unsafe {
    let mut input = Input(data);
    let mut state = ptr::null_mut();
    assert_eq!(luarun_state_new(ptr::null(), &mut state) as i32, 0);
    // A pool of owned values the operations draw from and add to.
    let mut pool: Vec<luarun_value> = Vec::new();
    for code in ["{1, 'two', x = 3.5}", "function(...) return ... end", "'str\\0ing'", "nil"] {
        let mut v = luarun_value::NIL;
        luarun_eval(state, code.as_ptr().cast(), code.len(), &mut v);
        pool.push(v);
    }
    let mut strings: Vec<Vec<u8>> = Vec::new();
    while let Some(op) = input.byte() {
        let pick = |input: &mut Input, pool: &Vec<luarun_value>| {
            let i = input.byte().unwrap_or(0) as usize;
            pool[i % pool.len()]
        };
        match op % 10 {
            0 => {
                // A caller-built value of an arbitrary kind (borrowed fields only).
                let kind = u32::from(input.byte().unwrap_or(0) % 12);
                let raw = input.bytes(8);
                let mut word = [0u8; 8];
                word[..raw.len()].copy_from_slice(raw);
                let len = input.byte().unwrap_or(0) as usize;
                strings.push(input.bytes(len).to_vec());
                let text = strings.last().unwrap();
                let mut v = luarun_value::NIL;
                v.kind = kind;
                v.boolean = word[0] & 1 == 1;
                v.integer = i64::from_le_bytes(word);
                v.number = f64::from_le_bytes(word);
                v.string = text.as_ptr().cast();
                v.string_len = text.len();
                // Caller-built values never carry handles; route through a table to own it.
                let mut t = luarun_value::NIL;
                luarun_table_new(state, 0, 1, &mut t);
                let key = luarun_value { kind: 2, integer: 1, ..luarun_value::NIL };
                luarun_table_set(&t, &key, &v);
                let mut owned = luarun_value::NIL;
                if luarun_table_get(&t, &key, &mut owned) as i32 == 0 {
                    pool.push(owned);
                }
                pool.push(t);
            }
            1 => {
                let (t, k, v) = (pick(&mut input, &pool), pick(&mut input, &pool), pick(&mut input, &pool));
                luarun_table_set(&t, &k, &v);
            }
            2 => {
                let (t, k) = (pick(&mut input, &pool), pick(&mut input, &pool));
                let mut out = luarun_value::NIL;
                if luarun_table_get(&t, &k, &mut out) as i32 == 0 {
                    pool.push(out);
                }
            }
            3 => {
                let t = pick(&mut input, &pool);
                let mut n = 0usize;
                luarun_table_length(&t, &mut n);
            }
            4 => {
                let (t, k) = (pick(&mut input, &pool), pick(&mut input, &pool));
                let (mut next, mut value) = (luarun_value::NIL, luarun_value::NIL);
                if luarun_table_next(&t, &k, &mut next, &mut value) as i32 == 0 {
                    pool.push(next);
                    pool.push(value);
                }
            }
            5 => {
                let f = pick(&mut input, &pool);
                let args = [pick(&mut input, &pool), pick(&mut input, &pool)];
                let mut results = [luarun_value::NIL; 2];
                let mut n = 0;
                if luarun_call(&f, args.as_ptr(), 2, results.as_mut_ptr(), 2, &mut n) as i32 == 0 {
                    pool.extend(results.into_iter().take(n.min(2)));
                }
            }
            6 => {
                let v = pick(&mut input, &pool);
                let mut s = luarun_value::NIL;
                if luarun_value_tostring(state, &v, &mut s) as i32 == 0 {
                    pool.push(s);
                }
            }
            7 => {
                let v = pick(&mut input, &pool);
                let mut copy = luarun_value::NIL;
                if luarun_value_copy(&v, &mut copy) as i32 == 0 && !copy.handle.is_null() {
                    pool.push(copy);
                }
            }
            8 => {
                let v = pick(&mut input, &pool);
                luarun_set_global(state, c"g".as_ptr(), &v);
                let mut out = luarun_value::NIL;
                if luarun_get_global(state, c"g".as_ptr(), &mut out) as i32 == 0 {
                    pool.push(out);
                }
            }
            _ => {
                // Free one owned value (its slot becomes nil; freeing nil is fine).
                let i = input.byte().unwrap_or(0) as usize % pool.len();
                luarun_value_free(&mut pool[i]);
            }
        }
        if pool.len() > 256 {
            break;
        }
    }
    for v in &mut pool {
        luarun_value_free(v);
    }
    luarun_state_free(state);
});
