//! The Lua engine's pools kept between renders, so a render does not build and load
//! one state per thread each time.
//!
//! A render takes a pool out (so concurrent renders never share states) and puts it
//! back when done, keyed by thread count and kernel source. The cache is bounded by
//! the states it holds, [`MAX_IDLE_STATES`] in all pools together (the oldest pools go
//! first), and a pool left idle for [`idle_lifetime`] is dropped at the next render or
//! cache operation; [`release`] drops them all now.
//! Pools are dropped outside the lock: closing states takes a while.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use luarun_core::pool::Pool;

/// Most Lua states the idle pools hold together.
pub const MAX_IDLE_STATES: usize = 64;

/// How long a pool may stay idle by default before it is dropped.
pub const DEFAULT_IDLE_LIFETIME: Duration = Duration::from_secs(60);

struct IdlePool {
    threads: u32,
    kernel: Vec<u8>,
    pool: Pool,
    idle_since: Instant,
}

static IDLE_POOLS: Mutex<Vec<IdlePool>> = Mutex::new(Vec::new());

/// The idle lifetime in milliseconds (settable for tests and embedders with other needs).
static IDLE_LIFETIME_MS: AtomicU64 = AtomicU64::new(DEFAULT_IDLE_LIFETIME.as_millis() as u64);

/// How long a pool may stay idle before it is dropped.
pub fn idle_lifetime() -> Duration {
    Duration::from_millis(IDLE_LIFETIME_MS.load(Ordering::Relaxed))
}

/// Sets how long a pool may stay idle before it is dropped (applies from the next
/// render or cache operation on).
pub fn set_idle_lifetime(lifetime: Duration) {
    let millis = u64::try_from(lifetime.as_millis()).unwrap_or(u64::MAX);
    IDLE_LIFETIME_MS.store(millis, Ordering::Relaxed);
}

/// Removes the expired pools of `idle` into `dropped`.
fn expire(idle: &mut Vec<IdlePool>, dropped: &mut Vec<IdlePool>) {
    let lifetime = idle_lifetime();
    let now = Instant::now();
    let mut at = 0;
    while at < idle.len() {
        if now.duration_since(idle[at].idle_since) >= lifetime {
            dropped.push(idle.remove(at));
        } else {
            at += 1;
        }
    }
}

/// Takes out the idle pool of `threads` states loaded with `kernel`, if there is one.
pub fn take(threads: u32, kernel: &[u8]) -> Option<Pool> {
    let mut dropped = Vec::new();
    let found = {
        let mut idle = IDLE_POOLS.lock();
        expire(&mut idle, &mut dropped);
        idle.iter()
            .position(|entry| entry.threads == threads && entry.kernel == kernel)
            .map(|at| idle.remove(at).pool)
    };
    drop(dropped);
    found
}

/// Keeps `pool` for the next render with the same thread count and kernel, within the
/// bounds (a pool larger than all of them is simply dropped).
pub fn put_back(threads: u32, kernel: &[u8], pool: Pool) {
    let mut dropped = Vec::new();
    // A copy of the kernel is the key, if it can be had (a failed allocation here would
    // abort the process; without the copy the pool is simply dropped).
    let mut key = Vec::new();
    if pool.size() > MAX_IDLE_STATES || key.try_reserve_exact(kernel.len()).is_err() {
        return;
    }
    key.extend_from_slice(kernel);
    {
        let mut idle = IDLE_POOLS.lock();
        expire(&mut idle, &mut dropped);
        idle.push(IdlePool {
            threads,
            kernel: key,
            pool,
            idle_since: Instant::now(),
        });
        while idle.iter().map(|entry| entry.pool.size()).sum::<usize>() > MAX_IDLE_STATES {
            dropped.push(idle.remove(0));
        }
    }
    drop(dropped);
}

/// Drops every idle pool now; returns how many states were closed.
pub fn release() -> usize {
    let dropped = std::mem::take(&mut *IDLE_POOLS.lock());
    dropped.iter().map(|entry| entry.pool.size()).sum()
}

/// The states the idle pools hold now (expired pools are dropped first).
pub fn idle_states() -> usize {
    let mut dropped = Vec::new();
    let states = {
        let mut idle = IDLE_POOLS.lock();
        expire(&mut idle, &mut dropped);
        idle.iter().map(|entry| entry.pool.size()).sum()
    };
    drop(dropped);
    states
}
