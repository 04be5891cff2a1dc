// Tiled matmul in workgroup memory: out (M, N) = A (M, P) · B (P, N) [+ bias (N)] [+= out].
//
// One kernel serves the forward product and both backward products of a linear layer in
// nanoGPT layout (x (M, K), W (N, K)); the uniforms say how A and B sit in memory:
//   forward   y (M, N)     = x (M, K) · Wᵀ + b   A = x    (a_trans 0), B(p, j) = W[j, p] (b_trans 0)
//   dinp      dx (M, K)   += dout (M, N) · W     A = dout (a_trans 0), B(p, j) = W[p, j] (b_trans 1)
//   dweight   dW (N, K)   += doutᵀ · x           A(i, p) = dout[p, i] (a_trans 1), B = x (b_trans 1)
//
// Each workgroup computes a 64×64 output tile with 16×16 threads, 4×4 outputs per thread held
// in registers. The reduction runs in steps of 16: the workgroup stages a 64×16 slice of A and a
// 16×64 slice of B in workgroup memory (256 threads, one vec4 each), then every thread does 16
// rank-1 updates of its 4×4 block from two vec4 reads of workgroup memory.
// A and B are read through vec4 views; when an operand's offset and row stride are multiples of 4
// (a_vec4 / b_vec4) a thread loads its four values with one 16-byte load, otherwise (odd K, odd
// offsets, the ragged edge of the matrix) with four bounds-checked scalar loads. Buffers are
// allocated in multiples of 16 bytes so the vec4 views cover every element.

struct Params {
    m: u32,          // rows of out (and of A)
    n: u32,          // columns of out (and of B)
    p: u32,          // reduction length
    a_off: u32,      // element offsets into the bound buffers
    a_stride: u32,   // elements between consecutive rows of A as stored
    a_trans: u32,    // 0: A(i, p) = a[i * stride + p]; 1: A(i, p) = a[p * stride + i]
    b_off: u32,
    b_stride: u32,
    b_trans: u32,    // 0: B(p, j) = b[j * stride + p]; 1: B(p, j) = b[p * stride + j]
    bias_off: u32,
    has_bias: u32,
    accumulate: u32, // 1: out += A·B (gradients, as llm.c accumulates); 0: out = A·B + bias
    out_off: u32,
    out_stride: u32,
    a_vec4: u32,     // 1 when a_off and a_stride are multiples of 4
    b_vec4: u32,
}

@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

const TILE: u32 = 64u;  // output tile edge
const TK: u32 = 16u;    // reduction step
const V4: u32 = 16u;    // TILE / 4: vec4s per tile row

// Workgroup tiles, reduction-major: a_tile[p * V4 + i / 4][i % 4] = A(i0 + i, p0 + p).
var<workgroup> a_tile: array<vec4<f32>, 256>; // (TK, TILE / 4)
var<workgroup> b_tile: array<vec4<f32>, 256>; // (TK, TILE / 4)

fn a_at(i: u32, p: u32) -> f32 {
    if (i >= u.m || p >= u.p) {
        return 0.0;
    }
    var idx = u.a_off + i * u.a_stride + p;
    if (u.a_trans != 0u) {
        idx = u.a_off + p * u.a_stride + i;
    }
    return a[idx >> 2u][idx & 3u];
}

fn b_at(p: u32, j: u32) -> f32 {
    if (j >= u.n || p >= u.p) {
        return 0.0;
    }
    var idx = u.b_off + j * u.b_stride + p;
    if (u.b_trans != 0u) {
        idx = u.b_off + p * u.b_stride + j;
    }
    return b[idx >> 2u][idx & 3u];
}

fn load_a_tile(lid: u32, i0: u32, p0: u32) {
    if (u.a_trans == 0u) {
        // Contiguous along p: thread -> row lid / 4, four consecutive p.
        let i = lid >> 2u;
        let pc = (lid & 3u) * 4u;
        let gi = i0 + i;
        let gp = p0 + pc;
        var v: vec4<f32>;
        if (u.a_vec4 != 0u && gi < u.m && gp + 3u < u.p) {
            v = a[(u.a_off + gi * u.a_stride + gp) >> 2u];
        } else {
            v = vec4<f32>(a_at(gi, gp), a_at(gi, gp + 1u), a_at(gi, gp + 2u), a_at(gi, gp + 3u));
        }
        let col = i >> 2u;
        let lane = i & 3u;
        a_tile[(pc + 0u) * V4 + col][lane] = v.x;
        a_tile[(pc + 1u) * V4 + col][lane] = v.y;
        a_tile[(pc + 2u) * V4 + col][lane] = v.z;
        a_tile[(pc + 3u) * V4 + col][lane] = v.w;
    } else {
        // Contiguous along i: thread -> p = lid / 16, four consecutive i, stored as one vec4.
        let p = lid >> 4u;
        let ic = (lid & 15u) * 4u;
        let gp = p0 + p;
        let gi = i0 + ic;
        var v: vec4<f32>;
        if (u.a_vec4 != 0u && gp < u.p && gi + 3u < u.m) {
            v = a[(u.a_off + gp * u.a_stride + gi) >> 2u];
        } else {
            v = vec4<f32>(a_at(gi, gp), a_at(gi + 1u, gp), a_at(gi + 2u, gp), a_at(gi + 3u, gp));
        }
        a_tile[p * V4 + (lid & 15u)] = v;
    }
}

fn load_b_tile(lid: u32, j0: u32, p0: u32) {
    if (u.b_trans == 0u) {
        // Contiguous along p (W (N, K) in the forward product).
        let j = lid >> 2u;
        let pc = (lid & 3u) * 4u;
        let gj = j0 + j;
        let gp = p0 + pc;
        var v: vec4<f32>;
        if (u.b_vec4 != 0u && gj < u.n && gp + 3u < u.p) {
            v = b[(u.b_off + gj * u.b_stride + gp) >> 2u];
        } else {
            v = vec4<f32>(b_at(gp, gj), b_at(gp + 1u, gj), b_at(gp + 2u, gj), b_at(gp + 3u, gj));
        }
        let col = j >> 2u;
        let lane = j & 3u;
        b_tile[(pc + 0u) * V4 + col][lane] = v.x;
        b_tile[(pc + 1u) * V4 + col][lane] = v.y;
        b_tile[(pc + 2u) * V4 + col][lane] = v.z;
        b_tile[(pc + 3u) * V4 + col][lane] = v.w;
    } else {
        // Contiguous along j.
        let p = lid >> 4u;
        let jc = (lid & 15u) * 4u;
        let gp = p0 + p;
        let gj = j0 + jc;
        var v: vec4<f32>;
        if (u.b_vec4 != 0u && gp < u.p && gj + 3u < u.n) {
            v = b[(u.b_off + gp * u.b_stride + gj) >> 2u];
        } else {
            v = vec4<f32>(b_at(gp, gj), b_at(gp, gj + 1u), b_at(gp, gj + 2u), b_at(gp, gj + 3u));
        }
        b_tile[p * V4 + (lid & 15u)] = v;
    }
}

@compute @workgroup_size(16, 16)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid3: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i0 = wid.y * TILE;
    let j0 = wid.x * TILE;
    let tx = lid3.x; // output columns j0 + 4 tx .. + 4
    let ty = lid3.y; // output rows    i0 + 4 ty .. + 4

    var acc: array<vec4<f32>, 4>; // (4 rows, 4 columns), zero-initialised
    for (var p0 = 0u; p0 < u.p; p0 += TK) {
        load_a_tile(lid, i0, p0);
        load_b_tile(lid, j0, p0);
        workgroupBarrier();
        for (var p = 0u; p < TK; p++) {
            let av = a_tile[p * V4 + ty];
            let bv = b_tile[p * V4 + tx];
            acc[0] += av.x * bv;
            acc[1] += av.y * bv;
            acc[2] += av.z * bv;
            acc[3] += av.w * bv;
        }
        workgroupBarrier();
    }

    for (var r = 0u; r < 4u; r++) {
        let i = i0 + ty * 4u + r;
        if (i >= u.m) {
            break;
        }
        for (var c = 0u; c < 4u; c++) {
            let j = j0 + tx * 4u + c;
            if (j >= u.n) {
                break;
            }
            var v = acc[r][c];
            if (u.has_bias != 0u) {
                v += bias[u.bias_off + j];
            }
            let o = u.out_off + i * u.out_stride + j;
            if (u.accumulate != 0u) {
                out[o] += v;
            } else {
                out[o] = v;
            }
        }
    }
}
