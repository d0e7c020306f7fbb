//! The native engine: rows handed out dynamically by rayon on a pool with exactly the
//! requested number of threads; each row computed by the best kernel this CPU has
//! (AVX-512F, AVX2, scalar), all bit-exact with [`super::reference`].

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;
use rayon::prelude::*;

use super::{shortcut, write_row, Params, PixelFormat, Progress, Row};

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
}

impl Kernel {
    /// The fastest kernel this CPU runs.
    pub fn best() -> Kernel {
        let isa = *available_isas().last().unwrap_or(&Isa::Scalar);
        Kernel {
            isa,
            shortcuts: true,
        }
    }

    /// Computes the escape counts of `row` into `counts` (`row.width` entries).
    pub fn counts(self, row: &Row, counts: &mut [u32]) {
        debug_assert_eq!(counts.len(), row.width as usize);
        match self.isa {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `available_isas` lists AVX-512F only where the CPU has it.
            Isa::Avx512 if has(Isa::Avx512) => unsafe {
                super::simd_avx512::row_counts(row, self.shortcuts, counts)
            },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above, for AVX2.
            Isa::Avx2 if has(Isa::Avx2) => unsafe {
                super::simd_avx2::row_counts(row, self.shortcuts, counts)
            },
            _ => scalar_counts(row, self.shortcuts, counts),
        }
    }

    /// Writes the in-set bits of `row` (PBM P4 row, `ceil(width/8)` bytes) into `bits`.
    pub fn bits(self, row: &Row, bits: &mut [u8]) {
        debug_assert_eq!(bits.len(), (row.width as usize).div_ceil(8));
        match self.isa {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `available_isas` lists AVX-512F only where the CPU has it.
            Isa::Avx512 if has(Isa::Avx512) => unsafe {
                super::simd_avx512::row_bits(row, self.shortcuts, bits)
            },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above, for AVX2.
            Isa::Avx2 if has(Isa::Avx2) => unsafe {
                super::simd_avx2::row_bits(row, self.shortcuts, bits)
            },
            _ => {
                let mut counts = vec![0; row.width as usize];
                scalar_counts(row, self.shortcuts, &mut counts);
                write_row(PixelFormat::Bits, &counts, row.max_iter, bits);
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

fn scalar_counts(row: &Row, shortcuts: bool, counts: &mut [u32]) {
    for (x, count) in counts.iter_mut().enumerate() {
        let cr = row.cr(x as u32);
        *count = if shortcuts {
            shortcut::escape_count(cr, row.ci, row.max_iter)
        } else {
            super::reference::escape_count(cr, row.ci, row.max_iter)
        };
    }
}

/// Renders `params` into `buf` (exactly `params.buffer_size()` bytes) with the best
/// kernel.
pub fn render(params: &Params, buf: &mut [u8], progress: &Progress) {
    render_with(params, buf, progress, Kernel::best());
}

/// Renders with a chosen kernel (benchmarks and tests compare them).
pub fn render_with(params: &Params, buf: &mut [u8], progress: &Progress, kernel: Kernel) {
    let row_bytes = params.row_bytes();
    let render_row = |counts: &mut Vec<u32>, (y, out): (usize, &mut [u8])| {
        if progress.is_cancelled() {
            return;
        }
        let row = params.row(y as u32);
        if params.format == PixelFormat::Bits {
            kernel.bits(&row, out);
        } else {
            counts.resize(params.width as usize, 0);
            kernel.counts(&row, counts);
            write_row(params.format, counts, params.max_iter, out);
        }
        progress.rows_done(1);
    };
    let rows = buf.par_chunks_mut(row_bytes).enumerate();
    thread_pool(params.threads).install(|| rows.for_each_init(Vec::new, render_row));
}

/// A rayon pool with exactly `threads` threads, built once per thread count.
fn thread_pool(threads: u32) -> Arc<rayon::ThreadPool> {
    static POOLS: OnceLock<Mutex<HashMap<u32, Arc<rayon::ThreadPool>>>> = OnceLock::new();
    let mut pools = POOLS.get_or_init(Default::default).lock();
    let pool = pools.entry(threads).or_insert_with(|| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads as usize)
            .thread_name(|i| format!("luarun-mandelbrot-{i}"))
            .build()
            .expect("cannot start render threads");
        Arc::new(pool)
    });
    Arc::clone(pool)
}
