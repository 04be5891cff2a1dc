// Workgroup reductions of the one-workgroup-per-row shaders (attention, attention_backward_query,
// crossentropy, layernorm, layernorm_backward), prepended to each of them by pipelines.rs (WGSL has
// no include). Every thread of the 64 calls them with its value; all get the total.

const WG: u32 = 64u;
var<workgroup> red: array<f32, 64>;

fn workgroup_sum(lid: u32, v: f32) -> f32 {
    red[lid] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if (lid < s) {
            red[lid] += red[lid + s];
        }
        workgroupBarrier();
    }
    let total = red[0];
    workgroupBarrier();
    return total;
}

fn workgroup_max(lid: u32, v: f32) -> f32 {
    red[lid] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if (lid < s) {
            red[lid] = max(red[lid], red[lid + s]);
        }
        workgroupBarrier();
    }
    let r = red[0];
    workgroupBarrier();
    return r;
}

