// dbias (N) += Σ_m dout (M, N): the bias gradient of a linear layer.
//
// A workgroup owns 64 columns and 4 row lanes: thread (c, r) sums rows r, r + 4, r + 8, ... of
// column c (neighbouring threads read neighbouring columns, so every load is coalesced), then the
// four partial sums of a column are added in workgroup memory and written once.

struct Params {
    m: u32,
    n: u32,
    dout_off: u32,
    dbias_off: u32,
}

@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> dout: array<f32>;        // (M, N)
@group(0) @binding(2) var<storage, read_write> dbias: array<f32>;  // (N)

var<workgroup> partial: array<f32, 256>; // (4 row lanes, 64 columns)

@compute @workgroup_size(64, 4)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let col = wid.x * 64u + lid.x;
    var sum = 0.0;
    if (col < u.n) {
        for (var row = lid.y; row < u.m; row += 4u) {
            sum += dout[u.dout_off + row * u.n + col];
        }
    }
    partial[lid.y * 64u + lid.x] = sum;
    workgroupBarrier();
    if (lid.y == 0u && col < u.n) {
        let total = partial[lid.x] + partial[64u + lid.x] + partial[128u + lid.x] + partial[192u + lid.x];
        dbias[u.dbias_off + col] += total;
    }
}
