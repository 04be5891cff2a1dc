// LayerNorm backward, the input gradient, one workgroup per row (llm.c's layernorm_backward):
//   norm = (x - mean) · rstd,  dnorm = dout · weight
//   dinp (+)= (dnorm - mean(dnorm) - norm · mean(dnorm · norm)) · rstd
// `accumulate` 1 adds into dinp (the residual stream's gradient), 0 overwrites it. The weight and
// bias gradients are layernorm_backward_params.wgsl's.

struct Params {
    rows: u32,
    c: u32,
    dout_off: u32,
    inp_off: u32,
    dinp_off: u32,
    w_off: u32,      // weight (C) in the parameter buffer
    stat_off: u32,   // into mean and rstd
    accumulate: u32,
}

@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read> inp: array<f32>;
@group(0) @binding(3) var<storage, read> params: array<f32>;
@group(0) @binding(4) var<storage, read> mean: array<f32>;
@group(0) @binding(5) var<storage, read> rstd: array<f32>;
@group(0) @binding(6) var<storage, read_write> dinp: array<f32>;

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
    let m = mean[u.stat_off + row];
    let r = rstd[u.stat_off + row];
    let x = u.inp_off + row * u.c;
    let d = u.dout_off + row * u.c;
    var s1 = 0.0;
    var s2 = 0.0;
    for (var i = lid; i < u.c; i += WG) {
        let norm = (inp[x + i] - m) * r;
        let dnorm = dout[d + i] * params[u.w_off + i];
        s1 += dnorm;
        s2 += dnorm * norm;
    }
    let dnorm_mean = workgroup_sum(lid, s1) / f32(u.c);
    let dnorm_norm_mean = workgroup_sum(lid, s2) / f32(u.c);
    let o = u.dinp_off + row * u.c;
    for (var i = lid; i < u.c; i += WG) {
        let norm = (inp[x + i] - m) * r;
        let dnorm = dout[d + i] * params[u.w_off + i];
        let g = (dnorm - dnorm_mean - norm * dnorm_norm_mean) * r;
        if (u.accumulate != 0u) {
            dinp[o + i] += g;
        } else {
            dinp[o + i] = g;
        }
    }
}
