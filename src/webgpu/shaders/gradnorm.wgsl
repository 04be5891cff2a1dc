// The global L2 norm of the gradients and the clipping factor, in two dispatches (`stage`):
//   stage 0: workgroup w sums the squares of its strided share of grads into partial[w];
//   stage 1: one workgroup adds the partials: out[0] = norm,
//            out[1] = max_norm / (norm + 1e-6) when 0 < max_norm < norm, else 1 (PyTorch's clip_grad_norm_).
// AdamW (adamw.wgsl) multiplies each gradient by out[1]. max_norm is hyper[7] (see adamw.wgsl).

struct Params {
    n: u32,
    stage: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> grads: array<f32>;
@group(0) @binding(2) var<storage, read_write> partial: array<f32>;  // (PARTS)
@group(0) @binding(3) var<storage, read_write> out: array<f32>;      // (2)
@group(0) @binding(4) var<storage, read> hyper: array<f32>;          // (8)

const WG: u32 = 256u;
const PARTS: u32 = 64u;
var<workgroup> red: array<f32, 256>;

fn workgroup_sum(lid: u32, v: f32) -> f32 {
    red[lid] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if (lid < s) {
            red[lid] += red[lid + s];
        }
        workgroupBarrier();
    }
    let r = red[0];
    workgroupBarrier();
    return r;
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    if (u.stage == 0u) {
        var s = 0.0;
        for (var i = wid.x * WG + lid; i < u.n; i += PARTS * WG) {
            let g = grads[i];
            s += g * g;
        }
        let total = workgroup_sum(lid, s);
        if (lid == 0u) {
            partial[wid.x] = total;
        }
    } else {
        var s = 0.0;
        if (lid < PARTS) {
            s = partial[lid];
        }
        let norm = sqrt(workgroup_sum(lid, s));
        if (lid == 0u) {
            let max_norm = hyper[7];
            out[0] = norm;
            out[1] = select(1.0, max_norm / (norm + 1e-6), max_norm > 0.0 && norm > max_norm);
        }
    }
}
