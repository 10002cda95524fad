#pragma once
// The per-element update rules of the SGD family on the device, each one fused kernel over the
// parameter's diff and the solver's history. Every kernel evaluates its rule in exactly the order
// and precision of the CPU code in src/solvers/*.cpp (products and sums rounded one at a time, no
// fused multiply-add), so a GPU run follows a CPU run to the last bits the math library allows.
// On return, `diff` holds the step that Blob::Update subtracts.
#ifdef MOKA_CUDA

namespace moka {

/// v = local_rate * g + momentum * v;  g = v.
template <typename Dtype>
void SgdUpdateGpu(int n, Dtype* diff, Dtype* velocity, Dtype momentum, Dtype local_rate);

/// v' = local_rate * g + momentum * v;  g = (1 + momentum) * v' - momentum * v.
template <typename Dtype>
void NesterovUpdateGpu(int n, Dtype* diff, Dtype* velocity, Dtype momentum, Dtype local_rate);

/// h += g^2;  g = local_rate * (g / (sqrt(h) + delta)).
template <typename Dtype>
void AdaGradUpdateGpu(int n, Dtype* diff, Dtype* history, Dtype delta, Dtype local_rate);

/// h = (1 - decay) * g^2 + decay * h;  g = local_rate * (g / (sqrt(h) + delta)).
template <typename Dtype>
void RmsPropUpdateGpu(int n, Dtype* diff, Dtype* history, Dtype rms_decay, Dtype delta,
                      Dtype local_rate);

/// h = (1 - rho) * g^2 + rho * h;  u = g * sqrt((delta + h2) / (delta + h));
/// h2 = (1 - rho) * u^2 + rho * h2;  g = local_rate * u.
template <typename Dtype>
void AdaDeltaUpdateGpu(int n, Dtype* diff, Dtype* history, Dtype* update_history, Dtype rho,
                       Dtype delta, Dtype local_rate);

/// m = (1 - beta1) * g + beta1 * m;  v = (1 - beta2) * g^2 + beta2 * v;
/// g = corrected_rate * (m / (sqrt(v) + epsilon)).
template <typename Dtype>
void AdamUpdateGpu(int n, Dtype* diff, Dtype* m, Dtype* v, Dtype beta1, Dtype beta2, Dtype epsilon,
                   Dtype corrected_rate);

}  // namespace moka

#endif  // MOKA_CUDA
