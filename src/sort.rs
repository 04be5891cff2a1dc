//! One small in-place sort for the few sorts the wasm builds run (the sampler's candidates, a
//! checkpoint's tensor ranges, benchmark timings). The standard library's sorts are faster on
//! large inputs but each instantiation adds kilobytes of wasm (pattern-defeating quicksort,
//! driftsort); these inputs hold tens to thousands of elements, where a heap sort's
//! O(n log n) with no allocation is all that is needed.

use std::cmp::Ordering;

/// Sorts `v` by `cmp`, ascending (not stable: equal elements may change order; every use here
/// orders totally).
pub fn sort_by<T>(v: &mut [T], mut cmp: impl FnMut(&T, &T) -> Ordering) {
    let n = v.len();
    let mut sift_down = |v: &mut [T], mut node: usize, end: usize| loop {
        let mut child = 2 * node + 1;
        if child >= end {
            break;
        }
        if child + 1 < end && cmp(&v[child], &v[child + 1]) == Ordering::Less {
            child += 1;
        }
        if cmp(&v[node], &v[child]) != Ordering::Less {
            break;
        }
        v.swap(node, child);
        node = child;
    };
    for node in (0..n / 2).rev() {
        sift_down(v, node, n);
    }
    for end in (1..n).rev() {
        v.swap(0, end);
        sift_down(v, 0, end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn sorts_as_the_standard_library_does() {
        let mut rng = Rng::new(7);
        for n in [0, 1, 2, 3, 4, 5, 8, 31, 64, 65, 100, 1000] {
            for range in [2, 10, 1 << 20] {
                let v: Vec<(u32, u32)> = (0..n).map(|i| ((rng.next_u64() % range) as u32, i)).collect();
                let mut ours = v.clone();
                sort_by(&mut ours, |a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
                let mut std = v;
                std.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
                assert_eq!(ours, std, "n = {n}, range = {range}");
            }
        }
        let mut f = vec![3.5, f64::NAN, -0.0, 0.0, -1e300, f64::INFINITY, 2.0];
        sort_by(&mut f, f64::total_cmp);
        let mut g = f.clone();
        g.sort_by(f64::total_cmp);
        assert_eq!(format!("{f:?}"), format!("{g:?}"));
    }
}
