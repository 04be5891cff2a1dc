// Residual connection: out (N) = x (N) + y (N), one invocation per element.

struct Params {
    n: u32,
    x_off: u32,
    y_off: u32,
    out_off: u32,
}

@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

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
    out[u.out_off + idx] = x[u.x_off + idx] + y[u.y_off + idx];
}
