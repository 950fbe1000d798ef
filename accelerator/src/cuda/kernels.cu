// Tessera accelerator CUDA kernels, compiled at run time by NVRTC.
//
// Line-for-line ports of src/arith.rs (Shoup and two-word Barrett reduction) and src/table.rs
// (negacyclic Cooley-Tukey forward / Gentleman-Sande inverse NTT over bit-reversed psi powers).
// All values handed in and out are fully reduced, so results equal the CPU's bit for bit.
//
// Layouts:
//   data     rows of n words; row r is reduced modulo modulus index k = r % num_moduli.
//   tw       per modulus k, 4n words at k*4n: [psi_rev | shoup | psi_inv_rev | shoup].
//   nparams  per modulus k, 3 words at 3k: [p, n^{-1} mod p, shoup(n^{-1})].
//   mparams  per modulus k, 3 words at 3k: [q, floor(2^128/q) low word, high word].

typedef unsigned long long u64;
typedef unsigned int u32;

__device__ __forceinline__ u64 mul_shoup(u64 a, u64 w, u64 ws, u64 p) {
    u64 quot = __umul64hi(a, ws);
    u64 r = a * w - quot * p;
    return r >= p ? r - p : r;
}

__device__ __forceinline__ u64 add_mod(u64 a, u64 b, u64 p) {
    u64 s = a + b;
    return s >= p ? s - p : s;
}

__device__ __forceinline__ u64 sub_mod(u64 a, u64 b, u64 p) {
    return a >= b ? a - b : a + p - b;
}

// Barrett reduction of hi:lo modulo q with ratio = floor(2^128/q) = r1:r0 (see arith.rs).
__device__ __forceinline__ u64 reduce128(u64 lo, u64 hi, u64 q, u64 r0, u64 r1) {
    u64 carry = __umul64hi(lo, r0);
    u64 t_lo = lo * r1;
    u64 t_hi = __umul64hi(lo, r1);
    u64 tmp1 = t_lo + carry;
    u64 tmp3 = t_hi + (tmp1 < t_lo ? 1ull : 0ull);
    u64 u_lo = hi * r0;
    u64 u_hi = __umul64hi(hi, r0);
    u64 tmp1b = tmp1 + u_lo;
    u64 carry2 = u_hi + (tmp1b < tmp1 ? 1ull : 0ull);
    u64 quot = hi * r1 + tmp3 + carry2;
    u64 r = lo - quot * q;
    return r >= q ? r - q : r;
}

// hi:lo += a * b
__device__ __forceinline__ void mac128(u64 &lo, u64 &hi, u64 a, u64 b) {
    u64 plo = a * b;
    u64 phi = __umul64hi(a, b);
    lo += plo;
    hi += phi + (lo < plo ? 1ull : 0ull);
}

// ---------------------------------------------------------------------------------------------
// NTT. A stage has m = 2^m_log groups of butterflies at distance t = n/(2m) = 2^log_t; butterfly
// j of a row touches idx1 = 2*t*(j / t) + j % t and idx1 + t with twiddle index m + j / t.

// One forward (Cooley-Tukey) stage over global memory; one thread per butterfly.
extern "C" __global__ void ntt_fwd_stage(u64 *data, const u64 *tw, const u64 *nparams,
                                         u32 log_n, u32 num_moduli, u64 rows, u32 log_t) {
    u64 half = 1ull << (log_n - 1);
    u64 tid = (u64)blockIdx.x * blockDim.x + threadIdx.x;
    if (tid >= rows * half) return;
    u64 n = 1ull << log_n;
    u64 row = tid >> (log_n - 1);
    u64 j = tid & (half - 1);
    u32 k = (u32)(row % num_moduli);
    u64 m = n >> (log_t + 1);
    u64 i = j >> log_t;
    u64 idx1 = (i << (log_t + 1)) + (j & ((1ull << log_t) - 1));
    u64 idx2 = idx1 + (1ull << log_t);
    const u64 *twk = tw + (u64)k * 4 * n;
    u64 p = nparams[3 * k];
    u64 *a = data + row * n;
    u64 u = a[idx1];
    u64 v = mul_shoup(a[idx2], twk[m + i], twk[n + m + i], p);
    a[idx1] = add_mod(u, v, p);
    a[idx2] = sub_mod(u, v, p);
}

// The forward stages with 2t <= c = 2^log_c, on one aligned chunk of c words per block held in
// shared memory; blockDim.x = c/2, dynamic shared memory c words.
extern "C" __global__ void ntt_fwd_tail(u64 *data, const u64 *tw, const u64 *nparams,
                                        u32 log_n, u32 num_moduli, u32 log_c) {
    extern __shared__ u64 s[];
    u64 n = 1ull << log_n;
    u64 c = 1ull << log_c;
    u64 chunks_per_row = n >> log_c;
    u64 chunk = blockIdx.x;
    u64 row = chunk / chunks_per_row;
    u64 cidx = chunk % chunks_per_row;
    u32 k = (u32)(row % num_moduli);
    const u64 *twk = tw + (u64)k * 4 * n;
    u64 p = nparams[3 * k];
    u64 *a = data + row * n + cidx * c;
    u32 tid = threadIdx.x;
    u32 hc = (u32)(c >> 1);
    s[tid] = a[tid];
    s[tid + hc] = a[tid + hc];
    __syncthreads();
    for (int log_t = (int)log_c - 1; log_t >= 0; --log_t) {
        u64 m = n >> (log_t + 1);
        u64 i_local = tid >> log_t;
        u64 idx1 = (i_local << (log_t + 1)) + (tid & ((1u << log_t) - 1));
        u64 idx2 = idx1 + (1ull << log_t);
        u64 i = cidx * (c >> (log_t + 1)) + i_local;
        u64 u = s[idx1];
        u64 v = mul_shoup(s[idx2], twk[m + i], twk[n + m + i], p);
        s[idx1] = add_mod(u, v, p);
        s[idx2] = sub_mod(u, v, p);
        __syncthreads();
    }
    a[tid] = s[tid];
    a[tid + hc] = s[tid + hc];
}

// The inverse (Gentleman-Sande) stages with 2t <= c, shared memory as above; multiplies by
// n^{-1} on the way out when `scale` is set (i.e. when these are all the stages).
extern "C" __global__ void ntt_inv_tail(u64 *data, const u64 *tw, const u64 *nparams,
                                        u32 log_n, u32 num_moduli, u32 log_c, u32 scale) {
    extern __shared__ u64 s[];
    u64 n = 1ull << log_n;
    u64 c = 1ull << log_c;
    u64 chunks_per_row = n >> log_c;
    u64 chunk = blockIdx.x;
    u64 row = chunk / chunks_per_row;
    u64 cidx = chunk % chunks_per_row;
    u32 k = (u32)(row % num_moduli);
    const u64 *twk = tw + (u64)k * 4 * n;
    u64 p = nparams[3 * k];
    u64 *a = data + row * n + cidx * c;
    u32 tid = threadIdx.x;
    u32 hc = (u32)(c >> 1);
    s[tid] = a[tid];
    s[tid + hc] = a[tid + hc];
    __syncthreads();
    for (u32 log_t = 0; log_t < log_c; ++log_t) {
        u64 m = n >> (log_t + 1);
        u64 i_local = tid >> log_t;
        u64 idx1 = (i_local << (log_t + 1)) + (tid & ((1u << log_t) - 1));
        u64 idx2 = idx1 + (1ull << log_t);
        u64 i = cidx * (c >> (log_t + 1)) + i_local;
        u64 u = s[idx1];
        u64 v = s[idx2];
        s[idx1] = add_mod(u, v, p);
        s[idx2] = mul_shoup(sub_mod(u, v, p), twk[2 * n + m + i], twk[3 * n + m + i], p);
        __syncthreads();
    }
    u64 x0 = s[tid];
    u64 x1 = s[tid + hc];
    if (scale) {
        u64 ni = nparams[3 * k + 1];
        u64 nis = nparams[3 * k + 2];
        x0 = mul_shoup(x0, ni, nis, p);
        x1 = mul_shoup(x1, ni, nis, p);
    }
    a[tid] = x0;
    a[tid + hc] = x1;
}

// One inverse stage over global memory; scales by n^{-1} when `scale` is set (the last stage).
extern "C" __global__ void ntt_inv_stage(u64 *data, const u64 *tw, const u64 *nparams,
                                         u32 log_n, u32 num_moduli, u64 rows, u32 log_t,
                                         u32 scale) {
    u64 half = 1ull << (log_n - 1);
    u64 tid = (u64)blockIdx.x * blockDim.x + threadIdx.x;
    if (tid >= rows * half) return;
    u64 n = 1ull << log_n;
    u64 row = tid >> (log_n - 1);
    u64 j = tid & (half - 1);
    u32 k = (u32)(row % num_moduli);
    u64 m = n >> (log_t + 1);
    u64 i = j >> log_t;
    u64 idx1 = (i << (log_t + 1)) + (j & ((1ull << log_t) - 1));
    u64 idx2 = idx1 + (1ull << log_t);
    const u64 *twk = tw + (u64)k * 4 * n;
    u64 p = nparams[3 * k];
    u64 *a = data + row * n;
    u64 u = a[idx1];
    u64 v = a[idx2];
    u64 x0 = add_mod(u, v, p);
    u64 x1 = mul_shoup(sub_mod(u, v, p), twk[2 * n + m + i], twk[3 * n + m + i], p);
    if (scale) {
        u64 ni = nparams[3 * k + 1];
        u64 nis = nparams[3 * k + 2];
        x0 = mul_shoup(x0, ni, nis, p);
        x1 = mul_shoup(x1, ni, nis, p);
    }
    a[idx1] = x0;
    a[idx2] = x1;
}

// ---------------------------------------------------------------------------------------------
// Pointwise kernels: grid-stride loops over len words; op 0 add, 1 sub, 2 mul, 3 multiply-add
// into out.
extern "C" __global__ void pointwise(u64 *out, const u64 *a, const u64 *b, const u64 *mparams,
                                     u64 len, u64 row_len, u32 num_moduli, u32 op) {
    u64 stride = (u64)gridDim.x * blockDim.x;
    for (u64 idx = (u64)blockIdx.x * blockDim.x + threadIdx.x; idx < len; idx += stride) {
        u32 k = (u32)((idx / row_len) % num_moduli);
        u64 q = mparams[3 * k];
        u64 x = a[idx];
        u64 y = b[idx];
        u64 r;
        if (op == 0) {
            r = add_mod(x, y, q);
        } else if (op == 1) {
            r = sub_mod(x, y, q);
        } else if (op == 2) {
            r = reduce128(x * y, __umul64hi(x, y), q, mparams[3 * k + 1], mparams[3 * k + 2]);
        } else {
            u64 lo = out[idx];
            u64 hi = 0;
            mac128(lo, hi, x, y);
            r = reduce128(lo, hi, q, mparams[3 * k + 1], mparams[3 * k + 2]);
        }
        out[idx] = r;
    }
}

// ---------------------------------------------------------------------------------------------
// Matrix kernels modulo one q (m = [q, r0, r1]). Partial sums reduce every 8 products, as on
// the CPU: 8 products below 2^124 plus a residue below 2^62 fit in 128 bits.

// out[r] = sum_c M[r][c] v[c]: one warp per row, lanes stride over columns, then a shuffle tree.
extern "C" __global__ void matvec(u64 *out, const u64 *mat, const u64 *vec, const u64 *mq,
                                  u64 rows, u64 cols) {
    u64 warp = ((u64)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    u32 lane = threadIdx.x & 31;
    if (warp >= rows) return;  // whole warps exit together: blockDim.x is a multiple of 32
    u64 q = mq[0], r0 = mq[1], r1 = mq[2];
    const u64 *row = mat + warp * cols;
    u64 acc = 0;
    u64 lo = 0, hi = 0;
    u32 pending = 0;
    for (u64 c = lane; c < cols; c += 32) {
        mac128(lo, hi, row[c], vec[c]);
        if (++pending == 8) {
            acc = reduce128(lo, hi, q, r0, r1);
            lo = acc;
            hi = 0;
            pending = 0;
        }
    }
    acc = reduce128(lo, hi, q, r0, r1);
    for (int off = 16; off > 0; off >>= 1) {
        u64 other = __shfl_down_sync(0xffffffffu, acc, off);
        acc = add_mod(acc, other, q);
    }
    if (lane == 0) out[warp] = acc;
}

#define TILE 16

// out = A (m x k) * B (k x n): 16x16 tiles through shared memory, one output word per thread.
extern "C" __global__ void matmul(u64 *out, const u64 *a, const u64 *b, const u64 *mq,
                                  u64 m, u64 k, u64 n) {
    __shared__ u64 ta[TILE][TILE];
    __shared__ u64 tb[TILE][TILE];
    u64 q = mq[0], r0 = mq[1], r1 = mq[2];
    u64 row = (u64)blockIdx.y * TILE + threadIdx.y;
    u64 col = (u64)blockIdx.x * TILE + threadIdx.x;
    u64 lo = 0, hi = 0;
    for (u64 t0 = 0; t0 < k; t0 += TILE) {
        u64 ka = t0 + threadIdx.x;
        u64 kb = t0 + threadIdx.y;
        ta[threadIdx.y][threadIdx.x] = (row < m && ka < k) ? a[row * k + ka] : 0;
        tb[threadIdx.y][threadIdx.x] = (kb < k && col < n) ? b[kb * n + col] : 0;
        __syncthreads();
        for (int h = 0; h < TILE; h += 8) {
            for (int e = h; e < h + 8; ++e) mac128(lo, hi, ta[threadIdx.y][e], tb[e][threadIdx.x]);
            lo = reduce128(lo, hi, q, r0, r1);
            hi = 0;
        }
        __syncthreads();
    }
    if (row < m && col < n) out[row * n + col] = reduce128(lo, hi, q, r0, r1);
}
