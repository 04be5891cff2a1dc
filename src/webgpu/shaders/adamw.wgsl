// AdamW (llm.c's gpt2_update) over one parameter tensor, one invocation per element:
//   g = grad · clip;  m = β1 m + (1 - β1) g;  v = β2 v + (1 - β2) g²
//   p -= lr (m / c1 / (sqrt(v / c2) + eps) + wd · p)     wd only on matrices (`decay`)
// The step's hyperparameters change every step, so they come from a small storage buffer written
// before each submit (the uniforms are recorded once): hyper = [lr, β1, β2, eps, wd, c1, c2, max_norm],
// c1 = 1 - β1^step, c2 = 1 - β2^step. The clipping factor is gradnorm.wgsl's out[1].

struct Params {
    n: u32,
    off: u32,
    decay: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read_write> params: array<f32>;
@group(0) @binding(2) var<storage, read> grads: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;
@group(0) @binding(5) var<storage, read> hyper: array<f32>;  // (8)
@group(0) @binding(6) var<storage, read> norm: array<f32>;   // (2): norm, clip factor

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
    let i = u.off + idx;
    let lr = hyper[0];
    let beta1 = hyper[1];
    let beta2 = hyper[2];
    let eps = hyper[3];
    let wd = select(0.0, hyper[4], u.decay != 0u);
    let g = grads[i] * norm[1];
    let mi = beta1 * m[i] + (1.0 - beta1) * g;
    let vi = beta2 * v[i] + (1.0 - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    let m_hat = mi / hyper[5];
    let v_hat = vi / hyper[6];
    params[i] -= lr * (m_hat / (sqrt(v_hat) + eps) + wd * params[i]);
}
