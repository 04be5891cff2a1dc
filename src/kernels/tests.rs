//! Every fast backend, and every micro-kernel this machine runs, against the scalar reference
//! on shapes chosen to hit each edge of the tiling: 1×1×1, non-multiples of every tile size,
//! K across a KC block boundary, N across NC, M across MC, the M ≤ 8 dot-product path, and
//! empty dimensions. Backward products accumulate into buffers that already hold values, and
//! the forward must overwrite an output pre-filled with NaN.

use super::bench::fill_uniform;
use super::gemm::{self, MatRef};
use super::micro::{self, MicroKernel};
use super::scalar::Scalar;
use super::{simd, Kernels};

/// (M, K, N) shapes.
const SHAPES: &[(usize, usize, usize)] = &[
    (1, 1, 1),
    (7, 13, 5),
    (65, 129, 33),
    (1, 300, 70),    // generation: one row, dot-product path with a K tail and an N tail
    (1, 64, 257),    // one row, many columns
    (1, 1030, 1030), // one row, enough work for the threaded column split
    (5, 700, 301),   // a few rows, threaded column split row by row
    (3, 257, 301),   // a few rows: still the dot-product path
    (8, 40, 9),      // the largest dot-product case
    (9, 3, 2),       // just above the dot-product path, smaller than every tile
    (12, 16, 16),    // whole tiles: 6x8 (SSE2), 6x16 (AVX2), 4x8 (wasm, portable)
    (14, 32, 32),    // exactly one 14x32 tile (AVX-512)
    (13, 300, 37),   // K crosses a KC = 256 block
    (130, 70, 45),   // M crosses an MC block
    (9, 5, 1100),    // N crosses an NC = 1024 block
    (130, 513, 67),  // all three at once, above the threaded cut-off (2^20 multiply-adds)
    (700, 40, 65),   // threaded, N = 65 like the head: ragged row blocks of dweight
    (64, 128, 192),  // a small model layer
    (0, 4, 3),
    (4, 0, 3),
    (7, 0, 9),
    (3, 4, 0),
];

/// Float tolerance for a sum of `inner` products of values in [-1, 1]: rounding grows with the
/// length of the sum (and blocked kernels add in a different order than the reference).
fn tol(inner: usize) -> f32 {
    1e-6 * (inner as f32 + 4.0)
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

fn random(len: usize, seed: u64) -> Vec<f32> {
    let mut v = vec![0.0; len];
    fill_uniform(&mut v, seed);
    v
}

/// A forward implementation under test: (out, inp, weight, bias, m, k, n).
type Forward<'a> = &'a dyn Fn(&mut [f32], &[f32], &[f32], Option<&[f32]>, usize, usize, usize);
/// A backward implementation under test: (dinp, dweight, dbias, dout, inp, weight, m, k, n).
type Backward<'a> = &'a dyn Fn(&mut [f32], &mut [f32], Option<&mut [f32]>, &[f32], &[f32], &[f32], usize, usize, usize);

/// Forward with and without bias, on every shape, against [`Scalar`].
fn check_forward(what: &str, fwd: Forward) {
    for &(m, k, n) in SHAPES {
        let inp = random(m * k, 1); // (M, K)
        let weight = random(n * k, 2); // (N, K)
        let bias = random(n, 3); // (N)
        for with_bias in [true, false] {
            let b = with_bias.then_some(&bias[..]);
            let mut want = vec![0.0; m * n]; // (M, N)
            Scalar.matmul_forward(&mut want, &inp, &weight, b, m, k, n);
            let mut got = vec![f32::NAN; m * n]; // must be overwritten, NaN included
            fwd(&mut got, &inp, &weight, b, m, k, n);
            let d = max_abs_diff(&got, &want);
            assert!(d <= tol(k), "{what} forward {m}x{k}x{n} bias={with_bias}: max abs diff {d:e} > {:e}", tol(k));
        }
    }
}

/// Backward (dinp, dweight, dbias) accumulated onto non-zero gradients, on every shape.
fn check_backward(what: &str, bwd: Backward) {
    for &(m, k, n) in SHAPES {
        let inp = random(m * k, 1); // (M, K)
        let weight = random(n * k, 2); // (N, K)
        let dout = random(m * n, 4); // (M, N)
        let (dinp0, dweight0, dbias0) = (random(m * k, 5), random(n * k, 6), random(n, 7));
        let (mut want_dinp, mut want_dw, mut want_db) = (dinp0.clone(), dweight0.clone(), dbias0.clone());
        Scalar.matmul_backward(&mut want_dinp, &mut want_dw, Some(&mut want_db), &dout, &inp, &weight, m, k, n);
        let (mut dinp, mut dw, mut db) = (dinp0.clone(), dweight0.clone(), dbias0.clone());
        bwd(&mut dinp, &mut dw, Some(&mut db), &dout, &inp, &weight, m, k, n);
        let d = max_abs_diff(&dinp, &want_dinp);
        assert!(d <= tol(n), "{what} dinp {m}x{k}x{n}: max abs diff {d:e}");
        let d = max_abs_diff(&dw, &want_dw);
        assert!(d <= tol(m), "{what} dweight {m}x{k}x{n}: max abs diff {d:e}");
        let d = max_abs_diff(&db, &want_db);
        assert!(d <= tol(m), "{what} dbias {m}x{k}x{n}: max abs diff {d:e}");
        // Without dbias, dinp and dweight are unchanged.
        let (mut dinp2, mut dw2) = (dinp0.clone(), dweight0.clone());
        bwd(&mut dinp2, &mut dw2, None, &dout, &inp, &weight, m, k, n);
        assert_eq!((dinp2, dw2), (dinp, dw), "{what} backward {m}x{k}x{n}: dbias changed dinp/dweight");
    }
}

fn check_backend(kernels: &dyn Kernels) {
    check_forward(kernels.name(), &|o, x, w, b, m, k, n| kernels.matmul_forward(o, x, w, b, m, k, n));
    check_backward(kernels.name(), &|dx, dw, db, g, x, w, m, k, n| kernels.matmul_backward(dx, dw, db, g, x, w, m, k, n));
}

fn check_micro_kernel(uk: &'static MicroKernel) {
    check_forward(uk.isa, &|o, x, w, b, m, k, n| simd::forward(uk, o, x, w, b, m, k, n));
    check_backward(uk.isa, &|dx, dw, db, g, x, w, m, k, n| {
        simd::backward_dinp(uk, dx, g, w, m, k, n);
        simd::backward_dweight(uk, dw, g, x, m, k, n);
        if let Some(db) = db {
            gemm::add_bias_grad(db, g, n);
        }
    });
}

#[test]
fn simd_matches_scalar() {
    check_backend(&simd::Simd);
}

/// The backend only runs the micro-kernel `select` picks; check the others this CPU can run.
#[test]
fn every_micro_kernel_matches_scalar() {
    for uk in micro::all_runnable() {
        check_micro_kernel(uk);
    }
}

#[cfg(feature = "threads")]
#[test]
fn threads_match_scalar_with_uneven_pools() {
    use super::threads::Threads;
    check_backend(&Threads); // the global pool (one thread per core)
    for n_threads in [3, 4] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(n_threads).build().unwrap();
        pool.install(|| {
            assert_eq!(Threads.n_threads(), n_threads);
            check_backend(&Threads);
        });
    }
}

/// [`super::on_pool`] on the threaded backend: the work runs on a pool worker (the pool has more
/// than one thread), gives the single-thread backend's bits, and a panic inside it reaches the
/// caller and leaves the pool usable (the waiting workers are released, not left spinning).
/// Checked on a thread of its own with a deadline, so a stuck pool fails the test, not CI.
#[cfg(feature = "threads")]
#[test]
fn on_pool_runs_on_a_worker_and_survives_a_panic() {
    use super::threads::Threads;
    with_deadline(|| {
        // Large enough (> PAR_MIN_MACS) that the threaded backend splits it.
        let (m, k, n) = (130, 129, 67);
        let (inp, w, b) = (random(m * k, 1), random(n * k, 2), random(n, 3));
        let (mut ours, mut want) = (vec![0.0; m * n], vec![0.0; m * n]);
        super::simd::Simd.matmul_forward(&mut want, &inp, &w, Some(&b), m, k, n);
        let many = rayon::current_num_threads() > 1;
        let on_worker = super::on_pool(&Threads, || {
            Threads.matmul_forward(&mut ours, &inp, &w, Some(&b), m, k, n);
            rayon::current_thread_index().is_some()
        });
        assert_eq!(on_worker, many, "on a worker exactly when the pool has several threads");
        assert!(ours == want, "threaded forward inside on_pool differs from the single-thread one");
        // One row, as generation runs it: split by columns on the team, same bits.
        let (k1, n1) = (128, 387);
        let (x, w1, b1) = (random(k1, 4), random(n1 * k1, 5), random(n1, 6));
        let (mut ours, mut want) = (vec![0.0; n1], vec![0.0; n1]);
        super::simd::Simd.matmul_forward(&mut want, &x, &w1, Some(&b1), 1, k1, n1);
        super::on_pool(&Threads, || Threads.matmul_forward(&mut ours, &x, &w1, Some(&b1), 1, k1, n1));
        assert!(ours == want, "threaded 1-row forward inside on_pool differs from the single-thread one");
        let caught = std::panic::catch_unwind(|| super::on_pool(&Threads, || -> u32 { panic!("inside the pool") }));
        assert!(caught.is_err(), "the panic reaches the caller");
        assert_eq!(super::on_pool(&Threads, || 7), 7);
    });
}

/// Runs `check` on a thread of its own and fails if it does not finish within a minute (a stuck
/// pool fails the test instead of hanging CI).
#[cfg(feature = "threads")]
fn with_deadline(check: impl FnOnce() + Send + 'static) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        check();
        tx.send(()).unwrap();
    });
    match rx.recv_timeout(std::time::Duration::from_secs(60)) {
        Ok(()) => {}
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => panic!("did not finish within 60 s: the pool is stuck"),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => panic!("the check failed (its panic is printed above)"),
    }
}

/// The hot team behind `install`: every index of every loop runs exactly once, loops nested in
/// a task run in order, the helpers really run tasks alongside the leader (two tasks that wait
/// for each other to start), also after they went to sleep, and a task that panics reaches the
/// caller, stops the leader after its loop (also when it failed on a helper), and leaves the pool
/// usable.
#[cfg(feature = "threads")]
#[test]
fn the_team_runs_each_index_once_and_in_parallel() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use super::threads::Threads;
    with_deadline(|| {
        let sizes: Vec<usize> = (0..300).map(|r| 1 + r % 37).collect();
        let offsets: Vec<usize> = sizes.iter().scan(0, |acc, &n| { let o = *acc; *acc += n; Some(o) }).collect();
        let counts: Vec<AtomicUsize> = (0..sizes.iter().sum::<usize>()).map(|_| AtomicUsize::new(0)).collect();
        let nested = AtomicUsize::new(0);
        super::on_pool(&Threads, || {
            for (&n, &o) in sizes.iter().zip(&offsets) {
                super::par_for(n, &|i| {
                    counts[o + i].fetch_add(1, Ordering::Relaxed);
                    if i == 0 {
                        super::par_for(3, &|_| { nested.fetch_add(1, Ordering::Relaxed); });
                    }
                });
            }
        });
        assert!(counts.iter().all(|c| c.load(Ordering::Relaxed) == 1), "an index ran twice or never");
        assert_eq!(nested.load(Ordering::Relaxed), 3 * sizes.len());

        if rayon::current_num_threads() > 1 {
            // Each of two tasks waits (up to 10 s) until both have started: only true parallelism
            // lets both see the other. Also after the leader pauses for longer than the team's
            // spin, when the helpers have gone to sleep and must be woken for the next loop, and
            // with a task that outlasts the spin, when the leader sleeps until it is done.
            let rendezvous = |pause_ms: u64| {
                std::thread::sleep(std::time::Duration::from_millis(pause_ms));
                let started = AtomicUsize::new(0);
                let saw_both = AtomicUsize::new(0);
                super::par_for(2, &|i| {
                    if meet(&started) {
                        saw_both.fetch_add(1, Ordering::SeqCst);
                    }
                    if i == 1 {
                        std::thread::sleep(std::time::Duration::from_millis(pause_ms));
                    }
                });
                saw_both.load(Ordering::SeqCst)
            };
            let seen: Vec<usize> = super::on_pool(&Threads, || [0, 0, 20, 1, 20, 0].map(rendezvous).to_vec());
            assert_eq!(seen, [2; 6], "pauses (ms) [0, 0, 20, 1, 20, 0]: the two tasks did not run at the same time");
        }

        // Every task fails, after a pause long enough for the helpers to have claimed some: a
        // panic on a helper must not leave the leader waiting for it.
        let caught = std::panic::catch_unwind(|| {
            super::on_pool(&Threads, || {
                super::par_for(16, &|i| {
                    std::thread::sleep(std::time::Duration::from_millis(2));
                    panic!("task {i} fails")
                })
            })
        });
        assert!(caught.is_err(), "a task's panic reaches the caller");
        assert_eq!(super::on_pool(&Threads, || 7), 7);

        if rayon::current_num_threads() > 1 {
            // Only the task on a helper fails (both run at once, as above): the leader must stop
            // after the loop, not carry on with an index that never ran.
            let carried_on = std::sync::atomic::AtomicBool::new(false);
            let caught = std::panic::catch_unwind(|| {
                super::on_pool(&Threads, || {
                    let leader = std::thread::current().id();
                    let started = AtomicUsize::new(0);
                    super::par_for(2, &|_| {
                        assert!(meet(&started), "the two tasks did not run at the same time");
                        if std::thread::current().id() != leader {
                            panic!("the helper's task fails");
                        }
                    });
                    carried_on.store(true, Ordering::SeqCst);
                })
            });
            assert!(caught.is_err(), "the helper's panic reaches the caller");
            assert!(!carried_on.load(Ordering::SeqCst), "the leader went on after a loop with a failed task");
            assert_eq!(super::on_pool(&Threads, || 7), 7);
        }
    });
}

/// One of two tasks arriving: counts itself in `started`, then waits (up to 10 s) for the other.
/// True when both met, which only tasks running at the same time can.
#[cfg(feature = "threads")]
fn meet(started: &std::sync::atomic::AtomicUsize) -> bool {
    use std::sync::atomic::Ordering;
    started.fetch_add(1, Ordering::SeqCst);
    let t0 = std::time::Instant::now();
    while started.load(Ordering::SeqCst) < 2 && t0.elapsed().as_secs() < 10 {
        std::hint::spin_loop();
    }
    started.load(Ordering::SeqCst) == 2
}

/// The GEMM through arbitrary strides, into a C whose rows are longer than N: only the
/// (m, n) block changes, by exactly A·B.
#[test]
fn gemm_respects_strides_and_ldc() {
    let (m, n, k, ldc) = (11, 19, 23, 25);
    let a_store = random(m * 2 * k, 8); // A (m, k) at rs = 2k, cs = 2 (every other float)
    let b_store = random(k * n, 9); // B (k, n) stored transposed: B[p][j] at j*k + p
    let a = MatRef { data: &a_store, rs: 2 * k, cs: 2 };
    let b = MatRef::transposed(&b_store, k);
    let c0 = random(m * ldc, 10);
    let mut want = c0.clone();
    for i in 0..m {
        for j in 0..n {
            want[i * ldc + j] += (0..k).map(|p| a_store[i * 2 * k + 2 * p] * b_store[j * k + p]).sum::<f32>();
        }
    }
    for uk in micro::all_runnable() {
        let mut c = c0.clone();
        gemm::gemm(uk, m, n, k, a, b, &mut c, ldc);
        let d = max_abs_diff(&c, &want);
        assert!(d <= tol(k), "{}: max abs diff {d:e}", uk.isa);
        for i in 0..m {
            assert_eq!(&c[i * ldc + n..(i + 1) * ldc], &c0[i * ldc + n..(i + 1) * ldc], "{}: row {i} padding changed", uk.isa);
        }
    }
}

/// `MicroKernel::row` is one row of the GEMM, bit for bit (the KV-cached attention depends on
/// it), and near the f64 product: with k past one KC block (the blocks' sums are added as the
/// GEMM adds into C), with n not a multiple of the register width (scalar tail) and with B
/// read through a row stride wider than n. Every micro-kernel this machine runs.
#[test]
fn micro_kernel_row_equals_the_gemm_row() {
    for (m, n, k, ldb) in [(5, 37, 300, 41), (3, 32, 32, 128), (1, 1, 1, 1), (9, 8, 129, 8), (2, 70, 513, 70)] {
        let a_store = random(m * k, 21); // A (m, k) row-major
        let b_store = random(k * ldb, 22); // B (k, n) with row stride ldb
        let (a, b) = (MatRef::rows(&a_store, k), MatRef { data: &b_store, rs: ldb, cs: 1 });
        for uk in micro::all_runnable() {
            let mut c = vec![0.0; m * n];
            gemm::gemm(uk, m, n, k, a, b, &mut c, n);
            for i in 0..m {
                let mut row = vec![f32::NAN; n];
                // SAFETY: A's row i holds k floats; B is readable at p·ldb + j for p < k, j < n ≤ ldb.
                unsafe { (uk.row)(k, a_store[i * k..].as_ptr(), b_store.as_ptr(), ldb, row.as_mut_ptr(), n) };
                for j in 0..n {
                    assert_eq!(row[j].to_bits(), c[i * n + j].to_bits(), "{} m{m} n{n} k{k}: row {i} col {j}: {} vs the GEMM's {}", uk.isa, row[j], c[i * n + j]);
                    let want: f64 = (0..k).map(|p| a_store[i * k + p] as f64 * b_store[p * ldb + j] as f64).sum();
                    assert!((row[j] as f64 - want).abs() <= tol(k) as f64, "{} m{m} n{n} k{k}: [{i}, {j}] {} vs f64 {want}", uk.isa, row[j]);
                }
            }
        }
    }
}

/// The KV-cached step's matrix-vector product (`gemm::matvec_cols`, behind `Kernels::matvec`):
/// for every micro-kernel this machine runs, reading the packed layout gives the plain rows'
/// bits, a column's bits do not depend on where the column ranges start or end (the threaded
/// backend and the per-head tasks split them anywhere), the whole row equals the M = 1 forward
/// (so cached and batched generation agree), and every column is within tolerance of an f64 dot
/// product; K with and without a tail after the micro-kernel's step, N with a tail after the
/// blocks of four.
#[test]
fn matvec_packed_and_split_gives_the_forward_bits() {
    for (n, k) in [(1, 1), (4, 8), (7, 13), (65, 129), (13, 70), (9, 300), (384, 128), (6, 0), (0, 5)] {
        let (w, x, bias) = (random(n * k, 31), random(k, 32), random(n, 33));
        for uk in micro::all_runnable() {
            let mut packed = vec![f32::NAN; n * k];
            gemm::pack_matvec(&mut packed, &w, n, k, uk.matvec_step);
            let mut whole = vec![f32::NAN; n];
            simd::forward(uk, &mut whole, &x, &w, Some(&bias), 1, k, n);
            for (j, &got) in whole.iter().enumerate() {
                let want: f64 = bias[j] as f64 + (0..k).map(|p| x[p] as f64 * w[j * k + p] as f64).sum::<f64>();
                assert!((got as f64 - want).abs() <= tol(k) as f64, "{} n{n} k{k}: column {j} {got} vs f64 {want}", uk.isa);
            }
            // Splits at every third column, and at 5, 6, 7, ... (a new width each time).
            let thirds: Vec<usize> = (0..n).step_by(3).chain([n]).collect();
            let growing: Vec<usize> = std::iter::successors(Some(0), |&j| Some(j + 5 + j % 7)).take_while(|&j| j < n).chain([n]).collect();
            for cuts in [vec![0, n], thirds, growing] {
                for wp in [None, Some(&packed[..])] {
                    let mut out = vec![f32::NAN; n];
                    for c in cuts.windows(2) {
                        gemm::matvec_cols(uk, &mut out[c[0]..c[1]], &x, &w, wp, Some(&bias), c[0], k);
                    }
                    for j in 0..n {
                        assert_eq!(out[j].to_bits(), whole[j].to_bits(), "{} n{n} k{k} packed {}: column {j} {} vs {}", uk.isa, wp.is_some(), out[j], whole[j]);
                    }
                }
            }
        }
    }
}

/// `Kernels::matvec` on every backend: any column range, with or without the model's packed
/// copy, gives the columns of that backend's own M = 1 forward, bit for bit; also on the
/// threaded backend's team (`on_pool`), which splits ranges of enough work among its members.
#[test]
fn every_backend_matvec_equals_its_forward() {
    let (n, k) = (150, 131);
    let (w, x, bias) = (random(n * k, 41), random(k, 42), random(n, 43));
    let mut packed = vec![0.0; n * k];
    super::pack_matvec(&mut packed, &w, n, k);
    for backend in super::all() {
        let mut whole = vec![f32::NAN; n];
        backend.matmul_forward(&mut whole, &x, &w, Some(&bias), 1, k, n);
        for wp in [&[][..], &packed[..]] {
            for (j0, j1) in [(0, n), (3, 9), (17, 150), (1, 146), (64, 65)] {
                let mut out = vec![f32::NAN; j1 - j0];
                super::on_pool(backend, || backend.matvec(&mut out, &x, &w, wp, Some(&bias), j0, k));
                let same = out.iter().zip(&whole[j0..j1]).all(|(a, b)| a.to_bits() == b.to_bits());
                assert!(same, "{}: columns {j0}..{j1} (packed: {}) {:?} vs the forward's {:?}", backend.name(), !wp.is_empty(), out, &whole[j0..j1]);
            }
        }
    }
}

/// A view too short for its shape is a bug the GEMM reports, naming the operand.
#[test]
#[should_panic(expected = "gemm: A (4, 5)")]
fn gemm_rejects_short_operands() {
    let mut c = vec![0.0; 4 * 3];
    gemm::gemm(micro::select(), 4, 3, 5, MatRef::rows(&[0.0; 19], 5), MatRef::rows(&[0.0; 15], 3), &mut c, 3);
}

#[test]
fn names_find_backends() {
    assert_eq!(super::by_name("scalar").unwrap().name(), "scalar");
    let simd_name = super::by_name("simd128").unwrap().name();
    assert_eq!(super::by_name("simd").unwrap().name(), simd_name);
    assert!(super::by_name("cuda").is_none());
    assert_eq!(super::by_name("threads").is_some(), cfg!(feature = "threads"));
    assert_ne!(super::best().name(), "scalar");
    let names: Vec<_> = super::all().iter().map(|k| k.name()).collect();
    assert!(names.contains(&super::best().name()), "{names:?}");
}

