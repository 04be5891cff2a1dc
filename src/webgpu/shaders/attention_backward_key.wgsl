// Causal attention backward, part 2 of 2: one workgroup per key row (b, h, t2), summing over the
// queries t >= t2 that see it:
//   dk[b, t2, h, :] = Σ_t dpre[b, h, t, t2] q[b, t, h, :]
//   dv[b, t2, h, :] = Σ_t att[b, h, t, t2] dout[b, t, h, :]
// Threads 0..HS compute dk's channels, HS..2HS dv's; the k and v columns of dqkv are overwritten.

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
@group(0) @binding(4) var<storage, read> dpre: array<f32>;         // (B, NH, T, T), one layer
@group(0) @binding(5) var<storage, read_write> dqkv: array<f32>;   // (B, T, 3C)

const WG: u32 = 64u;

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let row = wid.y * nwg.x + wid.x; // ((b * NH) + h) * T + t2
    if (row >= u.b * u.nh * u.t) {
        return;
    }
    let t2 = row % u.t;
    let bh = row / u.t; // b * NH + h
    let h = bh % u.nh;
    let b = bh / u.nh;
    let hs = u.c / u.nh;
    let c3 = 3u * u.c;
    for (var j = lid; j < 2u * hs; j += WG) {
        var acc = 0.0;
        if (j < hs) {
            for (var t = t2; t < u.t; t++) {
                acc += dpre[(bh * u.t + t) * u.t + t2] * qkv[u.qkv_off + (b * u.t + t) * c3 + h * hs + j];
            }
            dqkv[u.dqkv_off + (b * u.t + t2) * c3 + u.c + h * hs + j] = acc;
        } else {
            let d = j - hs;
            for (var t = t2; t < u.t; t++) {
                acc += att[u.att_off + (bh * u.t + t) * u.t + t2] * dout[u.dout_off + (b * u.t + t) * u.c + h * hs + d];
            }
            dqkv[u.dqkv_off + (b * u.t + t2) * c3 + 2u * u.c + h * hs + d] = acc;
        }
    }
}
