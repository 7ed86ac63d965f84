// Single-thread speed of the repacked quantized matvec (T = 1) on DRAM-resident weights (~70-130 MB per type),
// next to a plain read pass: shows whether decode kernels keep up with memory. Build and run from the repo root:
//   S=Sources/CPhiKernels; clang -O3 -I$S/include tools/quant/stream_bench.c $S/cpu.c $S/quant.c $S/quant_repack.c \
//     $S/quant_avx512.c $S/quant_avx2.c $S/quant_neon.c $S/pool.c -lpthread -lm -o /tmp/stream_bench && /tmp/stream_bench
#include "CPhiKernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(int argc,char**argv){
  int types[]={2,8,12,14}; const char*names[]={"Q4_0","Q8_0","Q4_K","Q6_K"};
  int64_t K=3072,N=40960,T=1;
  void*big=malloc(1<<30); memset(big,1,1<<30);
  double bwbest=1e9; for(int r=0;r<5;r++){double t0=now(); volatile uint64_t s=phi_read_pass(big,1<<30); (void)s; double dt=now()-t0; if(dt<bwbest)bwbest=dt;}
  printf("read pass: %.1f GB/s\n",(1<<30)/bwbest/1e9);
  for(int ti=0;ti<4;ti++){int w=types[ti];
    int64_t rb=K/phi_quant_block_elements(w)*phi_quant_block_bytes(w);
    float*wf=malloc(4*K*16); void*W=malloc(N*rb);
    for(int64_t n=0;n<N;n+=16){ for(int64_t i=0;i<16*K;i++) wf[i]=(float)(((i+n)*2654435761u)%1000)/1000.f-0.5f; phi_quantize_ref(w,wf,(char*)W+n*rb,16*K);}
    int64_t pb=phi_quant_repacked_bytes(w,N,K); void*Wr=aligned_alloc(64,(pb+63)/64*64); phi_quant_repack(w,W,N,K,Wr,0,N); free(W);
    float*x=malloc(4*T*K); for(int64_t i=0;i<T*K;i++) x[i]=(float)((i*40503u)%997)/997.f-0.5f;
    int64_t ar=phi_quant_activation_row_bytes(w,K); void*xq=aligned_alloc(64,(T*ar+63)/64*64);
    phi_quantize_activations(w,x,K,T,K,xq,ar);
    float*y=malloc(4*T*N); double best=1e9;
    for(int r=0;r<10;r++){ phi_read_pass(big,1<<28); double t0=now(); phi_gemm_q_repacked(w,xq,ar,T,K,Wr,y,N,0,N); double dt=now()-t0; if(dt<best)best=dt;}
    printf("%s T=1 DRAM: %.1f GB/s (%.0f MB)\n",names[ti],pb/best/1e9,pb/1e6);
    free(Wr);
  }
}
