// Token + position embedding backward, one invocation per parameter (no atomics):
//   dwte[v, c] += Σ_{(b, t): tokens[b, t] = v} dout[b, t, c]      idx < V·C
//   dwpe[t, c] += Σ_b dout[b, t, c]                               V·C <= idx < V·C + T·C (learned wpe)

struct Params {
    v: u32,
    c: u32,
    t: u32,
    b: u32,
    dout_off: u32,
    wte_off: u32,  // into grads
    wpe_off: u32,  // into grads
    has_wpe: u32,  // 0 for the fixed sinusoidal table
}

@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> tokens: array<u32>;     // (B, T)
@group(0) @binding(2) var<storage, read> dout: array<f32>;       // (B, T, C)
@group(0) @binding(3) var<storage, read_write> grads: array<f32>;

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
    let nwte = u.v * u.c;
    if (idx < nwte) {
        let tok = idx / u.c;
        let ch = idx % u.c;
        var acc = 0.0;
        for (var bt = 0u; bt < u.b * u.t; bt++) {
            if (tokens[bt] == tok) {
                acc += dout[u.dout_off + bt * u.c + ch];
            }
        }
        grads[u.wte_off + idx] += acc;
    } else if (u.has_wpe != 0u && idx < nwte + u.t * u.c) {
        let j = idx - nwte;
        let pos = j / u.c;
        let ch = j % u.c;
        var acc = 0.0;
        for (var bi = 0u; bi < u.b; bi++) {
            acc += dout[u.dout_off + (bi * u.t + pos) * u.c + ch];
        }
        grads[u.wpe_off + j] += acc;
    }
}
