// Token + position embedding: out (B, T, C) = wte[tokens[b, t]] + wpe[t], one invocation per
// element. Token ids are checked against V on the CPU before upload. Dispatches are 2D when the
// element count needs more than 65535 workgroups; the linear index is rebuilt from num_workgroups.

struct Params {
    n: u32,       // B * T * C
    c: u32,
    t: u32,
    wte_off: u32, // (V, C) in params
    wpe_off: u32, // (block_size, C) in params
    out_off: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> tokens: array<u32>;       // (B, T)
@group(0) @binding(2) var<storage, read> params: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;    // (B, T, C)

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
    let bt = idx / u.c;
    let ch = idx % u.c;
    let pos = bt % u.t;
    let tok = tokens[bt];
    out[u.out_off + idx] = params[u.wte_off + tok * u.c + ch] + params[u.wpe_off + pos * u.c + ch];
}
