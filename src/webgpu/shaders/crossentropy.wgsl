// Softmax + mean cross-entropy, forward and backward fused, one workgroup per row (b, t):
//   losses[row] = logsumexp(logits[row]) - logits[row, target]
//   logits[row] <- dlogits[row] = (softmax(logits[row]) - onehot(target)) / rows
// The logits are overwritten by their gradient (training reads them no more); the mean loss is
// summed from `losses` by the caller.

struct Params {
    rows: u32,
    v: u32,
    logits_off: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> targets: array<u32>;       // (rows)
@group(0) @binding(2) var<storage, read_write> logits: array<f32>;  // (rows, V): logits in, dlogits out
@group(0) @binding(3) var<storage, read_write> losses: array<f32>;  // (rows)

const NEG_MAX: f32 = -3.0e38;

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let row = wid.y * nwg.x + wid.x;
    if (row >= u.rows) {
        return;
    }
    let base = u.logits_off + row * u.v;
    let tgt = targets[row];
    var mx = NEG_MAX;
    for (var i = lid; i < u.v; i += WG) {
        mx = max(mx, logits[base + i]);
    }
    mx = workgroup_max(lid, mx);
    var s = 0.0;
    for (var i = lid; i < u.v; i += WG) {
        s += exp(logits[base + i] - mx);
    }
    let target_logit = logits[base + tgt]; // read by every thread before any write below
    let lse = mx + log(workgroup_sum(lid, s));
    // Another thread overwrites logits[base + tgt] below: order the reads above before the writes
    // (workgroupBarrier orders only workgroup memory).
    storageBarrier();
    let scale = 1.0 / f32(u.rows);
    for (var i = lid; i < u.v; i += WG) {
        let p = exp(logits[base + i] - lse);
        logits[base + i] = (p - select(0.0, 1.0, i == tgt)) * scale;
    }
    if (lid == 0u) {
        losses[row] = lse - target_logit;
    }
}
