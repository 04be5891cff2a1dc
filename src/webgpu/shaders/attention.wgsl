// Causal multi-head self-attention, one workgroup per query row (b, h, t):
//   att[b, h, t, t2] = softmax_{t2 <= t}(q·k / √HS), and 0 for t2 > t    (B, NH, T, T)
//   out[b, t, h, :]  = Σ_{t2 <= t} att[b, h, t, t2] v[b, t2, h, :]       (B, T, C)
// q, k, v are the three C-wide thirds of qkv (B, T, 3C), head h at columns h*HS .. (h+1)*HS.
// The probabilities are written to `att` (the page shows them, the backward pass needs them);
// the row is staged in `att` itself, with a storage barrier before other threads read it.

struct Params {
    b: u32,
    t: u32,
    c: u32,
    nh: u32,
    qkv_off: u32,
    att_off: u32,
    out_off: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;          // (B, T, 3C)
@group(0) @binding(2) var<storage, read_write> att: array<f32>;    // (B, NH, T, T)
@group(0) @binding(3) var<storage, read_write> out: array<f32>;    // (B, T, C)

const NEG_MAX: f32 = -3.0e38; // below any score; near -FLT_MAX without overflowing its parse

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
    let q_base = u.qkv_off + (b * u.t + t) * c3 + h * hs;
    let att_base = u.att_off + row * u.t;

    // Scores q·k, and the row maximum for a stable softmax.
    var mx = NEG_MAX;
    for (var t2 = lid; t2 <= t; t2 += WG) {
        let k_base = u.qkv_off + (b * u.t + t2) * c3 + u.c + h * hs;
        var s = 0.0;
        for (var d = 0u; d < hs; d++) {
            s += qkv[q_base + d] * qkv[k_base + d];
        }
        s *= scale;
        att[att_base + t2] = s;
        mx = max(mx, s);
    }
    mx = workgroup_max(lid, mx);

    var sum = 0.0;
    for (var t2 = lid; t2 <= t; t2 += WG) {
        let e = exp(att[att_base + t2] - mx);
        att[att_base + t2] = e;
        sum += e;
    }
    let inv = 1.0 / workgroup_sum(lid, sum);
    for (var t2 = lid; t2 < u.t; t2 += WG) {
        if (t2 <= t) {
            att[att_base + t2] *= inv;
        } else {
            att[att_base + t2] = 0.0;
        }
    }
    storageBarrier();

    // Weighted sum of the values, one thread per head channel.
    for (var d = lid; d < hs; d += WG) {
        var acc = 0.0;
        for (var t2 = 0u; t2 <= t; t2++) {
            acc += att[att_base + t2] * qkv[u.qkv_off + (b * u.t + t2) * c3 + 2u * u.c + h * hs + d];
        }
        out[u.out_off + (b * u.t + t) * u.c + h * hs + d] = acc;
    }
}
