//! The native engine: tasks of a few rows handed out dynamically by rayon on a pool with
//! exactly the requested number of threads; each task computed by the best kernel this
//! CPU has (AVX-512F, AVX2, scalar), all bit-exact with [`super::reference`].

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;
use rayon::prelude::*;

use super::{mirror, scalar, write_row, Cancelled, Params, PixelFormat, Progress, Row, StepBudget};
use luarun_core::error::{Error, ErrorKind, Result};
use luarun_core::fallible;

/// An instruction set a row kernel is written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    /// Plain Rust, one pixel at a time.
    Scalar,
    /// 4 doubles per vector, several vectors in flight.
    Avx2,
    /// 8 doubles per vector with mask registers, several vectors in flight.
    Avx512,
}

/// A row kernel: instruction set plus whether it skips provably bounded work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kernel {
    /// Which instructions it uses.
    pub isa: Isa,
    /// Cardioid/bulb tests and periodicity checking (exact; off = brute force).
    pub shortcuts: bool,
    /// Copy rows that exactly mirror another row (see [`super::mirror`]) instead of
    /// computing them.
    pub mirror: bool,
}

impl Kernel {
    /// The fastest kernel this CPU runs.
    pub fn best() -> Kernel {
        let isa = *available_isas().last().unwrap_or(&Isa::Scalar);
        Kernel {
            isa,
            shortcuts: true,
            mirror: true,
        }
    }

    /// Computes the escape counts of consecutive `rows` into `counts` (`width` per row),
    /// charging its steps to `budget`; stops early (`counts` partly written) when the
    /// budget's poll says the render is cancelled.
    pub fn counts(
        self,
        rows: &[Row],
        counts: &mut [u32],
        budget: &mut StepBudget,
    ) -> Result<(), Cancelled> {
        match self.isa {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `available_isas` lists AVX-512F only where the CPU has it.
            Isa::Avx512 if has(Isa::Avx512) => unsafe {
                super::simd_avx512::rows_counts(rows, self.shortcuts, counts, budget)
            },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above, for AVX2.
            Isa::Avx2 if has(Isa::Avx2) => unsafe {
                super::simd_avx2::rows_counts(rows, self.shortcuts, counts, budget)
            },
            _ => scalar::rows_counts(rows, self.shortcuts, counts, budget),
        }
    }

    /// Writes the in-set bits of consecutive `rows` (PBM P4 rows, `ceil(width/8)` bytes
    /// each) into `bits`, charging and stopping as [`Kernel::counts`] does.
    pub fn bits(
        self,
        rows: &[Row],
        bits: &mut [u8],
        budget: &mut StepBudget,
    ) -> Result<(), Cancelled> {
        match self.isa {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `available_isas` lists AVX-512F only where the CPU has it.
            Isa::Avx512 if has(Isa::Avx512) => unsafe {
                super::simd_avx512::rows_bits(rows, self.shortcuts, bits, budget)
            },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above, for AVX2.
            Isa::Avx2 if has(Isa::Avx2) => unsafe {
                super::simd_avx2::rows_bits(rows, self.shortcuts, bits, budget)
            },
            _ => {
                let width = rows.first().map_or(0, |row| row.width as usize);
                let mut counts = vec![0; width * rows.len()];
                scalar::rows_counts(rows, self.shortcuts, &mut counts, budget)?;
                let row_bytes = width.div_ceil(8);
                for (row, (row_counts, out)) in rows
                    .iter()
                    .zip(counts.chunks(width.max(1)).zip(bits.chunks_mut(row_bytes)))
                {
                    write_row(PixelFormat::Bits, row_counts, row.max_iter, out);
                }
                Ok(())
            }
        }
    }
}

fn has(isa: Isa) -> bool {
    available_isas().contains(&isa)
}

/// The instruction sets this CPU supports, slowest first (always starts with `Scalar`).
pub fn available_isas() -> &'static [Isa] {
    static ISAS: OnceLock<Vec<Isa>> = OnceLock::new();
    ISAS.get_or_init(|| {
        let mut isas = vec![Isa::Scalar];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                isas.push(Isa::Avx2);
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                isas.push(Isa::Avx512);
            }
        }
        isas
    })
}

/// Renders `params` into `buf` (exactly `params.buffer_size()` bytes) with the best
/// kernel.
pub fn render(params: &Params, buf: &mut [u8], progress: &Progress) -> Result<()> {
    render_with(params, buf, progress, Kernel::best())
}

/// Rows per task: the vector kernels iterate tiles of a few rows (see `simd_avx512`), and
/// a task of 4 rows keeps tasks small enough to balance threads on any image height.
const ROWS_PER_TASK: usize = 4;

/// Renders with a chosen kernel (benchmarks and tests compare them). The tables sized by
/// the image (rows, tasks, each thread's scratch rows) are allocated fallibly: a render
/// the process has no memory for fails with [`ErrorKind::Memory`].
pub fn render_with(
    params: &Params,
    buf: &mut [u8],
    progress: &Progress,
    kernel: Kernel,
) -> Result<()> {
    let width = params.width as usize;
    let height = params.height as usize;
    let row_bytes = params.row_bytes();
    let sources = mirror::plan(params, kernel.mirror)?;
    // The rows to compute, ROWS_PER_TASK to a task whether or not they are neighbours
    // (among mirror rows they often are not): the kernels iterate a task's rows as one
    // tile, and a full tile keeps all their vectors in flight.
    let mut row_outs: Vec<Option<&mut [u8]>> = fallible::collect(
        buf.chunks_mut(row_bytes).map(Some),
        height,
        "the render's rows",
    )?;
    let computed: Vec<usize> = fallible::collect(
        mirror::computed_rows(&sources).map(|y| y as usize),
        height,
        "the render's rows",
    )?;
    let tasks: Vec<Task> = fallible::collect(
        computed.chunks(ROWS_PER_TASK).map(|ys| {
            let mut task: Task = Default::default();
            for (slot, &y) in task.iter_mut().zip(ys) {
                *slot = Some((y, row_outs[y].take().expect("each row in one task")));
            }
            task
        }),
        computed.len().div_ceil(ROWS_PER_TASK),
        "the render's tasks",
    )?;
    let failure: Mutex<Option<Error>> = Mutex::new(None);
    let render_task = |scratch: &mut Scratch, task: Task| {
        if progress.is_cancelled() || failure.lock().is_some() {
            return;
        }
        let (counts, bits, budget) = scratch;
        let mut rows = [params.row(0); ROWS_PER_TASK];
        let mut outs: [Option<&mut [u8]>; ROWS_PER_TASK] = Default::default();
        let mut n = 0;
        for (y, out) in task.into_iter().flatten() {
            rows[n] = params.row(y as u32);
            outs[n] = Some(out);
            n += 1;
        }
        let rows = &rows[..n];
        let outs = outs.iter_mut().flatten();
        let scratch_ready = if params.format == PixelFormat::Bits {
            resize(bits, row_bytes * n)
        } else {
            resize(counts, width * n)
        };
        if let Err(error) = scratch_ready {
            failure.lock().get_or_insert(error);
            return;
        }
        // A cancelled task leaves its rows as they are (the buffer is partly written).
        if params.format == PixelFormat::Bits {
            if kernel.bits(rows, bits, budget).is_err() {
                return;
            }
            for (out, row_bits) in outs.zip(bits.chunks(row_bytes)) {
                out.copy_from_slice(row_bits);
            }
        } else {
            if kernel.counts(rows, counts, budget).is_err() {
                return;
            }
            for (out, row_counts) in outs.zip(counts.chunks(width)) {
                write_row(params.format, row_counts, params.max_iter, out);
            }
        }
        progress.rows_done(n as u32);
    };
    thread_pool(params.threads)?.install(|| {
        tasks.into_par_iter().for_each_init(
            || (Vec::new(), Vec::new(), StepBudget::new(progress)),
            render_task,
        )
    });
    drop(row_outs);
    if let Some(error) = failure.into_inner() {
        return Err(error);
    }
    if !progress.is_cancelled() {
        mirror::copy_mirrors(&sources, buf, row_bytes, progress);
    }
    Ok(())
}

/// A render thread's own data, kept across its tasks: scratch rows for counts and bits,
/// and the steps it may run before it polls the progress again.
type Scratch<'p> = (Vec<u32>, Vec<u8>, StepBudget<'p>);

/// Up to [`ROWS_PER_TASK`] rows of one task with the bytes each one goes to.
type Task<'a> = [Option<(usize, &'a mut [u8])>; ROWS_PER_TASK];

/// Resizes a task's scratch rows to `len` items, fallibly (a row of 2^20 counts is
/// 4 MiB).
fn resize<T: Clone + Default>(scratch: &mut Vec<T>, len: usize) -> Result<()> {
    if len > scratch.len() {
        fallible::reserve(scratch, len - scratch.len(), "a render thread's rows")?;
    }
    scratch.resize(len, T::default());
    Ok(())
}

/// A rayon pool with exactly `threads` threads, built once per thread count. Threads
/// the system cannot start (no memory for their stacks) are a memory error.
fn thread_pool(threads: u32) -> Result<Arc<rayon::ThreadPool>> {
    static POOLS: OnceLock<Mutex<HashMap<u32, Arc<rayon::ThreadPool>>>> = OnceLock::new();
    let mut pools = POOLS.get_or_init(Default::default).lock();
    if let Some(pool) = pools.get(&threads) {
        return Ok(Arc::clone(pool));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads as usize)
        .thread_name(|i| format!("luarun-mandelbrot-{i}"))
        .build()
        .map_err(|error| {
            Error::new(
                ErrorKind::Memory,
                format!("cannot start {threads} render threads: {error}"),
            )
        })?;
    let pool = Arc::new(pool);
    pools.insert(threads, Arc::clone(&pool));
    Ok(pool)
}
