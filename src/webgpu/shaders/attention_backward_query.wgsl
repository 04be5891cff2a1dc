// Causal attention backward, part 1 of 2: one workgroup per query row (b, h, t).
//   datt[t2] = dout[b, t, h, :] · v[b, t2, h, :]                         t2 <= t
//   dpre[t2] = att[t2] (datt[t2] - Σ_j att[j] datt[j]) / √HS              (softmax backward, scaled)
//   dq[b, t, h, :] = Σ_{t2 <= t} dpre[t2] k[b, t2, h, :]
// dpre (B, NH, T, T) is kept for part 2 (attention_backward_key.wgsl), which sums over queries
// for each key; splitting by query here and by key there leaves no two threads writing one float.
// The q columns of dqkv are overwritten; part 2 writes the k and v columns.

struct Params {
    b: u32,
    t: u32,
    c: u32,
    nh: u32,
    qkv_off: u32,
    att_off: u32,
    dout_off: u32,
    dqkv_off: u32,
}

@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;          // (B, T, 3C)
@group(0) @binding(2) var<storage, read> att: array<f32>;          // (B, NH, T, T)
@group(0) @binding(3) var<storage, read> dout: array<f32>;         // (B, T, C)
@group(0) @binding(4) var<storage, read_write> dpre: array<f32>;   // (B, NH, T, T), one layer
@group(0) @binding(5) var<storage, read_write> dqkv: array<f32>;   // (B, T, 3C)

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let row = wid.y * nwg.x + wid.x; // ((b * NH) + h) * T + t
    if (row >= u.b * u.nh * u.t) {
        return;
    }
    let t = row % u.t;
    let h = (row / u.t) % u.nh;
    let b = row / (u.t * u.nh);
    let hs = u.c / u.nh;
    let c3 = 3u * u.c;
    let scale = 1.0 / sqrt(f32(hs));
    let d_base = u.dout_off + (b * u.t + t) * u.c + h * hs;
    let att_base = u.att_off + row * u.t;
    let pre_base = row * u.t;

    // datt, staged in dpre, and Σ att · datt.
    var weighted = 0.0;
    for (var t2 = lid; t2 <= t; t2 += WG) {
        let v_base = u.qkv_off + (b * u.t + t2) * c3 + 2u * u.c + h * hs;
        var s = 0.0;
        for (var d = 0u; d < hs; d++) {
            s += dout[d_base + d] * qkv[v_base + d];
        }
        dpre[pre_base + t2] = s;
        weighted += att[att_base + t2] * s;
    }
    weighted = workgroup_sum(lid, weighted);
    for (var t2 = lid; t2 < u.t; t2 += WG) {
        if (t2 <= t) {
            dpre[pre_base + t2] = att[att_base + t2] * (dpre[pre_base + t2] - weighted) * scale;
        } else {
            dpre[pre_base + t2] = 0.0;
        }
    }
    storageBarrier();

    // dq, one thread per head channel.
    for (var d = lid; d < hs; d += WG) {
        var acc = 0.0;
        for (var t2 = 0u; t2 <= t; t2++) {
            acc += dpre[pre_base + t2] * qkv[u.qkv_off + (b * u.t + t2) * c3 + u.c + h * hs + d];
        }
        dqkv[u.dqkv_off + (b * u.t + t) * c3 + h * hs + d] = acc;
    }
}
