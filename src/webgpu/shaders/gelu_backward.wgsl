// GELU (tanh) backward, in place: d[i] <- d[i] · gelu'(x[i]), with
//   gelu'(x) = 0.5 (1 + tanh(a)) + 0.5 x sech²(a) √(2/π) (1 + 3 · 0.044715 x²),  a = √(2/π)(x + 0.044715 x³)
// (the argument clamped as in gelu.wgsl).

struct Params {
    n: u32,
    x_off: u32,
    d_off: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> d: array<f32>;

const GELU_SCALE: f32 = 0.7978845608028654; // √(2/π)

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
    if (idx >= u.n) {
        return;
    }
    let v = x[u.x_off + idx];
    let th = tanh(clamp(GELU_SCALE * (v + 0.044715 * v * v * v), -10.0, 10.0));
    let sech2 = 1.0 - th * th;
    let slope = 0.5 * (1.0 + th) + 0.5 * v * sech2 * GELU_SCALE * (1.0 + 3.0 * 0.044715 * v * v);
    d[u.d_off + idx] *= slope;
}
