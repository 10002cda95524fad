/* The machine's practical single-precision ceiling for the CPU benchmark: OpenBLAS sgemm on a
 * large square product, on the threads OPENBLAS_NUM_THREADS gives it. Prints `sgemm_gflops X`
 * (best of the timed repetitions; a multiply-add counts as 2 operations). */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

int main(int argc, char** argv) {
  const int n = argc > 1 ? atoi(argv[1]) : 2048;
  const int repetitions = argc > 2 ? atoi(argv[2]) : 5;
  float* a = malloc(sizeof(float) * n * n);
  float* b = malloc(sizeof(float) * n * n);
  float* c = malloc(sizeof(float) * n * n);
  if (!a || !b || !c) return 1;
  for (long i = 0; i < (long)n * n; ++i) {
    a[i] = (float)((i * 7) % 13) / 13.0f;
    b[i] = (float)((i * 5) % 11) / 11.0f;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
  double best = 1e30;
  for (int r = 0; r < repetitions; ++r) {
    const double start = now_seconds();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
    const double elapsed = now_seconds() - start;
    if (elapsed < best) best = elapsed;
  }
  printf("sgemm_gflops %.3f\n", 2.0 * n * n * (double)n / best / 1e9);
  free(a);
  free(b);
  free(c);
  return 0;
}
