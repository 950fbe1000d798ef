// Shims that let CUDA C kernels compile and run as host C++ (see harness.cpp).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>
#include <thread>
#include <barrier>
#include <memory>
struct dim3 { unsigned x=1, y=1, z=1; };
thread_local dim3 threadIdx, blockIdx;
dim3 blockDim, gridDim;
thread_local std::barrier<> *g_block_barrier;
thread_local std::barrier<> *g_warp_barrier;
thread_local unsigned long long *g_warp_slots;
unsigned long long g_dyn_shared[8192];
#define __global__
#define __device__
#define __forceinline__ inline
inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
  return (unsigned long long)(((unsigned __int128)a * b) >> 64);
}
inline void __syncthreads() { g_block_barrier->arrive_and_wait(); }
inline unsigned long long __shfl_down_sync(unsigned, unsigned long long v, int off) {
  unsigned lane = (threadIdx.y * blockDim.x + threadIdx.x) & 31;
  g_warp_slots[lane] = v;
  g_warp_barrier->arrive_and_wait();
  unsigned long long r = (lane + off < 32) ? g_warp_slots[lane + off] : v;
  g_warp_barrier->arrive_and_wait();
  return r;
}
