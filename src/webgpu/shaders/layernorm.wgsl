// LayerNorm over the last axis: out (R, C) = (inp - mean) * rstd * weight + bias, one workgroup
// per row; also writes mean (R) and rstd (R) for the backward pass (as llm.c keeps them).
// Two passes over the row (mean, then the centred variance) for accuracy; eps = 1e-5 as GPT-2.

struct Params {
    rows: u32,
    c: u32,
    inp_off: u32,
    out_off: u32,
    w_off: u32,    // weight (C) in the parameter buffer
    b_off: u32,    // bias (C) in the parameter buffer
    stat_off: u32, // into mean and rstd
    _pad: u32,
}

@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read> params: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> mean: array<f32>;
@group(0) @binding(5) var<storage, read_write> rstd: array<f32>;

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let row = wid.y * nwg.x + wid.x;
    if (row >= u.rows) {
        return;
    }
    let base = u.inp_off + row * u.c;
    var s = 0.0;
    for (var i = lid; i < u.c; i += WG) {
        s += inp[base + i];
    }
    let m = workgroup_sum(lid, s) / f32(u.c);
    var v = 0.0;
    for (var i = lid; i < u.c; i += WG) {
        let d = inp[base + i] - m;
        v += d * d;
    }
    let r = inverseSqrt(workgroup_sum(lid, v) / f32(u.c) + 1e-5);
    let obase = u.out_off + row * u.c;
    for (var i = lid; i < u.c; i += WG) {
        out[obase + i] = (inp[base + i] - m) * r * params[u.w_off + i] + params[u.b_off + i];
    }
    if (lid == 0u) {
        mean[u.stat_off + row] = m;
        rstd[u.stat_off + row] = r;
    }
}
