// Host emulation of src/cuda/kernels.cu: runs the CUDA C kernels as C++ on the CPU (one real
// thread per CUDA thread, std::barrier for __syncthreads and warp shuffles) with the same launch
// plan as src/cuda/mod.rs, and checks NTT round trips, negacyclic convolution against
// schoolbook, pointwise ops, matvec and matmul against plain u128 references.
//
// Why: it tests the kernels' index arithmetic and reductions on machines without a GPU. It does
// not test NVRTC compilation, PTX loading or device timing; tests/cuda_backend.rs does that
// where a device exists. Run: accelerator/emulation/run.sh (needs g++ with C++20; ~3 min).
#include "prelude.h"
#include "kernels_host.inc"
#include <functional>
typedef unsigned __int128 u128;

// Launch: run every block in turn; each block's threads as real threads (for barriers).
template <class F> void launch(dim3 grid, dim3 block, F f) {
  gridDim = grid; blockDim = block;
  unsigned nthreads = block.x * block.y;
  for (unsigned by = 0; by < grid.y; ++by)
    for (unsigned bx = 0; bx < grid.x; ++bx) {
      std::barrier<> bar(nthreads);
      unsigned nwarps = (nthreads + 31) / 32;
      std::vector<std::unique_ptr<std::barrier<>>> wb;
      for (unsigned w = 0; w < nwarps; ++w) wb.emplace_back(new std::barrier<>(std::min(32u, nthreads - 32 * w)));
      std::vector<unsigned long long> slots(32 * nwarps);
      std::vector<std::thread> ts;
      for (unsigned ty = 0; ty < block.y; ++ty)
        for (unsigned tx = 0; tx < block.x; ++tx)
          ts.emplace_back([&, tx, ty] {
            threadIdx.x = tx; threadIdx.y = ty; blockIdx.x = bx; blockIdx.y = by;
            unsigned lin = ty * block.x + tx;
            g_block_barrier = &bar; g_warp_barrier = wb[lin / 32].get(); g_warp_slots = &slots[32 * (lin / 32)];
            f();
          });
      for (auto &t : ts) t.join();
    }
}

static u64 mulmod(u64 a, u64 b, u64 q) { return (u64)((u128)a * b % q); }
static u64 powmod(u64 a, u64 e, u64 q) { u64 r = 1 % q; a %= q; while (e) { if (e & 1) r = mulmod(r, a, q); a = mulmod(a, a, q); e >>= 1; } return r; }
static bool isprime(u64 n) { if (n < 2) return false; for (u64 d = 2; d < 100000 && d * d <= n; ++d) if (n % d == 0) return false;
  // MR
  u64 d = n - 1; int s = 0; while (!(d & 1)) { d >>= 1; ++s; }
  for (u64 a : {2ull, 325ull, 9375ull, 28178ull, 450775ull, 9780504ull, 1795265022ull}) { a %= n; if (!a) continue; u64 x = powmod(a, d, n); if (x == 1 || x == n - 1) continue; bool ok = false; for (int i = 1; i < s; ++i) { x = mulmod(x, x, n); if (x == n - 1) { ok = true; break; } } if (!ok) return false; }
  return true; }
static u64 shoupc(u64 w, u64 q) { return (u64)(((u128)w << 64) / q); }
static unsigned bitrev(unsigned i, unsigned logn) { unsigned r = 0; for (unsigned b = 0; b < logn; ++b) if (i >> b & 1) r |= 1u << (logn - 1 - b); return r; }

struct Tables { std::vector<u64> tw, np; };
static Tables make_tables(const std::vector<u64> &ps, unsigned logn) {
  u64 n = 1ull << logn; Tables t;
  for (u64 p : ps) {
    u64 psi = 0;
    for (u64 g = 2;; ++g) { psi = powmod(g, (p - 1) / (2 * n), p); if (powmod(psi, n, p) == p - 1) break; }
    u64 ipsi = powmod(psi, p - 2, p);
    std::vector<u64> f(n), fi(n); u64 pw = 1, ipw = 1;
    for (u64 i = 0; i < n; ++i) { f[bitrev(i, logn)] = pw; fi[bitrev(i, logn)] = ipw; pw = mulmod(pw, psi, p); ipw = mulmod(ipw, ipsi, p); }
    for (u64 x : f) t.tw.push_back(x);
    for (u64 x : f) t.tw.push_back(shoupc(x, p));
    for (u64 x : fi) t.tw.push_back(x);
    for (u64 x : fi) t.tw.push_back(shoupc(x, p));
    u64 ni = powmod(n % p, p - 2, p);
    t.np.push_back(p); t.np.push_back(ni); t.np.push_back(shoupc(ni, p));
  }
  return t;
}

// Mirror of CudaBackend::transform.
static void transform(std::vector<u64> &data, unsigned logn, const std::vector<u64> &ps, bool fwd, unsigned LOG_CHUNK) {
  Tables t = make_tables(ps, logn);
  u64 n = 1ull << logn; u64 rows = data.size() / n; unsigned logc = std::min(logn, LOG_CHUNK);
  u32 nm = ps.size(); unsigned BLOCK = 256;
  dim3 sg; sg.x = (unsigned)((rows * (n / 2) + BLOCK - 1) / BLOCK); dim3 sb; sb.x = BLOCK;
  dim3 tg; tg.x = (unsigned)(rows * (n >> logc)); dim3 tb; tb.x = 1u << (logc - 1);
  u64 *d = data.data(); const u64 *tw = t.tw.data(), *np = t.np.data();
  if (fwd) {
    for (int lt = (int)logn - 1; lt >= (int)logc; --lt) launch(sg, sb, [&] { ntt_fwd_stage(d, tw, np, logn, nm, rows, (u32)lt); });
    launch(tg, tb, [&] { ntt_fwd_tail(d, tw, np, logn, nm, logc); });
  } else {
    u32 sc = logc == logn;
    launch(tg, tb, [&] { ntt_inv_tail(d, tw, np, logn, nm, logc, sc); });
    for (unsigned lt = logc; lt < logn; ++lt) { u32 s2 = lt == logn - 1; launch(sg, sb, [&] { ntt_inv_stage(d, tw, np, logn, nm, rows, lt, s2); }); }
  }
}

static uint64_t rs = 12345;
static u64 rnd() { rs = rs * 6364136223846793005ull + 1442695040888963407ull; u64 z = rs; z ^= z >> 29; return z * 0xbf58476d1ce4e5b9ull ^ (z >> 32); }

static std::vector<u64> mparams(const std::vector<u64> &qs) { std::vector<u64> m; for (u64 q : qs) { u128 r = ~(u128)0 / q; m.push_back(q); m.push_back((u64)r); m.push_back((u64)(r >> 64)); } return m; }

int main() {
  int fails = 0;
  // NTT: roundtrip and negacyclic convolution vs schoolbook, sizes spanning chunk boundary.
  for (unsigned LOG_CHUNK : {11u, 5u}) for (unsigned logn : {4u, 5u, 10u, 11u, 12u, 13u}) {
    u64 n = 1ull << logn;
    std::vector<u64> ps;
    for (int bits : {62, 50, 36}) { u64 step = 2 * n; u64 c = ((1ull << bits) - 1) / step * step + 1; if (c >= (1ull << bits)) c -= step; while (!isprime(c)) c -= step; ps.push_back(c); }
    if (LOG_CHUNK == 5 && logn > 11) continue;
    u64 rows = 4;
    std::vector<u64> a(rows * n), b(rows * n);
    for (u64 i = 0; i < rows * n; ++i) { u64 q = ps[(i / n) % ps.size()]; a[i] = 1 + rnd() % (q - 1); b[i] = 1 + rnd() % (q - 1); }
    auto A = a, B = b;
    transform(A, logn, ps, true, LOG_CHUNK);
    auto A2 = A; transform(A2, logn, ps, false, LOG_CHUNK);
    if (A2 != a) { printf("roundtrip FAIL logn=%u chunk=%u\n", logn, LOG_CHUNK); ++fails; }
    transform(B, logn, ps, true, LOG_CHUNK);
    // pointwise mul via kernel op 2
    std::vector<u64> C(rows * n); auto mp = mparams(ps);
    dim3 g; g.x = 4; dim3 bl; bl.x = 64;
    launch(g, bl, [&] { pointwise(C.data(), A.data(), B.data(), mp.data(), rows * n, n, (u32)ps.size(), 2); });
    transform(C, logn, ps, false, LOG_CHUNK);
    for (u64 r = 0; r < rows; ++r) {
      u64 q = ps[r % ps.size()];
      for (u64 k = 0; k < n; ++k) {
        u128 acc = 0;
        for (u64 i = 0; i < n; ++i) { u64 j = (k + n - i) % n; u64 p = mulmod(a[r * n + i], b[r * n + j], q); acc = i <= k ? (acc + p) % q : (acc + q - p) % q; }
        if (C[r * n + k] != (u64)acc) { printf("conv FAIL logn=%u chunk=%u r=%llu k=%llu\n", logn, LOG_CHUNK, r, k); ++fails; goto next; }
      }
    }
    next:
    printf("ntt logn=%u chunk=%u done\n", logn, LOG_CHUNK);
  }
  // Pointwise ops.
  {
    std::vector<u64> qs = {(1ull << 62) - 57, 3, 1ull << 40, (1ull << 61) + 12345};
    u64 rowlen = 33, rows = 9, len = rows * rowlen; auto mp = mparams(qs);
    std::vector<u64> a(len), b(len), acc(len), out(len);
    for (u64 i = 0; i < len; ++i) { u64 q = qs[(i / rowlen) % qs.size()]; a[i] = 1 + rnd() % (q - 1); b[i] = 1 + rnd() % (q - 1); acc[i] = 1 + rnd() % (q - 1); }
    for (u32 op = 0; op < 4; ++op) {
      out = acc;
      dim3 g; g.x = 2; dim3 bl; bl.x = 32;
      launch(g, bl, [&] { pointwise(out.data(), a.data(), b.data(), mp.data(), len, rowlen, (u32)qs.size(), op); });
      for (u64 i = 0; i < len; ++i) { u64 q = qs[(i / rowlen) % qs.size()]; u64 e;
        if (op == 0) e = (u64)(((u128)a[i] + b[i]) % q); else if (op == 1) e = (u64)(((u128)a[i] + q - b[i]) % q); else if (op == 2) e = mulmod(a[i], b[i], q); else e = (u64)(((u128)acc[i] + mulmod(a[i], b[i], q)) % q);
        if (out[i] != e) { printf("pointwise FAIL op=%u i=%llu\n", op, i); ++fails; break; } }
    }
    printf("pointwise done\n");
  }
  // matvec and matmul.
  for (u64 q : {(1ull << 62) - 57, 65537ull, 2ull}) for (bool edge : {false, true}) {
    u64 rows = 37, cols = 53; std::vector<u64> m(rows * cols), v(cols), o(rows);
    for (auto &x : m) x = edge ? q - 1 : rnd() % q;
    for (auto &x : v) x = edge ? q - 1 : rnd() % q;
    std::vector<u64> mq = mparams({q});
    dim3 g; g.x = (unsigned)((rows + 7) / 8); dim3 bl; bl.x = 256;
    launch(g, bl, [&] { matvec(o.data(), m.data(), v.data(), mq.data(), rows, cols); });
    for (u64 r = 0; r < rows; ++r) { u128 s = 0; for (u64 c = 0; c < cols; ++c) s = (s + mulmod(m[r * cols + c], v[c], q)) % q; if (o[r] != (u64)s) { printf("matvec FAIL q=%llu r=%llu\n", q, r); ++fails; break; } }
    u64 M = 37, K = 53, N = 29; std::vector<u64> A(M * K), B(K * N), C(M * N);
    for (auto &x : A) x = edge ? q - 1 : rnd() % q;
    for (auto &x : B) x = edge ? q - 1 : rnd() % q;
    dim3 g2; g2.x = (unsigned)((N + 15) / 16); g2.y = (unsigned)((M + 15) / 16); dim3 b2; b2.x = 16; b2.y = 16;
    launch(g2, b2, [&] { matmul(C.data(), A.data(), B.data(), mq.data(), M, K, N); });
    for (u64 i = 0; i < M; ++i) for (u64 j = 0; j < N; ++j) { u128 s = 0; for (u64 k = 0; k < K; ++k) s = (s + mulmod(A[i * K + k], B[k * N + j], q)) % q; if (C[i * N + j] != (u64)s) { printf("matmul FAIL q=%llu (%llu,%llu)\n", q, i, j); ++fails; goto mdone; } }
    mdone:;
  }
  printf("matrix done\n");
  printf(fails ? "FAILURES: %d\n" : "ALL OK\n", fails);
  return fails != 0;
}
