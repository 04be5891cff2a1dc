// GELU, the tanh approximation of GPT-2: out = 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))).
// The tanh argument is clamped to ±10 (tanh(10) is 1 in f32): some WGSL backends build tanh from
// exp and return NaN for large arguments.

struct Params {
    n: u32,
    x_off: u32,
    out_off: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

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
    let inner = clamp(GELU_SCALE * (v + 0.044715 * v * v * v), -10.0, 10.0);
    out[u.out_off + idx] = 0.5 * v * (1.0 + tanh(inner));
}
