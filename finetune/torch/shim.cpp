//go:build torch

// The few libtorch entry points gotch v0.9.1 does not wrap (seeding the default CPU generator, sizing the
// intra-op thread pool) or wraps wrongly: its generated atg_scaled_dot_product_attention passes a missing
// attention mask as an undefined tensor inside a present optional, which libtorch 2.1 rejects. Tensor
// handles are gotch's (a heap-allocated at::Tensor), so results can be freed with at_free. Compiled by cgo with the include paths from scripts/libtorch.sh's CGO_CXXFLAGS.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>
#include <cmath>
#include <cstring>
#include <exception>
#include <vector>

#include "shim.h"

extern "C" {

char *yst_manual_seed(int64_t seed) {
  try {
    at::manual_seed(static_cast<uint64_t>(seed));
  } catch (const std::exception &e) {
    return strdup(e.what());
  }
  return nullptr;
}

char *yst_set_num_threads(int n) {
  try {
    at::set_num_threads(n);
  } catch (const std::exception &e) {
    return strdup(e.what());
  }
  return nullptr;
}

int yst_get_num_threads() { return at::get_num_threads(); }

char *yst_sdpa(void **out, void *q, void *k, void *v, void *mask, int causal) {
  try {
    c10::optional<at::Tensor> m;
    if (mask != nullptr) m = *static_cast<at::Tensor *>(mask);
    auto r = at::scaled_dot_product_attention(*static_cast<at::Tensor *>(q), *static_cast<at::Tensor *>(k),
                                              *static_cast<at::Tensor *>(v), m, 0.0, causal != 0);
    *out = new at::Tensor(std::move(r));
  } catch (const std::exception &e) {
    return strdup(e.what());
  }
  return nullptr;
}

// AdamW over n parameters, exactly torch.optim.AdamW's single-tensor update (amsgrad off), then zeroes
// the gradients. Parameters without a gradient are skipped. Weight decay applies to every parameter, or
// only to those with 2+ dimensions when decay_matrices_only is set.
char *yst_adamw_step(void **params, void **exp_avg, void **exp_avg_sq, int n, double lr, double beta1,
                     double beta2, double eps, double weight_decay, int64_t step, int decay_matrices_only) {
  try {
    c10::NoGradGuard no_grad;
    const double bc1 = 1 - std::pow(beta1, double(step));
    const double bc2_sqrt = std::sqrt(1 - std::pow(beta2, double(step)));
    const double step_size = lr / bc1;
    for (int i = 0; i < n; i++) {
      at::Tensor &p = *static_cast<at::Tensor *>(params[i]);
      at::Tensor g = p.grad();
      if (!g.defined()) continue;
      at::Tensor &m = *static_cast<at::Tensor *>(exp_avg[i]);
      at::Tensor &v = *static_cast<at::Tensor *>(exp_avg_sq[i]);
      if (weight_decay != 0 && (!decay_matrices_only || p.dim() >= 2)) p.mul_(1 - lr * weight_decay);
      m.lerp_(g, 1 - beta1);
      v.mul_(beta2).addcmul_(g, g, 1 - beta2);
      at::Tensor denom = (v.sqrt() / bc2_sqrt).add_(eps);
      p.addcdiv_(m, denom, -step_size);
      g.zero_();
    }
  } catch (const std::exception &e) {
    return strdup(e.what());
  }
  return nullptr;
}

// clip_grad_norm_(max_norm) over n parameters' gradients (L2): *total receives the norm before clipping;
// gradients are scaled by max_norm/(total+1e-6) when that is below 1 (max_norm <= 0: only measure).
char *yst_clip_grad_norm(void **params, int n, double max_norm, double *total) {
  try {
    c10::NoGradGuard no_grad;
    std::vector<at::Tensor> grads, norms;
    for (int i = 0; i < n; i++) {
      at::Tensor g = static_cast<at::Tensor *>(params[i])->grad();
      if (!g.defined()) continue;
      norms.push_back(at::linalg_vector_norm(g, 2));
      grads.push_back(g);
    }
    *total = 0;
    if (norms.empty()) return nullptr;
    *total = at::linalg_vector_norm(at::stack(norms), 2).item<double>();
    if (max_norm > 0) {
      double coef = max_norm / (*total + 1e-6);
      if (coef < 1)
        for (auto &g : grads) g.mul_(coef);
    }
  } catch (const std::exception &e) {
    return strdup(e.what());
  }
  return nullptr;
}

}  // extern "C"
