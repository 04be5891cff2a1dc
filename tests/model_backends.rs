//! A training step on every backend of this build against the scalar reference
//! (`glassgpt::model::check`: two training steps of a GPT whose products are above the threaded
//! backend's split threshold and whose sequences span three causal panels, T and V ending in
//! partial micro-tiles): the same losses, gradients and updates to float tolerance. The threaded backend runs in pools of two and three threads built here, whatever
//! the machine's core count, and so does the data-parallel sharded step that the Train page and
//! `glassgpt train` run on threads.
#![cfg(not(target_arch = "wasm32"))]

use glassgpt::kernels::{self, Kernels};
use glassgpt::model::check::{against_scalar, Agreement};

fn check(what: &str, a: Agreement) {
    println!("{what}: {a:?}");
    for (name, err, tol) in a.rows() {
        assert!(err <= tol, "{what}: {name} off the scalar reference by {err:.2e} (relative; tolerance {tol:.0e})");
    }
}

#[test]
fn a_training_step_on_every_backend_matches_scalar() {
    let mut checked = Vec::new();
    for k in kernels::all() {
        match k.name() {
            "scalar" => continue,
            #[cfg(feature = "threads")]
            "threads" => {
                for threads in [2, 3] {
                    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                    let a = pool.install(|| {
                        assert_eq!(k.threads(), threads);
                        against_scalar(k, 1).unwrap()
                    });
                    check(&format!("threads ({threads} in the pool)"), a);
                    // The sharded step as TrainRun runs it on threads: each shard on the
                    // single-thread SIMD kernels, the shards across the pool.
                    let simd = kernels::by_name("simd").unwrap();
                    check(&format!("two shards on a {threads}-thread pool"), pool.install(|| against_scalar(simd, 2).unwrap()));
                }
            }
            _ => check(k.name(), against_scalar(k, 1).unwrap()),
        }
        checked.push(k.name());
    }
    // Two shards in turn on one thread: the averaging of the shards' gradients alone.
    check("two shards, SIMD", against_scalar(kernels::by_name("simd").unwrap(), 2).unwrap());
    let expected: &[&str] = if cfg!(feature = "threads") { &["simd", "threads"] } else { &["simd"] };
    assert_eq!(checked, expected, "every backend of this build was checked");
}

/// The reference is deterministic: scalar against itself is exact in every result (whether a
/// wrong result fails the check is `model::check`'s own tests).
#[test]
fn scalar_against_itself_is_exact() {
    let a = against_scalar(&glassgpt::kernels::scalar::Scalar, 1).unwrap();
    assert_eq!(a, Agreement::default(), "scalar against itself is exact");
    assert!(a.agrees());
}
