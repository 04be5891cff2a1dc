// LayerNorm backward, the weight and bias gradients, summed over rows:
//   dweight[c] += Σ_rows dout[row, c] · norm[row, c],   dbias[c] += Σ_rows dout[row, c]
// A workgroup owns 64 channels and 4 row lanes (as matmul_dbias.wgsl): thread (c, r) sums rows
// r, r + 4, ... of channel c, coalesced across c; the four lanes meet in workgroup memory.

struct Params {
    rows: u32,
    c: u32,
    dout_off: u32,
    inp_off: u32,
    dw_off: u32,   // into grads
    db_off: u32,   // into grads
    stat_off: u32, // into mean and rstd
    _pad: u32,
}

@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read> inp: array<f32>;
@group(0) @binding(3) var<storage, read> mean: array<f32>;
@group(0) @binding(4) var<storage, read> rstd: array<f32>;
@group(0) @binding(5) var<storage, read_write> grads: array<f32>;

var<workgroup> pw: array<f32, 256>;
var<workgroup> pb: array<f32, 256>;

@compute @workgroup_size(64, 4)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let ch = wid.x * 64u + lid.x;
    var sw = 0.0;
    var sb = 0.0;
    if (ch < u.c) {
        for (var row = lid.y; row < u.rows; row += 4u) {
            let norm = (inp[u.inp_off + row * u.c + ch] - mean[u.stat_off + row]) * rstd[u.stat_off + row];
            let g = dout[u.dout_off + row * u.c + ch];
            sw += g * norm;
            sb += g;
        }
    }
    pw[lid.y * 64u + lid.x] = sw;
    pb[lid.y * 64u + lid.x] = sb;
    workgroupBarrier();
    if (lid.y == 0u && ch < u.c) {
        grads[u.dw_off + ch] += pw[lid.x] + pw[64u + lid.x] + pw[128u + lid.x] + pw[192u + lid.x];
        grads[u.db_off + ch] += pb[lid.x] + pb[64u + lid.x] + pb[128u + lid.x] + pb[192u + lid.x];
    }
}
